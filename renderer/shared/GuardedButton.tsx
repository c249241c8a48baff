import { useId, type ReactNode } from 'react';
import type { Role } from '../../preload/contract/index.js';
import { permission, type GuardedAction } from '../home/home-model.js';
import { useConnections } from '../store/connections-store.js';
import { selectSnapshotTakenAt } from '../store/selectors.js';

/**
 * A button for an action the role may lack: disabled, with the reason beside it, instead of a refusal
 * later. On a snapshot it says that it acts on this copy, never on the server the copy was taken from.
 */
export function GuardedButton({
  action,
  role,
  onClick,
  children,
  className = 'btn',
  testId,
  disabled = false,
  label,
  extra,
}: {
  action: GuardedAction;
  role: Role | null | undefined;
  onClick: () => void;
  children: ReactNode;
  className?: string;
  testId?: string;
  disabled?: boolean;
  label?: string;
  /** More attributes for the tests' locators and the focus helper. */
  extra?: Record<`data-${string}`, string | number>;
}) {
  const reasonId = useId();
  const p = permission(role, action);
  const onCopy = useConnections(selectSnapshotTakenAt) !== null;
  return (
    <>
      <button
        type="button"
        className={className}
        disabled={disabled || !p.allowed}
        aria-label={label && onCopy ? `${label} on this copy` : label}
        aria-describedby={p.allowed ? undefined : reasonId}
        title={p.allowed ? undefined : p.reason}
        onClick={onClick}
        data-testid={testId}
        {...extra}
      >
        {children}
        {onCopy ? <span className="on-copy"> on this copy</span> : null}
      </button>
      {p.allowed ? null : (
        <span id={reasonId} className="muted guard-reason" data-testid={testId ? `${testId}-reason` : undefined}>
          {p.reason}
        </span>
      )}
    </>
  );
}
