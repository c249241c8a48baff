import { errorText, type ErrorLike } from '../api/error-text.js';

/** An error as the operator reads it: what happened, why, and what to do next. */
export function ErrorNotice({ error, onReload, testId = 'error' }: { error: ErrorLike; onReload?: () => void; testId?: string }) {
  const t = errorText(error);
  return (
    <div className="error-notice" role="alert" data-testid={testId} data-code={error.code}>
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
