import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { percentile } from './lib.js';

/*
 * The per-hop breakdown of a rollback committed on replica A and pushed by replica B, from the
 * traces `push-trace.mjs` records inside both processes, joined by the event's seq:
 *
 *   client sends ─▶ A: request in ─▶ BEGIN … COMMIT sent ─▶ COMMIT done (durable)
 *                                                    └──▶ B: notification in ─▶ read sent ─▶ read done ─▶ frame written ─▶ client reads it
 *
 * All stamps come from CLOCK_MONOTONIC, which every process on the machine shares.
 */

interface QueryRecord {
  kind: 'query';
  pid: number;
  text: string;
  params?: unknown[];
  sent: number;
  done: number;
  rows: number[];
}
interface NotifyRecord {
  kind: 'notify';
  at: number;
  payload: string;
}
interface RequestRecord {
  kind: 'request';
  method: string;
  url: string;
  at: number;
  end: number;
}
interface WsRecord {
  kind: 'ws';
  at: number;
  seq: number;
}
type TraceRecord = QueryRecord | NotifyRecord | RequestRecord | WsRecord;

export interface Trace {
  pid: number;
  loop: { p50: number; p99: number; max: number };
  records: TraceRecord[];
}

/** One rollback as the bench's client saw it. */
export interface ClientRound {
  seq: number;
  sent: number;
  seen: number;
}

