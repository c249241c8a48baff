/*
 * The engine writes portable SQL with `?` placeholders; PostgreSQL numbers them (`$1`, `$2`, …).
 * A `?` inside a quoted string, a quoted identifier or a comment is left alone, so a literal such as
 * `LIKE '%?%'` keeps its meaning. Each distinct statement is translated once.
 */

const cache = new Map<string, string>();
/** The engine's statements are a fixed set; the cap only guards against SQL built from data. */
const CACHE_LIMIT = 2000;

export function numberPlaceholders(sql: string): string {
  const cached = cache.get(sql);
  if (cached !== undefined) return cached;
  const translated = translate(sql);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(sql, translated);
  return translated;
}

function translate(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // Standard strings: a doubled quote is the escape, so the literal ends at the first lone quote.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j += 1;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end === -1 ? sql.length : end;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const j = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, j);
      i = j;
    } else if (c === '?') {
      n += 1;
      out += `$${n}`;
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}
