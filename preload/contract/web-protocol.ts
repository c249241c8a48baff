import { z } from 'zod';

/*
 * Browser mode: the console API over one WebSocket (`/rpc?token=…`) instead of Electron IPC.
 * Client → server: a call. Server → client: its result (same `ApiResult` shape as IPC) or a push.
 */
export const webCallSchema = z.strictObject({
  id: z.number().int().nonnegative(),
  method: z.string().max(100),
  input: z.unknown(),
});
export type WebCall = z.infer<typeof webCallSchema>;

export const webServerMessageSchema = z.union([
  z.object({
    id: z.number().int(),
    result: z.union([
      z.object({ ok: z.literal(true), value: z.unknown() }),
      z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string(), hint: z.string(), details: z.record(z.string(), z.unknown()).optional() }) }),
    ]),
  }),
  z.object({ event: z.string(), payload: z.unknown() }),
]);
export type WebServerMessage = z.infer<typeof webServerMessageSchema>;
