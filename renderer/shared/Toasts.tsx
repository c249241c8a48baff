import { useShallow } from 'zustand/react/shallow';
import { focusWhenReady } from './focus.js';
import { useToasts } from '../store/toasts-store.js';

export function Toasts() {
  const toasts = useToasts(useShallow((s) => s.toasts));
  const dismiss = useToasts((s) => s.dismiss);
  return (
    <section className="toasts" aria-live="polite" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.id} className="toast" data-kind={t.kind} data-testid="toast" role="status">
          <div className="toast-text">
            <strong>{t.title}</strong>
            <span className="muted">{t.body}</span>
          </div>
          {t.action ? (
            <button type="button" className="btn btn-small" onClick={() => {
                const { run, focusAfter } = t.action!;
                run();
                if (focusAfter) focusWhenReady(focusAfter);
              }} data-testid="toast-action">
              {t.action.label}
            </button>
          ) : null}
          <button type="button" className="btn btn-ghost" aria-label="Dismiss notification" onClick={() => dismiss(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </section>
  );
}
