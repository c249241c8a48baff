import type { SecretSource } from './secrets.js';

/*
 * The one masking function. Secret values never leave a real node — its output, its error, anything
 * logged — without passing through here, and the server's log lines pass through it again. A secret
 * is hidden in the forms a service or a log commonly gives it back in:
 *
 * - as is, upper-cased, lower-cased or in any mix of case (matching ignores ASCII case), and reversed;
 * - JSON-escaped; percent-encoded (encodeURIComponent, form encoding, a parsed URL's path and query);
 * - hex; base64 and base64url (padded or not, and at each of the three alignments a secret can take
 *   inside a longer encoded text, such as `Basic base64(user:secret)`);
 * - for a secret of 16 characters or more, any prefix or suffix of 12 or more characters of each of
 *   these forms (a service that echoes the first 12 characters of a token).
 *
 * What it cannot hide is a transformation it cannot predict (a hash, a rot13, an encryption, a
 * secret spelt one character per line): an http node talking to a service that echoes its input
 * should say `redact_response: true`, which keeps only its status and the fields the workflow reads.
 *
 * Cost: the forms are computed once per set of secrets (cached); a string shorter than the shortest
 * form is returned untouched, and a longer one is searched with one indexOf per distinct 12-character
 * anchor, on a copy folded to lower case once.
 */

export interface Masker {
  /** The text with every form of every secret replaced by `[secret:NAME]`. */
  text(input: string): string;
  /** A deep copy of a JSON value with every string (keys too) masked; the value itself when there are no secrets. */
  value<T>(input: T): T;
}

/** A secret of at least this many characters is also hidden by its prefixes and suffixes… */
const PARTIAL_SECRET_MIN = 16;
/** …of at least this many characters. */
const PARTIAL_MIN = 12;
/** Derived forms (encodings) shorter than this are not searched: they would match ordinary text. */
const DERIVED_MIN = 8;

interface Needle {
  /** What is searched for (ASCII-folded). */
  find: string;
  name: string;
  /** `whole`: the form itself; `prefix` / `suffix`: its first / last PARTIAL_MIN characters, extended along `forms`. */
  kind: 'whole' | 'prefix' | 'suffix';
  /** The folded forms the anchor starts (prefix) or ends (suffix): a match extends as far as one of them goes on. */
  forms: string[];
}

const NON_ASCII = /[^\u0020-\u007e\t\n\r]/;

/** Lower-cases ASCII letters only, so every index of the result is the same index of the input. */
function fold(text: string): string {
  return NON_ASCII.test(text) ? text.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : text.toLowerCase();
}

function reverse(text: string): string {
  return Array.from(text).reverse().join('');
}

/** base64 of `bytes` placed after 0, 1 or 2 unknown bytes: the characters that depend on the secret alone. */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64').replace(/=+$/, '');
    // The first characters mix in the unknown bytes before; the last one, unless the length is whole, the bytes after.
    const skip = [0, 2, 3][shift] as number;
    const whole = (shift + bytes.length) % 3 === 0;
    cores.push(encoded.slice(skip, whole ? encoded.length : encoded.length - 1));
  }
  // Also the padded form, as a service encoding the secret alone writes it.
  cores.push(bytes.toString('base64'));
  return cores;
}

/** The forms of one secret value a text may hold it in. */
export function secretForms(value: string): string[] {
  const forms = new Set<string>([value]);
  const derived = new Set<string>();
  for (const base of new Set([value, value.toUpperCase(), value.toLowerCase(), reverse(value)])) {
    forms.add(base);
    derived.add(JSON.stringify(base).slice(1, -1));
    derived.add(encodeURIComponent(base));
    derived.add(new URLSearchParams([['x', base]]).toString().slice(2));
    try {
      derived.add(new URL(`http://h/${base}`).pathname.slice(1));
      derived.add(new URL(`http://h/?${base}`).search.slice(1));
    } catch {
      // Not a URL's path or query once parsed: no such form.
    }
    const bytes = Buffer.from(base, 'utf8');
    derived.add(bytes.toString('hex'));
    for (const core of base64Cores(bytes)) {
      derived.add(core);
      derived.add(core.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
    }
  }
  for (const d of derived) if (d.length >= DERIVED_MIN) forms.add(d);
  return [...forms].filter((f) => f !== '');
}

function needlesFor(name: string, value: string): Needle[] {
  const folded = [...new Set(secretForms(value).map(fold))];
  const partial = value.length >= PARTIAL_SECRET_MIN;
  const needles: Needle[] = [];
  for (const form of folded) {
    if (!partial || form.length < PARTIAL_MIN) {
      needles.push({ find: form, name, kind: 'whole', forms: [form] });
      continue;
    }
    needles.push({ find: form.slice(0, PARTIAL_MIN), name, kind: 'prefix', forms: [form] });
    needles.push({ find: form.slice(-PARTIAL_MIN), name, kind: 'suffix', forms: [form] });
  }
  return needles;
}

/** Needles with the same text and kind searched once: a match extends along any of their forms. */
function merge(needles: Needle[]): Needle[] {
  const byKey = new Map<string, Needle>();
  for (const n of needles) {
    const key = `${n.kind}\u0000${n.find}`;
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, { ...n, forms: [...n.forms] });
    else seen.forms.push(...n.forms);
  }
  // Whole forms longest first, so a secret containing another is reported as the longer one.
  return [...byKey.values()].sort((a, b) => b.find.length - a.find.length);
}

