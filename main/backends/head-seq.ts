import type { Backend } from './backend.js';

/** The last seq of a backend's event log: where a live view starts. */
export async function headSeq(backend: Backend): Promise<number> {
  return (await backend.call('events:head', {})).seq;
}
