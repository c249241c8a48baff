// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../../renderer/App.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { useRuns } from '../../../renderer/store/runs-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import type { FakeBridge } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/* A run whose checkpoints retention removed reads as history, not as an error; an archive says what it is. */

let fake: FakeBridge;
beforeEach(() => {
  fake = freshConsole();
});

async function renderApp() {
  await act(async () => {
    await Promise.all([useConnections.getState().load(), useWorkflows.getState().load(), useRuns.getState().load()]);
  });
  return render(<App />);
}

describe('a pruned run in the run inspector', () => {
  it('says its checkpoints were removed after 90 days, lists none, and offers no resume or replay', async () => {
    const failed = fake.world.runs.find((r) => r.run_id === 'run-failed')!;
    fake.world.runs = fake.world.runs.map((r) => (r.run_id === failed.run_id ? { ...r, pruned_at: '2026-12-01T12:00:00.000Z', pruned_after: '90 days' } : r));
    fake.world.checkpoints = fake.world.checkpoints.filter((c) => c.run_id !== failed.run_id);
    await renderApp();
    fireEvent.click(screen.getByTestId('nav-runs'));
    await act(() => useInspector.getState().open(failed.run_id));
    await waitFor(() => expect(screen.getByTestId('inspector-pruned').textContent).toContain('Checkpoints removed after 90 days'));
    expect(screen.queryByTestId('inspector-error')).toBeNull();
    expect(screen.getByTestId('checkpoint-list').textContent).toContain('Checkpoints removed after 90 days.');
    expect(screen.queryByTestId('resume-submit')).toBeNull();
    expect(screen.queryByTestId('replay-panel')).toBeNull();
    // The run's own record stays: its status and error.
    expect(screen.getByTestId('inspector-status').textContent).toBe('failed');
    expect(screen.getByTestId('inspector-run-error').textContent).toContain(failed.error ?? '');
  });
});

describe('an archive opened as a connection', () => {
  it('shows a banner with the server it came from and its range, read-only', async () => {
    fake.world.connections = fake.world.connections.map((c) =>
      c.selected ? { ...c, archive: { source: '/data/runs.ndjson.gz', server: 'https://rewind.example', before: '2026-09-01T00:00:00.000Z', after: null, runs: 4800 } } : c,
    );
    await renderApp();
    const banner = await screen.findByTestId('archive-banner');
    expect(banner.textContent).toContain('Archive of https://rewind.example: 4800 runs that ended before');
    expect(banner.textContent).toContain('read-only');
  });
});