type Span = [start: number, end: number, name: string];

function spansOf(folded: string, needles: readonly Needle[]): Span[] {
  const spans: Span[] = [];
  for (const n of needles) {
    let at = folded.indexOf(n.find);
    while (at >= 0) {
      if (n.kind === 'whole') {
        spans.push([at, at + n.find.length, n.name]);
      } else if (n.kind === 'prefix') {
        let end = at + n.find.length;
        for (const form of n.forms) {
          let k = n.find.length;
          while (k < form.length && at + k < folded.length && folded.charCodeAt(at + k) === form.charCodeAt(k)) k += 1;
          end = Math.max(end, at + k);
        }
        spans.push([at, end, n.name]);
      } else {
        const stop = at + n.find.length;
        let start = at;
        for (const form of n.forms) {
          let k = form.length - n.find.length;
          let s = at;
          while (k > 0 && s > 0 && folded.charCodeAt(s - 1) === form.charCodeAt(k - 1)) {
            k -= 1;
            s -= 1;
          }
          start = Math.min(start, s);
        }
        spans.push([start, stop, n.name]);
      }
      at = folded.indexOf(n.find, at + 1);
    }
  }
  return spans;
}

function masked(input: string, spans: Span[]): string {
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let pos = 0;
  let current: Span | null = null;
  for (const span of spans) {
    if (current !== null && span[0] <= current[1]) {
      current[1] = Math.max(current[1], span[1]);
      continue;
    }
    if (current !== null) {
      out += `${input.slice(pos, current[0])}[secret:${current[2]}]`;
      pos = current[1];
    }
    current = [span[0], span[1], span[2]];
  }
  if (current !== null) out += `${input.slice(pos, current[0])}[secret:${current[2]}]`;
  return out + input.slice(current === null ? pos : current[1]);
}

function build(pairs: ReadonlyArray<readonly [string, string]>): Masker {
  const needles = merge(pairs.flatMap(([name, value]) => needlesFor(name, value)));
  const shortest = needles.reduce((min, n) => Math.min(min, n.find.length), Number.POSITIVE_INFINITY);
  // One scan tells whether any needle is there at all (most strings hold none); only then each is sought.
  const any = new RegExp(needles.map((n) => n.find.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
  const text = (input: string): string => {
    if (input.length < shortest) return input;
    const folded = fold(input);
    if (!any.test(folded)) return input;
    const spans = spansOf(folded, needles);
    return spans.length === 0 ? input : masked(input, spans);
  };
  const deep = (input: unknown): unknown => {
    if (typeof input === 'string') return text(input);
    if (Array.isArray(input)) return input.map(deep);
    if (typeof input === 'object' && input !== null) return Object.fromEntries(Object.entries(input).map(([k, v]) => [text(k), deep(v)]));
    return input;
  };
  return { text, value: <T>(input: T): T => (needles.length === 0 ? input : (deep(input) as T)) };
}

const NONE: Masker = { text: (s) => s, value: (v) => v };
const cache = new Map<string, Masker>();
const CACHE_MAX = 16;

const recent = new WeakMap<SecretSource, { at: number; masker: Masker }>();

/**
 * The masker for a source's secrets now (its forms computed once per set of values). `maxAgeMs`: a
 * masker built from the source's values that recently may serve — for a caller as frequent as the
 * log, since listing the environment's secrets costs about as much as masking a line.
 */
export function maskerFor(secrets: SecretSource, options: { maxAgeMs?: number } = {}): Masker {
  if (options.maxAgeMs !== undefined) {
    const seen = recent.get(secrets);
    const now = performance.now();
    if (seen !== undefined && now - seen.at < options.maxAgeMs) return seen.masker;
    const masker = maskerFor(secrets);
    recent.set(secrets, { at: now, masker });
    return masker;
  }
  const pairs = secrets.all().filter(([, v]) => v !== '');
  if (pairs.length === 0) return NONE;
  const key = JSON.stringify(pairs);
  let found = cache.get(key);
  if (found === undefined) {
    found = build(pairs);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, found);
  }
  return found;
}
