import { formatTime } from '../shared/format.js';
import { StatusBadge } from '../shared/StatusBadge.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';

/** A snapshot says where and when it was taken, so nobody mistakes it for the live server. */
export function SnapshotBanner() {
  const connection = useConnections(selectSelectedConnection);
  const snap = connection?.snapshot;
  if (!snap) return null;
  return (
    <div className="banner banner-snapshot" role="status" data-testid="snapshot-banner" data-complete={snap.complete ? 'true' : 'false'}>
      Snapshot of <strong className="mono">{snap.source_url}</strong> taken at <strong>{formatTime(snap.taken_at)}</strong> · {snap.runs} runs, {snap.events} events
      {snap.complete ? null : (
        <>
          {' '}
          <StatusBadge status="failed" label="incomplete" testId="snapshot-incomplete" /> the copy stopped before the end: what is missing here may exist on the server.
        </>
      )}
    </div>
  );
}
