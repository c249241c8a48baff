import { maskerFor } from '../../main/engine/executor/masking.js';
import { staticSecrets } from '../../main/engine/executor/secrets.js';
import { nowMs, percentile } from './lib.js';

/*
 * A masking pass over a realistic checkpoint: the context of a run ten http nodes in, each answer a
 * page of 25 order rows (about 60 KB of JSON), with two secrets set. Measured against the redactor
 * it replaced (issue 20), which hid a secret only verbatim, JSON-escaped and percent-encoded: its
 * code is kept here, as it was, to be the baseline.
 */

interface Redactor {
  value<T>(value: T): T;
}

/** The verbatim-only redactor before issue 20 (main/engine/executor/redact.ts), unchanged. */
function previousRedactor(secrets: Array<[string, string]>): Redactor {
  const urlForms = (value: string): string[] => {
    try {
      return [new URL(`http://h/${value}`).pathname.slice(1), new URL(`http://h/?${value}`).search.slice(1)];
    } catch {
      return [];
    }
  };
  const forms: Array<{ needle: string; mask: string }> = [];
  for (const [name, value] of secrets) {
    const mask = `[secret:${name}]`;
    for (const needle of new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), ...urlForms(value)])) {
      if (needle !== '') forms.push({ needle, mask });
    }
  }
  forms.sort((a, b) => b.needle.length - a.needle.length);
  const text = (input: string): string => {
    let out = input;
    for (const { needle, mask } of forms) if (out.includes(needle)) out = out.split(needle).join(mask);
    return out;
  };
  const redactValue = (input: unknown): unknown => {
    if (typeof input === 'string') return text(input);
    if (Array.isArray(input)) return input.map(redactValue);
    if (typeof input === 'object' && input !== null) return Object.fromEntries(Object.entries(input).map(([k, v]) => [text(k), redactValue(v)]));
    return input;
  };
  return { value: <T>(v: T): T => redactValue(v) as T };
}

function checkpoint(): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (let node = 0; node < 10; node += 1) {
    outputs[`fetch_${node}`] = {
      page: node,
      next: `https://orders.internal.example/api/v2/orders?page=${node + 1}&per_page=25`,
      items: Array.from({ length: 25 }, (_, i) => ({
        id: `ord_${node}_${i}_7f3a9c2e`,
        customer: { name: `Customer ${i}`, email: `customer${i}@example.com`, tier: i % 3 === 0 ? 'gold' : 'standard' },
        lines: [
          { sku: `SKU-${1000 + i}`, qty: i % 4, price: 19.99 },
          { sku: `SKU-${2000 + i}`, qty: 1, price: 5.5 },
        ],
        status: 'shipped',
        note: 'Left at the reception desk; signed by the night guard.',
      })),
    };
  }
  return { batch: 7, line: 'A3', defect_rate: 0.021, outputs, report: { verdict: 'pass', line: 'A3' } };
}

/** Median ms per masking pass of the new masker and of the previous redactor, over the same checkpoint. */
export function measureMasking(passes = 200): { masker: number; previous: number; bytes: number } {
  const secrets: Array<[string, string]> = [
    ['API_TOKEN', 'tok_live_9f2Kq7Lm3Xz8Pw4Rb6Tn0Yc5Hd1Jg'],
    ['DB_PASSWORD', 'correct-horse'],
  ];
  const state = checkpoint();
  const masker = maskerFor(staticSecrets(Object.fromEntries(secrets)));
  const previous = previousRedactor(secrets);
  const time = (pass: () => unknown): number => {
    for (let i = 0; i < 20; i += 1) pass();
    const samples: number[] = [];
    for (let i = 0; i < passes; i += 1) {
      const t = nowMs();
      pass();
      samples.push(nowMs() - t);
    }
    return percentile(samples, 50);
  };
  // Interleaved halves, so a burst of load on the machine weighs on both.
  const a1 = time(() => masker.value(state));
  const b1 = time(() => previous.value(state));
  const a2 = time(() => masker.value(state));
  const b2 = time(() => previous.value(state));
  return { masker: (a1 + a2) / 2, previous: (b1 + b2) / 2, bytes: JSON.stringify(state).length };
}
