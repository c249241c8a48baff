// @vitest-environment happy-dom
import { act, render, screen, waitFor } from '@testing-library/react';
import { createElement } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandPalette } from '../../../renderer/palette/CommandPalette.js';
import { usePalette } from '../../../renderer/store/palette-store.js';
import { setApi } from '../../../renderer/api/client.js';
import { useInspector } from '../../../renderer/store/inspector-store.js';
import { startLive } from '../../../renderer/store/live.js';
import { RUNS_PAGE, useRuns } from '../../../renderer/store/runs-store.js';
import { useTimeline } from '../../../renderer/store/timeline-store.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { useWorkflows } from '../../../renderer/store/workflows-store.js';
import type { Run } from '../../../preload/contract/index.js';
import { demoWorld, FakeBridge, iso } from './fake-bridge.js';
import { freshConsole } from './setup.js';

/*
 * The views read what they show, not whole lists: the run list a page at a time, a live run event
 * re-reads that run (and its workflow's row) only, the timeline asks the server for its lifecycle
 * events by type, the run inspector for the runs resumed from the one it shows.
 */

const RUNS = 250;
let fake: FakeBridge;

beforeEach(() => {
  freshConsole();
  const world = demoWorld();
  const template = world.runs[0]!;
  // Newest first, as the server lists them.
  const runs: Run[] = Array.from({ length: RUNS }, (_, i) => ({ ...template, run_id: `run-${RUNS - i}`, status: 'succeeded', failed_node: null, error: null, created_at: iso(1000 - i) }));
  fake = new FakeBridge({ ...world, runs: [...runs, template] });
  setApi(fake.bridge);
});

describe('the run list', () => {
  it('reads a page at a time as it scrolls', async () => {
    await useRuns.getState().load();
    expect(useRuns.getState().runs).toHaveLength(RUNS_PAGE);
    await useRuns.getState().loadMore();
    await useRuns.getState().loadMore();
    await useRuns.getState().loadMore();
    expect(useRuns.getState().runs.map((r) => r.run_id)).toEqual(fake.world.runs.map((r) => r.run_id));
    expect(useRuns.getState().nextCursor).toBeNull();
    expect((fake.callsOf('runs:list') as Array<{ limit: number }>).every((c) => c.limit === RUNS_PAGE)).toBe(true);
  });

  it('re-reads only the runs a burst of live events names, and shows a new one on top', async () => {
    await useConnections.getState().load();
    await useWorkflows.getState().load();
    await useRuns.getState().load();
    const stop = startLive(fake.bridge);
    // The approvals badge reads the waiting runs (a few) as runs end; the run list reads no page again.
    const listPages = () => (fake.callsOf('runs:list') as Array<{ status?: string }>).filter((c) => c.status !== 'waiting').length;
    const lists = listPages();
    const workflowLists = fake.callsOf('workflows:list').length;
    fake.world.runs = fake.world.runs.map((r) => (r.run_id === 'run-249' ? { ...r, status: 'failed' as const, failed_node: 'deploy' } : r));
    fake.appendEvent({ type: 'run_failed', run_id: 'run-249', payload: {} });
    fake.appendEvent({ type: 'run_failed', run_id: 'run-249', payload: {} });
    const started: Run = { ...fake.world.runs[0]!, run_id: 'run-new', status: 'running', created_at: iso(2000) };
    fake.world.runs = [started, ...fake.world.runs];
    fake.appendEvent({ type: 'run_started', run_id: 'run-new', payload: {} });
    await vi.waitFor(() => expect(useRuns.getState().runs[0]?.run_id).toBe('run-new'));
    expect(useRuns.getState().runs.find((r) => r.run_id === 'run-249')?.status).toBe('failed');
    expect(fake.callsOf('runs:get')).toEqual([{ run_id: 'run-249' }, { run_id: 'run-new' }]);
    expect(listPages()).toBe(lists);
    // The workflow's row is read again (its failure badge), not the list of workflows.
    await vi.waitFor(() => expect(fake.callsOf('workflows:get')).toEqual([{ workflow_id: 'wf-ml' }]));
    expect(fake.callsOf('workflows:list').length).toBe(workflowLists);
    stop();
  });
});

describe('the timeline', () => {
  it('asks for the workflow’s lifecycle events by type, newest first, never its whole log', async () => {
    await useTimeline.getState().load('wf-ml');
    const calls = fake.callsOf('events:list') as Array<Record<string, unknown>>;
    expect(calls).toEqual([{ workflow_id: 'wf-ml', type: 'version_created,version_published,workflow_rollback', before: Number.MAX_SAFE_INTEGER, limit: 2000 }]);
    expect(useTimeline.getState().lifecycle.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(useTimeline.getState().rows.map((r) => r.key)).toEqual(['v2', 'v1']);
  });
});

describe('the run inspector', () => {
  it('reads the runs resumed from the one it shows, not its workflow’s runs', async () => {
    await useInspector.getState().open('run-failed');
    expect(fake.callsOf('runs:list')).toEqual([{ parent_run_id: 'run-failed', limit: 50 }]);
    useInspector.getState().close();
  });
});

describe('the palette', () => {
  it('offers the newest runs, reading their first page when the run list was never opened', async () => {
    render(createElement(CommandPalette));
    act(() => usePalette.getState().show());
    await waitFor(() => expect(screen.getAllByTestId('palette-item').some((i) => i.textContent?.includes('run-250'))).toBe(true));
    expect(fake.callsOf('runs:list')).toEqual([{ limit: RUNS_PAGE }]);
  });
});
