import { useShallow } from 'zustand/react/shallow';
import { useConnections } from '../store/connections-store.js';
import { selectAlarmedConnections } from '../store/selectors.js';

/**
 * A connection whose audit log cannot be trusted (its chain broken, or events it had verified gone)
 * says so in red on every view, whichever connection is selected: nobody should act on it unawares.
 */
export function AlarmBanner() {
  const alarmed = useConnections(useShallow(selectAlarmedConnections));
  if (alarmed.length === 0) return null;
  return (
    <div className="banner banner-alarm" role="alert" data-testid="alarm-banner">
      {alarmed.map((c) =>
        c.alarm ? (
          <p key={c.id} data-testid="alarm-item" data-code={c.alarm.code} data-connection={c.id}>
            <strong>{c.name}:</strong> {c.alarm.message} <span className="alarm-hint">{c.alarm.hint}</span>
          </p>
        ) : null,
      )}
    </div>
  );
}