/** The environment that makes a replica process record its trace into `prefix.<pid>.json` on SIGUSR2. */
export function traceEnv(prefix: string): Record<string, string> {
  const preload = pathToFileURL(join(import.meta.dirname, 'push-trace.mjs')).href;
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`.trim(), REWIND_PUSH_TRACE: prefix };
}

/** Asks a traced process for its trace and reads it. */
export async function collectTrace(pid: number, prefix: string): Promise<Trace> {
  const file = `${prefix}.${pid}.json`;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 500 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
  // The write is one writeFileSync: give it a moment to finish before reading.
  await new Promise((r) => setTimeout(r, 50));
  const trace = JSON.parse(readFileSync(file, 'utf8')) as Trace;
  rmSync(file, { force: true });
  return trace;
}

export interface Hop {
  name: string;
  /** ms per round */
  samples: number[];
}

export interface Statement {
  text: string;
  p50: number;
}

export interface Breakdown {
  hops: Hop[];
  /** Statements A sent from the request's arrival to its COMMIT's answer, per round (median). */
  writerStatements: number;
  /** Statements B sent between the notification and the frame (median). */
  readerStatements: number;
  /** The statements of a round, in order, each with its round trip's p50 over the rounds of that shape: A's (request → COMMIT), then B's (notification → frame). */
  sample: { writer: Statement[]; reader: Statement[] };
  rounds: number;
  loop: { writer: Trace['loop']; reader: Trace['loop'] };
}

// Before and after the head update rode with COMMIT (then the seq is in the text, not a parameter).
const isSetHead = (q: QueryRecord, seq: number) => q.text.includes('UPDATE chain_head') && (Number(q.params?.[0]) === seq || q.text.includes(`SET seq = ${seq},`));
const isBegin = (q: QueryRecord) => q.text.startsWith('BEGIN');
const isCommit = (q: QueryRecord) => q.text === 'COMMIT' || q.text.endsWith('; COMMIT');
const isPublishRead = (q: QueryRecord) => q.text.includes('FROM events WHERE seq >');

/** Joins the client's rounds with the writer's and the reader's traces; rounds it cannot follow end to end are left out. */
export function breakdown(rounds: ClientRound[], writer: Trace, reader: Trace): Breakdown {
  const names = ['client → A request in', 'A request in → BEGIN', 'A BEGIN → COMMIT sent', 'A COMMIT (durable)', 'A COMMIT sent → B notified', 'B notified → read sent', 'B read (round trip)', 'B read done → frame written', 'B frame → client', 'total'];
  const hops: Hop[] = names.map((name) => ({ name, samples: [] }));
  const wq = writer.records.filter((r): r is QueryRecord => r.kind === 'query').sort((a, b) => a.sent - b.sent);
  const rq = reader.records.filter((r): r is QueryRecord => r.kind === 'query').sort((a, b) => a.sent - b.sent);
  const requests = writer.records.filter((r): r is RequestRecord => r.kind === 'request' && r.url.includes('/rollback'));
  const notes = reader.records.filter((r): r is NotifyRecord => r.kind === 'notify');
  const frames = reader.records.filter((r): r is WsRecord => r.kind === 'ws');
  const writerCounts: number[] = [];
  const readerCounts: number[] = [];
  // Per position in the path, for the rounds whose path has the shape of the first one followed.
  const shapes = { writer: [] as QueryRecord[][], reader: [] as QueryRecord[][] };
  for (const round of rounds) {
    const request = requests.find((r) => r.at >= round.sent && r.at <= round.seen);
    const setHead = wq.find((q) => isSetHead(q, round.seq));
    if (!request || !setHead) continue;
    const commit = wq.find((q) => q.pid === setHead.pid && q.sent >= setHead.sent && isCommit(q));
    const begin = wq.findLast((q) => q.pid === setHead.pid && q.sent <= setHead.sent && isBegin(q));
    const note = notes.find((n) => n.payload === String(round.seq));
    const read = rq.find((q) => isPublishRead(q) && q.rows.includes(round.seq));
    const frame = frames.find((f) => f.seq === round.seq);
    if (!commit || !begin || !note || !read || !frame) continue;
    const stamps = [round.sent, request.at, begin.sent, commit.sent, commit.done];
    hops[0]!.samples.push(request.at - round.sent);
    hops[1]!.samples.push(begin.sent - request.at);
    hops[2]!.samples.push(commit.sent - begin.sent);
    hops[3]!.samples.push(commit.done - commit.sent);
    hops[4]!.samples.push(note.at - commit.sent);
    hops[5]!.samples.push(read.sent - note.at);
    hops[6]!.samples.push(read.done - read.sent);
    hops[7]!.samples.push(frame.at - read.done);
    hops[8]!.samples.push(round.seen - frame.at);
    hops[9]!.samples.push(round.seen - stamps[0]!);
    const onWriter = wq.filter((q) => q.sent >= request.at && q.sent <= commit.sent);
    const onReader = rq.filter((q) => q.sent >= note.at && q.sent <= frame.at);
    writerCounts.push(onWriter.length);
    readerCounts.push(onReader.length);
    shapes.writer.push(onWriter);
    shapes.reader.push(onReader);
  }
  const statements = (paths: QueryRecord[][]): Statement[] => {
    const like = paths.filter((p) => p.length === paths[0]?.length);
    return (like[0] ?? []).map((q, i) => ({ text: q.text.replace(/\s+/g, ' ').slice(0, 90), p50: percentile(like.map((p) => p[i]!.done - p[i]!.sent), 50) }));
  };
  const sample = { writer: statements(shapes.writer), reader: statements(shapes.reader) };
  return {
    hops,
    writerStatements: percentile(writerCounts, 50),
    readerStatements: percentile(readerCounts, 50),
    sample,
    rounds: hops[0]!.samples.length,
    loop: { writer: writer.loop, reader: reader.loop },
  };
}

/** The breakdown as lines: each hop's p50 and p90 in ms. */
export function describe(b: Breakdown): string[] {
  const fmt = (n: number) => n.toFixed(2).padStart(6);
  return [
    `per-hop breakdown of ${b.rounds} rounds (p10 / p50 / p90 ms):`,
    ...b.hops.map((h) => `  ${h.name.padEnd(30)} ${fmt(percentile(h.samples, 10))} / ${fmt(percentile(h.samples, 50))} / ${fmt(percentile(h.samples, 90))}`),
    `  statements on A's path (request → COMMIT): ${b.writerStatements}; on B's path (notification → frame): ${b.readerStatements}; each with its round trip's p50 ms:`,
    ...b.sample.writer.map((q) => `    A ${fmt(q.p50)}  ${q.text}`),
    ...b.sample.reader.map((q) => `    B ${fmt(q.p50)}  ${q.text}`),
    `  event-loop delay p50/p99/max ms: A ${fmt(b.loop.writer.p50)} ${fmt(b.loop.writer.p99)} ${fmt(b.loop.writer.max)}; B ${fmt(b.loop.reader.p50)} ${fmt(b.loop.reader.p99)} ${fmt(b.loop.reader.max)}`,
  ];
}

