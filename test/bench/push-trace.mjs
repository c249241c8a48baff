/*
 * The replicas bench's per-hop trace, preloaded into a replica process (`node --import` through
 * NODE_OPTIONS) so the product carries no tracing code: it wraps what the compiled server already
 * uses — pg's Client (every statement, every notification), node:http (a request in, its answer out,
 * a WebSocket upgrade) and the upgraded sockets' writes — and stamps each with the system-wide
 * monotonic clock (CLOCK_MONOTONIC, the same in every process on the machine, so the bench can line
 * up one rollback's hops across the writer, the database and the other replica).
 * SIGUSR2 writes what it recorded to REWIND_PUSH_TRACE.<pid>.json (nothing is written on the path).
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import process from 'node:process';

const out = process.env.REWIND_PUSH_TRACE;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const records = [];

if (out) {
  const pg = createRequire(join(process.cwd(), 'package.json'))('pg');
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function traced(config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text;
    const params = Array.isArray(values) ? values : config?.values;
    const record = { kind: 'query', pid: this.processID, text, params: params?.slice(0, 2), sent: now(), done: 0, rows: [] };
    records.push(record);
    const finish = (res) => {
      record.done = now();
      if (res?.rows) record.rows = res.rows.map((r) => r.seq).filter((s) => s !== undefined);
    };
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err, res) => {
        finish(res);
        cb(err, res);
      };
      return typeof values === 'function' ? query.call(this, config, wrapped) : query.call(this, config, values, wrapped);
    }
    const result = query.call(this, config, values, callback);
    if (result && typeof result.then === 'function') result.then(finish, () => finish(null));
    return result;
  };
  const emit = pg.Client.prototype.emit;
  pg.Client.prototype.emit = function tracedEmit(name, ...args) {
    if (name === 'notification') records.push({ kind: 'notify', at: now(), payload: args[0]?.payload, from: args[0]?.processId });
    return emit.call(this, name, ...args);
  };

  const wsSockets = new WeakSet();
  const serverEmit = http.Server.prototype.emit;
  http.Server.prototype.emit = function tracedServerEmit(name, ...args) {
    if (name === 'request') {
      const [req, res] = args;
      const record = { kind: 'request', method: req.method, url: req.url, at: now(), end: 0 };
      records.push(record);
      res.once('finish', () => (record.end = now()));
    } else if (name === 'upgrade') {
      wsSockets.add(args[1]);
    }
    return serverEmit.call(this, name, ...args);
  };
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function tracedWrite(chunk, ...rest) {
    if (wsSockets.has(this) && chunk.length < 65_536) {
      const seq = /"seq":(\d+)/.exec(typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
      if (seq) records.push({ kind: 'ws', at: now(), seq: Number(seq[1]) });
    }
    return write.call(this, chunk, ...rest);
  };

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  process.on('SIGUSR2', () => {
    const loop = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
    writeFileSync(`${out}.${process.pid}.json`, JSON.stringify({ pid: process.pid, loop, records }));
  });
}
