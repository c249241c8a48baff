import type { VersionListItem } from '../../preload/contract/index.js';

/** A version select whose options say each version's status, so "active" is one glance away. */
export function VersionPicker({
  versions,
  value,
  onChange,
  label,
  testId,
}: {
  versions: VersionListItem[];
  value: number | null;
  onChange: (v: number) => void;
  label: string;
  testId: string;
}) {
  return (
    <label className="inline-label">
      {label}
      <select className="input" value={value ?? ''} onChange={(e) => onChange(Number(e.target.value))} data-testid={testId}>
        {value === null ? <option value="">—</option> : null}
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            v{v.version} · {v.status}
          </option>
        ))}
      </select>
    </label>
  );
}
