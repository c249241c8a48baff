import { join } from 'node:path';
import type { ChainStatus } from '../../preload/contract/index.js';
import type { Backend } from '../backends/backend.js';
import { RewindError } from '../engine/errors.js';
import { checkHead, VerifiedHeads } from '../ipc/connections/verified-heads.js';
import { defaultUserDataDir } from '../ipc/user-data.js';

/** The CLI's own memory of verified heads (not the console's file: the two never write over each other). */
export const CLI_HEADS_FILE = 'cli-verified-heads.json';

export interface VerifyOptions {
  backend: Backend;
  /** The server URL or the sandbox file's absolute path: what the remembered head belongs to. */
  source: string;
  env: Record<string, string | undefined>;
}

/**
 * `rewind verify`: the hash chain, then truncation — the log must still hold the newest link a
 * previous `verify` of the same server or file saw. A log that verifies and still holds it becomes
 * the new remembered head; a truncated one is refused with LOG_TRUNCATED and the old head kept.
 */
export async function verifyLog(options: VerifyOptions): Promise<{ chain: ChainStatus; remembered: { seq: number; hash: string } | null }> {
  const { backend, source } = options;
  const heads = await VerifiedHeads.load(join(defaultUserDataDir(process.platform, options.env), CLI_HEADS_FILE));
  const remembered = heads.get(source, source);
  const chain = await backend.call('events:verify', {});
  const { alarm } = await checkHead(backend, remembered, source);
  if (alarm?.code === 'LOG_TRUNCATED') throw new RewindError('LOG_TRUNCATED', alarm.message, alarm.hint, { remembered_seq: remembered?.seq, remembered_hash: remembered?.hash });
  if (chain.ok) {
    heads.set(source, { source, seq: chain.length, hash: chain.head_hash });
    await heads.save();
  }
  return { chain, remembered: remembered && { seq: remembered.seq, hash: remembered.hash } };
}
