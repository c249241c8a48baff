/** A small coloured label; the colour comes from `data-status` in the CSS, the meaning from its text. */
export function StatusBadge({ status, testId, label }: { status: string; testId?: string; label?: string }) {
  return (
    <span className="badge" data-status={status} data-testid={testId}>
      {label ?? status}
    </span>
  );
}
