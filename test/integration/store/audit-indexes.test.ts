import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../../../main/engine/event-log.js';
import { type EventQuery, readEventPage } from '../../../main/engine/event-query.js';
import type { Queryable, SqlValue, Store } from '../../../main/engine/store/port.js';
import { latestSchemaVersion } from '../../../main/engine/store/sqlite/migrations/index.js';
import { stores } from '../../support/stores.js';

/*
 * Migration 0160's indexes serve the audit log's filters on both stores: every statement a page
 * runs (the time window's two lookups, each filter's budget probe, the page itself) is planned on
 * an index — never a full read of the events table, which at a million events is the difference
 * between a millisecond and a second. A combined filter picks its page's seqs from the driving index
 * alone (it holds the columns the others check), then reads those rows by the primary key. The table
 * holds enough rows, with statistics, that the
 * planners choose as they would on a real log; PostgreSQL is also told to avoid sequential scans
 * (as a big table would), so a plan that can only scan fails.
 */

const EVENTS = 4000;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');

async function fill(store: Store): Promise<void> {
  for (let start = 1; start <= EVENTS; start += 500) {
    await store.transaction(async (tx) => {
      let head = await tx.lockHead();
      for (let seq = start; seq < start + 500; seq++) {
        const e = await appendEvent(tx, head, {
          type: seq % 211 === 0 ? 'workflow_rollback' : seq % 2 === 0 ? 'run_started' : 'run_succeeded',
          actor: seq % 173 === 0 ? 'ben.rare' : seq % 3 === 0 ? 'scheduler' : 'ana',
          workflow_id: `wf-${seq % 40}`,
          run_id: `run-${Math.floor(seq / 3)}`,
          ts: new Date(T0 + seq * 60_000).toISOString(),
          payload: { n: seq },
        });
        head = { seq: e.seq, hash: e.hash };
      }
      await tx.setHead(head);
    });
  }
}

/** Runs a page and keeps each statement it sent. */
async function statementsOf(store: Store, query: EventQuery): Promise<Array<{ sql: string; params: readonly SqlValue[] }>> {
  const seen: Array<{ sql: string; params: readonly SqlValue[] }> = [];
  const spy: Queryable = {
    all: (sql, params = []) => (seen.push({ sql, params }), store.read.all(sql, params)),
    get: (sql, params = []) => (seen.push({ sql, params }), store.read.get(sql, params)),
    run: (sql, params = []) => store.read.run(sql, params),
  };
  await readEventPage(spy, query, 50);
  return seen;
}

/** The indexes a statement's plan reads, and whether it reads the table whole. */
async function plan(store: Store, sql: string, params: readonly SqlValue[]): Promise<{ indexes: string[]; fullScan: boolean; text: string }> {
  if (store.kind === 'sqlite') {
    const rows = await store.read.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    const text = rows.map((r) => r.detail).join('\n');
    const indexes = [...text.matchAll(/USING (?:COVERING )?INDEX (\w+)|USING (INTEGER PRIMARY KEY)/g)].map((m) => m[1] ?? 'pk');
    return { indexes, fullScan: /\bSCAN events\b(?! USING)/.test(text), text };
  }
  return store.transaction(async (tx) => {
    await tx.run('SET LOCAL enable_seqscan = off');
    const [row] = await tx.all<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    const text = JSON.stringify(row!['QUERY PLAN']);
    const indexes = [...text.matchAll(/"Index Name":"(\w+)"/g)].map((m) => (m[1] === 'events_pkey' ? 'pk' : m[1]!));
    return { indexes, fullScan: /"Node Type":"Seq Scan"/.test(text), text };
  });
}

