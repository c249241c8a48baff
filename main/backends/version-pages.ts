import type { ParsedInput } from '../../preload/contract/backend-methods.js';
import type { VersionListItem, VersionPage, WorkflowVersion } from '../../preload/contract/entities.js';

/** No answer of the console API or the REST server is larger than this; a page stops before it. */
export const MAX_ANSWER_BYTES = 1024 * 1024;
/** What the envelope (`{"versions":[…],"total":N,"next_offset":N}`) and a little slack take. */
const ENVELOPE_BYTES = 256;
const CHUNK = 200;

type ListFn = (input: ParsedInput<'versions:list'>) => { versions: WorkflowVersion[]; total: number } | Promise<{ versions: WorkflowVersion[]; total: number }>;

/**
 * One page of versions within the 1 MB budget: reads the engine in chunks (so a huge `limit` never
 * loads 100,000 DSLs to send a few thousand), drops the DSL unless asked for, and stops early when
 * the next item would push the answer over the budget (`next_offset` then says where to continue;
 * `total` still counts every version, as seed 000's clients expect).
 */
export async function listVersionPage(list: ListFn, input: ParsedInput<'versions:list'>, budget = MAX_ANSWER_BYTES): Promise<VersionPage> {
  const versions: VersionListItem[] = [];
  let bytes = ENVELOPE_BYTES;
  let offset = input.offset;
  for (;;) {
    const want = Math.min(CHUNK, input.limit - versions.length);
    const chunk = await list({ ...input, offset, limit: want });
    const total = chunk.total;
    for (const v of chunk.versions) {
      const item: VersionListItem = input.include_dsl === false ? withoutDsl(v) : v;
      const size = Buffer.byteLength(JSON.stringify(item)) + 1;
      // Always at least one item, so a single enormous version still pages forward.
      if (versions.length > 0 && bytes + size > budget) return { versions, total, next_offset: offset };
      versions.push(item);
      bytes += size;
      offset += 1;
    }
    if (chunk.versions.length < want || versions.length >= input.limit) {
      return { versions, total, next_offset: offset < total && versions.length >= input.limit ? offset : null };
    }
  }
}

function withoutDsl(v: WorkflowVersion): VersionListItem {
  const { dsl_definition: _dsl, ...rest } = v;
  return rest;
}
