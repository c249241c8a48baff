import { formatTime } from '../shared/format.js';
import { useConnections } from '../store/connections-store.js';
import { selectSelectedConnection } from '../store/selectors.js';

/** A run archive says what it is an archive of, and that it is only read. */
export function ArchiveBanner() {
  const connection = useConnections(selectSelectedConnection);
  const archive = connection?.archive;
  if (!archive) return null;
  return (
    <div className="banner banner-snapshot" role="status" data-testid="archive-banner">
      Archive of <strong className="mono">{archive.server}</strong>: {archive.runs} runs that ended {archive.after ? `from ${formatTime(archive.after)} ` : ''}before{' '}
      <strong>{formatTime(archive.before)}</strong>, with their checkpoints · read-only
    </div>
  );
}
