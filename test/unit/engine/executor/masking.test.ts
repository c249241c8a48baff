import { describe, expect, it } from 'vitest';
import { maskerFor, secretForms } from '../../../../main/engine/executor/masking.js';
import { staticSecrets } from '../../../../main/engine/executor/secrets.js';

/* Every common form of a secret is masked; ordinary text is left alone. */

const TOKEN = 'tok_9f2Kq7Lm3Xz8Pw4Rb6'; // 20 characters: prefixes and suffixes of 12+ are masked too
const SHORT = 'pa$$ w0rd"'; // 10 characters: its forms, whole
const mask = maskerFor(staticSecrets({ API_TOKEN: TOKEN, DB_PASSWORD: SHORT }));
const reverse = (s: string) => [...s].reverse().join('');
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('maskerFor', () => {
  it('masks the value and its encoded and transformed forms', () => {
    const forms: Record<string, string> = {
      verbatim: TOKEN,
      upper: TOKEN.toUpperCase(),
      lower: TOKEN.toLowerCase(),
      mixed: 'TOK_9f2kQ7lm3xZ8pw4rB6',
      reversed: reverse(TOKEN),
      'reversed upper': reverse(TOKEN).toUpperCase(),
      base64: b64(TOKEN),
      'base64 unpadded': b64(TOKEN).replace(/=+$/, ''),
      base64url: Buffer.from(TOKEN).toString('base64url'),
      'base64 of upper': b64(TOKEN.toUpperCase()),
      'base64 of reversed': b64(reverse(TOKEN)),
      hex: Buffer.from(TOKEN).toString('hex'),
      'hex upper': Buffer.from(TOKEN).toString('hex').toUpperCase(),
      'url-encoded': encodeURIComponent(`${TOKEN}/=&`).slice(0, -9),
      'json-escaped': JSON.stringify(TOKEN).slice(1, -1),
      'first 12': TOKEN.slice(0, 12),
      'first 15': TOKEN.slice(0, 15),
      'last 12': TOKEN.slice(-12),
      'first 12 upper': TOKEN.slice(0, 12).toUpperCase(),
      'base64 of first 12': b64(TOKEN.slice(0, 12)),
      'hex of last 8 (16 hex chars)': Buffer.from(TOKEN.slice(-8)).toString('hex'),
    };
    for (const [what, form] of Object.entries(forms)) {
      const out = mask.text(`echo: <${form}> end`);
      expect(out, what).toBe('echo: <[secret:API_TOKEN]> end');
    }
  });

  it('masks a secret inside a longer base64 text at any alignment (Basic user:secret)', () => {
    for (const user of ['a', 'ab', 'abc', 'deploy-bot']) {
      const basic = `Basic ${b64(`${user}:${TOKEN}`)}`;
      const out = mask.text(basic);
      expect(out, user).toContain('[secret:API_TOKEN]');
      // What is left can no longer be decoded back to the secret's bytes.
      expect(Buffer.from(out.replace(/^Basic /, '').replace(/\[secret:API_TOKEN\]/, ''), 'base64').toString('latin1')).not.toContain(TOKEN.slice(2, 14));
    }
  });

  it('masks a short secret only whole, in its forms, with JSON-escaped and URL forms', () => {
    expect(mask.text(`pw=${SHORT}`)).toBe('pw=[secret:DB_PASSWORD]');
    expect(mask.text(JSON.stringify({ pw: SHORT }))).toBe('{"pw":"[secret:DB_PASSWORD]"}');
    expect(mask.text(`?pw=${encodeURIComponent(SHORT)}`)).toBe('?pw=[secret:DB_PASSWORD]');
    expect(mask.text(`?pw=${new URLSearchParams([['x', SHORT]]).toString().slice(2)}`)).toBe('?pw=[secret:DB_PASSWORD]');
    expect(mask.text(b64(SHORT))).toBe('[secret:DB_PASSWORD]');
    // A prefix of a short secret is no secret's form: "pa$$ w" is left alone.
    expect(mask.text('pa$$ w')).toBe('pa$$ w');
  });

  it('leaves ordinary text alone, and masks keys and values of a JSON value deeply', () => {
    const text = 'defect_rate 0.02 on line A3 for batch 7: tok_ and Kq7 are fragments, not the secret';
    expect(mask.text(text)).toBe(text);
    expect(mask.value({ [TOKEN]: [{ echoed: reverse(TOKEN) }, 3, null, true], ok: 'fine' })).toEqual({ '[secret:API_TOKEN]': [{ echoed: '[secret:API_TOKEN]' }, 3, null, true], ok: 'fine' });
  });

  it('masks overlapping and adjacent occurrences as one, keeping the text around them', () => {
    expect(mask.text(`${TOKEN}${TOKEN.slice(0, 13)}|${reverse(TOKEN)}`)).toBe('[secret:API_TOKEN]|[secret:API_TOKEN]');
    expect(mask.text(`a ${TOKEN} b ${TOKEN.toUpperCase()} c`)).toBe('a [secret:API_TOKEN] b [secret:API_TOKEN] c');
  });

  it('is the identity without secrets', () => {
    const none = maskerFor(staticSecrets({}));
    const value = { a: TOKEN };
    expect(none.value(value)).toBe(value);
    expect(none.text(TOKEN)).toBe(TOKEN);
  });

  it('lists each form once, none shorter than 8 characters but the value itself', () => {
    const forms = secretForms(TOKEN);
    expect(new Set(forms).size).toBe(forms.length);
    expect(forms.filter((f) => f !== TOKEN && f.length < 8)).toEqual([]);
    expect(forms).toContain(Buffer.from(TOKEN).toString('hex'));
  });
});
