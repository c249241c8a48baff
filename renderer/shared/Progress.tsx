/** Indeterminate progress for actions whose length we cannot know. */
export function Progress({ label, testId }: { label: string; testId?: string }) {
  return (
    <div className="progress" role="status" aria-live="polite" data-testid={testId}>
      <span className="progress-bar" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
