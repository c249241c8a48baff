import { z } from 'zod';
import type { Dsl } from '../../../preload/contract/entities.js';
import { mulberry32, seedFrom } from '../executor/rng.js';

/*
 * The demo server's inspection station: `GET /demo/inspect?batch=N` on the server itself answers a
 * sampled batch's measurement, and the server-only `line-inspection` workflow calls it over http, so
 * a newcomer running `--demo` sees a checkpoint holding a real answer from a real request.
 */

/** The largest batch number the station answers for (a plain positive integer, nothing clever). */
export const MAX_DEMO_BATCH = 999_999_999;

/** The station's answer (its schema is what the server's OpenAPI document says of the route). */
export const inspectionReportSchema = z.object({
  batch: z.number().int().min(1).max(MAX_DEMO_BATCH),
  line: z.string(),
  sample_size: z.number().int(),
  defects: z.number().int(),
  defect_rate: z.number(),
  /** The station's own verdict: above 3 % warning, above 6 % reject (the plant's current policy). */
  verdict: z.enum(['pass', 'warning', 'reject']),
});
export type InspectionReport = z.infer<typeof inspectionReportSchema>;

const SAMPLE_SIZE = 500;
const LINES = ['A3', 'B1', 'C2'] as const;

/** The same batch answers the same report on every machine and every start (seeded by its number). */
export function inspectBatch(batch: number): InspectionReport {
  const draw = mulberry32(seedFrom(`inspection:${batch}`));
  // 0–39 defects in 500: rates from 0 % to 7.8 %, so each verdict turns up among the first batches.
  const defects = Math.floor(draw() * 40);
  const defect_rate = defects / SAMPLE_SIZE;
  const verdict = defect_rate > 0.06 ? 'reject' : defect_rate > 0.03 ? 'warning' : 'pass';
  return { batch, line: LINES[batch % LINES.length] as string, sample_size: SAMPLE_SIZE, defects, defect_rate, verdict };
}

/**
 * `line-inspection`: asks the station about `batch` and judges the answer. The URL is templated
 * from `server.host` (HOST:PORT), which the server lends to its real nodes once it listens (see
 * EngineOptions.serverContext), so the workflow keeps working after a restart on another port.
 */
export const lineInspectionDsl: Dsl = {
  defaults: { batch: 1 },
  nodes: [
    {
      id: 'inspect_batch',
      type: 'http',
      name: 'Ask the inspection station',
      params: {
        method: 'GET',
        // A DSL's URL names its scheme (checked at draft time); the address is what moves.
        url: 'http://{{ctx.server.host}}/demo/inspect?batch={{ctx.batch}}',
        timeout_ms: 5000,
        retries: 2,
        output_key: 'inspection',
        // Only a live engine calls the station; an offline rehearsal of this DSL gets batch 1's answer.
        sandbox: { output: { ...inspectBatch(1) } },
      },
      next: ['judge_batch'],
    },
    {
      id: 'judge_batch',
      type: 'judgment',
      name: 'Judge the measured defect rate',
      params: {
        rules: [
          { field: 'inspection.defect_rate', op: '>', value: 0.06, outcome: 'reject' },
          { field: 'inspection.defect_rate', op: '>', value: 0.03, outcome: 'warning' },
        ],
        default: 'pass',
      },
      next: [],
    },
  ],
};