const top = { after: 0, before: EVENTS + 1, limit: 100 };
/** `covering`: the index whose entries alone pick the page's seqs (SQLite says COVERING). */
// A type's page may be read through 0140's (type, ts) index too: either bounds it to that type's entries.
const CASES: Array<{ name: string; query: EventQuery; page: string[]; covering?: string }> = [
  { name: 'the newest page', query: top, page: ['pk'] },
  { name: 'a type', query: { ...top, types: ['workflow_rollback'] }, page: ['events_audit_by_type', 'events_by_type_ts'] },
  // One branch per type: a rare one on its index, a common one (half the log) where a backward read fills the page at once.
  { name: 'a set of types', query: { ...top, types: ['workflow_rollback', 'run_started'] }, page: ['events_audit_by_type', 'events_by_type_ts', 'pk'] },
  { name: 'an actor', query: { ...top, actor: 'ben.rare' }, page: ['events_audit_by_actor'] },
  { name: 'a workflow', query: { ...top, workflowId: 'wf-7' }, page: ['events_by_workflow'] },
  { name: 'a time range', query: { ...top, since: new Date(T0 + 1000 * 60_000).toISOString(), until: new Date(T0 + 1200 * 60_000).toISOString() }, page: ['pk'] },
  { name: 'type and actor', query: { ...top, types: ['workflow_rollback'], actor: 'ana' }, page: ['events_audit_by_type', 'events_by_type_ts', 'pk'], covering: 'events_audit_by_type' },
  { name: 'actor and a common type', query: { ...top, types: ['run_started'], actor: 'ben.rare' }, page: ['events_audit_by_actor', 'pk'], covering: 'events_audit_by_actor' },
  { name: 'workflow, type, actor and time', query: { ...top, workflowId: 'wf-3', types: ['run_started'], actor: 'scheduler', since: new Date(T0).toISOString() }, page: ['events_by_workflow', 'events_audit_by_type', 'events_by_type_ts', 'events_audit_by_actor', 'pk'] },
];

describe.each(stores)('the audit log indexes on $kind', (factory) => {
  let store: Store;
  beforeAll(async () => {
    store = await factory.open('audit-indexes');
    await fill(store);
  }, 120_000);
  afterAll(async () => {
    await store.close();
    await factory.dispose();
  });

  it('are created by the latest migration', async () => {
    expect(store.schemaVersion).toBe(latestSchemaVersion);
    const sql =
      store.kind === 'sqlite'
        ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name"
        : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname";
    const names = (await store.read.all<{ name: string }>(sql)).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['events_audit_by_actor', 'events_audit_by_ts', 'events_audit_by_type', 'events_by_workflow']));
  });

  async function expectIndexed(c: (typeof CASES)[number]): Promise<void> {
    const statements = await statementsOf(store, c.query);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      const p = await plan(store, s.sql, s.params);
      expect(p.fullScan, `${s.sql}\n${p.text}`).toBe(false);
      expect(p.indexes.length, `${s.sql}\n${p.text}`).toBeGreaterThan(0);
      if (s.sql.startsWith('SELECT * FROM')) for (const index of p.indexes) expect(c.page, `${s.sql}\n${p.text}`).toContain(index);
      if (s.sql.includes('ORDER BY ts')) expect(p.indexes, `${s.sql}\n${p.text}`).toContain('events_audit_by_ts');
      if (c.covering && store.kind === 'sqlite' && s.sql.startsWith('SELECT * FROM')) expect(p.text).toContain(`USING COVERING INDEX ${c.covering}`);
    }
  }

  // SQLite keeps no statistics unless ANALYZE runs, which Rewind never asks of a sandbox file.
  if (factory.kind === 'sqlite') {
    for (const c of CASES) it(`plans every statement of a page on an index, without statistics: ${c.name}`, () => expectIndexed(c));
  }

  describe('with statistics', () => {
    // As a store that grew for months has them (PostgreSQL: autovacuum's; SQLite: after an ANALYZE).
    beforeAll(async () => {
      await store.read.run('ANALYZE');
    });
    for (const c of CASES) it(`plans every statement of a page on an index: ${c.name}`, () => expectIndexed(c));
  });
});
