interface TimeFilterProps {
  /** "From" or "Until": the field's name. */
  label: string;
  /** ISO time, or '' for none. */
  value: string;
  onCommit: (iso: string) => void;
  testId: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO time as a `datetime-local` value: the operator's own clock, to the minute. */
function toLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One end of the audit log's time range, in local time; cleared, it leaves that end open. */
export function TimeFilter({ label, value, onCommit, testId }: TimeFilterProps) {
  return (
    <label className="time-filter">
      <span className="muted">{label}</span>
      <input
        className="input"
        type="datetime-local"
        value={toLocalInput(value)}
        onChange={(e) => {
          const local = e.target.value;
          const ms = local ? new Date(local).getTime() : Number.NaN;
          // A half-typed value reads as '' (or not a time): the range changes once it is one, or is cleared.
          const iso = !local ? '' : Number.isFinite(ms) ? new Date(ms).toISOString() : value;
          if (iso !== value) onCommit(iso);
        }}
        data-testid={testId}
      />
    </label>
  );
}
