import { afterAll, describe, expect, it } from 'vitest';
import { EngineBackend } from '../../../main/backends/engine-backend.js';
import { Engine } from '../../../main/engine/engine.js';
import type { Queryable, SqlValue, Store } from '../../../main/engine/store/port.js';
import type { BackendMethod, MethodInput } from '../../../preload/contract/index.js';
import { buildHistory } from '../../bench/history/generate.js';
import { openStoreAt } from '../../support/open-store.js';
import { type StoreFactory, stores } from '../../support/stores.js';

/*
 * Every read a console's routes make goes through an index: the statements run while the routes a
 * console calls when it opens a connection, a workflow, a run and the audit log are answered are
 * captured, then explained. PostgreSQL explains them with sequential scans switched off (so a plan
 * that still scans runs or events has no index to use) and must not walk an index of them whole while
 * filtering what it reads; SQLite's plan must SEARCH runs and events, never SCAN them (walking an
 * index in order is allowed only for an unfiltered page under a LIMIT: the newest runs).
 */

const ENDS_AT = new Date('2026-11-30T12:00:00.000Z');

interface Captured {
  sql: string;
  params: readonly SqlValue[];
}

/** Records every statement sent through a store's reader (what a route's reads go through). */
function capture(store: Store): { statements: Captured[]; stop: () => void } {
  const read = store.read as { -readonly [K in keyof Queryable]: Queryable[K] };
  const original = { all: read.all, get: read.get, run: read.run };
  const statements: Captured[] = [];
  const record = <F extends (sql: string, params?: readonly SqlValue[]) => unknown>(f: F) =>
    ((sql: string, params: readonly SqlValue[] = []) => {
      statements.push({ sql, params });
      return f(sql, params);
    }) as F;
  read.all = record(original.all);
  read.get = record(original.get);
  read.run = record(original.run);
  return {
    statements,
    stop: () => Object.assign(read, original),
  };
}

const touchesBigTables = (sql: string) => /\b(runs|events)\b/i.test(sql) && /^\s*(SELECT|WITH)\b/i.test(sql);

/** The plan's problems: a sequential scan of runs or events. */
async function planProblems(store: Store, statement: Captured): Promise<string[]> {
  if (store.kind === 'sqlite') {
    const rows = await store.read.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement.sql}`, statement.params);
    const tables = new Set(['runs', 'events', ...aliases(statement.sql)]);
    // Walking a whole index in order is a page only when nothing is filtered and a LIMIT stops it (the newest runs).
    const orderedPage = !/\bWHERE\b/i.test(statement.sql) && /\bLIMIT\b/i.test(statement.sql);
    return rows.map((r) => r.detail).filter((d) => {
      const m = /^SCAN (\w+)(.*)$/.exec(d);
      return m !== null && tables.has(m[1]!) && !(orderedPage && /USING (COVERING )?INDEX/.test(m[2]!));
    });
  }
  return store.transaction(async (tx) => {
    await tx.run('SET LOCAL enable_seqscan = off');
    const [row] = await tx.all<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.params);
    const found: string[] = [];
    const walk = (node: PlanNode) => {
      const table = node['Relation Name'];
      if (table === 'runs' || table === 'events') {
        if (node['Node Type'] === 'Seq Scan') found.push(`Seq Scan on ${table}`);
        // An index walked whole while a filter drops what it reads (e.g. the primary key backwards, looking for one type) is a scan too.
        else if (/Index/.test(node['Node Type']) && node['Index Cond'] === undefined && node.Filter !== undefined) found.push(`${node['Node Type']} on ${table} without an index condition (Filter: ${node.Filter})`);
      }
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(row!['QUERY PLAN'][0]!.Plan);
    return found;
  });
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

/** Table aliases of runs and events in a statement (`FROM runs r`, `JOIN runs c`, `events e`). */
function aliases(sql: string): string[] {
  return [...sql.matchAll(/\b(?:runs|events)\s+(?:AS\s+)?([a-z]\w*)\b/gi)].map((m) => m[1]!).filter((a) => !/^(WHERE|ORDER|GROUP|LEFT|JOIN|ON|LIMIT|USING)$/i.test(a));
}

describe.each(stores)('the plans of the console routes on $kind', (factory: StoreFactory) => {
  afterAll(() => factory.dispose());

  it('read runs and events through an index when a console opens a connection, a workflow, a run, the rollback dialog and the audit log', async () => {
    const built = await buildHistory(await factory.open('plans'), { events: 3000, endsAt: ENDS_AT });
    const store = await openStoreAt(factory.location('plans'), 'plans');
    if (store.kind === 'postgres') await store.read.run('ANALYZE');
    const engine = await Engine.open({ store, clock: () => ENDS_AT });
    const backend = new EngineBackend(engine, 'plans');
    try {
      const head = await engine.latestSeq();
      const wf = built.busy_workflow_id;
      const failed = built.sample_failed_run_id ?? built.sample_run_id;
      const firstPage = await backend.call('runs:list', { workflow_id: wf, limit: 50 });
      const routes: Array<[BackendMethod, MethodInput<BackendMethod>]> = [
        // A connection: the head and the remembered link, Home, the sidebar, approvals, runs, the newest audit page, runbooks.
        ['events:head', {}],
        ['events:list', { after: head - 1, limit: 1 }],
        ['incidents:summary', {}],
        ['workflows:list', {}],
        ['runs:list', { status: 'waiting', limit: 500 }],
        ['runs:list', { limit: 2000 }],
        ['events:list', { after: head - 1000, limit: 1000 }],
        ['runbooks:list', {}],
        // A workflow: its header, timeline, health, schedule and runs (and their next page).
        ['workflows:get', { workflow_id: wf }],
        ['versions:list', { workflow_id: wf, limit: 500, include_dsl: false }],
        ['events:list', { workflow_id: wf, after: 0, limit: 2000 }],
        ['workflows:health', { workflow_id: wf }],
        ['workflows:health', { workflow_id: wf, since: '2026-11-29T00:00:00Z' }],
        ['schedules:get', { workflow_id: wf }],
        ['runs:list', { workflow_id: wf, limit: 2000 }],
        ['runs:list', { workflow_id: wf, limit: 50, after: firstPage.next_cursor! }],
        ['runs:list', { workflow_id: wf, status: 'failed', limit: 50 }],
        ['runs:list', { workflow_id: wf, limit: 50, before: firstPage.prev_cursor! }],
        // A run: it, its checkpoints, its version, the versions, its workflow's runs, its events, whether it can resume.
        ['runs:get', { run_id: failed }],
        ['checkpoints:list', { run_id: failed }],
        ['versions:get', { workflow_id: (await backend.call('runs:get', { run_id: failed })).workflow_id, version: (await backend.call('runs:get', { run_id: failed })).version }],
        ['events:list', { workflow_id: (await backend.call('runs:get', { run_id: failed })).workflow_id, run_id: failed, after: 0, limit: 1000 }],
        ['runs:compatibility', { run_id: failed, version: 1 }],
        // The rollback dialog's preview.
        ['versions:rollbackPreview', { workflow_id: wf, version: 1 }],
      ];
      const { statements, stop } = capture(store);
      for (const [method, input] of routes) await backend.call(method, input);
      stop();
      const reads = statements.filter((s) => touchesBigTables(s.sql));
      expect(reads.length).toBeGreaterThan(routes.length);
      const problems: string[] = [];
      for (const statement of reads) {
        for (const p of await planProblems(store, statement)) problems.push(`${p}: ${statement.sql.replace(/\s+/g, ' ')}`);
      }
      expect(problems).toEqual([]);
    } finally {
      await backend.close();
    }
  });
});
