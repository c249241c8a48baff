import { RunInspector } from './RunInspector.js';
import { RunList } from './RunList.js';

export function RunsView() {
  return (
    <div className="runs-view" data-testid="runs-view">
      <RunList />
      <RunInspector />
    </div>
  );
}
