import { useEffect, useRef } from 'react';
import { errorText, type ErrorLike } from '../api/error-text.js';

/**
 * An error as the operator reads it: what happened, why, and what to do next. A refusal the
 * operator caused takes focus (`focusOnMount`) so it is read at once, and Escape dismisses it.
 */
export function ErrorNotice({
  error,
  onReload,
  onDismiss,
  focusOnMount = false,
  testId = 'error',
}: {
  error: ErrorLike;
  onReload?: () => void;
  onDismiss?: () => void;
  focusOnMount?: boolean;
  testId?: string;
}) {
  const t = errorText(error);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusOnMount) ref.current?.focus();
  }, [focusOnMount, error]);
  return (
    <div
      ref={ref}
      className="error-notice"
      role="alert"
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && onDismiss) {
          e.stopPropagation();
          onDismiss();
        }
      }}
      data-testid={testId}
      data-code={error.code}
    >
      <strong>{t.title}</strong>
      <span className="error-message">{t.message}</span>
      <span className="error-hint" data-testid={`${testId}-hint`}>
        {t.hint}
      </span>
      {t.action === 'reload' && onReload ? (
        <button type="button" className="btn" onClick={onReload} data-testid={`${testId}-reload`}>
          Reload and retry
        </button>
      ) : null}
    </div>
  );
}
