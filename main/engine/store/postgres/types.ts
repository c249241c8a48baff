import pg from 'pg';

/*
 * The port promises integer columns as JS numbers on both stores. pg returns int8 (BIGINT, count(*))
 * and numeric (sum of BIGINT) as strings by default; these parsers are set on this store's clients
 * only, never on pg's global registry, so other users of pg in the process are not affected.
 */

const INT8_OID = 20;
const NUMERIC_OID = 1700;

function parseInt8(text: string): number {
  const n = Number(text);
  // A silent rounding would corrupt a seq or a revision: refuse instead.
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is beyond JavaScript's safe range`);
  return n;
}

export const numberTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === NUMERIC_OID) return Number;
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
