export interface FilterOption {
  value: string;
  label: string;
}

interface FilterSelectProps {
  /** The accessible name (visually hidden: the "All …" option says what the filter is). */
  label: string;
  allLabel: string;
  value: string;
  options: readonly FilterOption[];
  onChange: (value: string) => void;
  testId: string;
}

/** A list filter: "All …" or one value. */
export function FilterSelect({ label, allLabel, value, options, onChange, testId }: FilterSelectProps) {
  return (
    <label>
      <span className="sr-only">{label}</span>
      <select className="input" value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">{allLabel}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
