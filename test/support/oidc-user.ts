/*
 * A person at the provider's pages, played with plain HTTP: follows redirects with the provider's
 * cookies, fills its login form (any password), answers its consent and device-confirmation forms,
 * and follows the final redirect back to the client (a loopback callback) as a browser would.
 */

export interface PersonVisit {
  /** Where the provider finally sent the browser (the client's callback), or the last page shown. */
  url: string;
  status: number;
  body: string;
}

const attribute = (tag: string, name: string): string | undefined => new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(tag)?.[1];
const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The first POST form of a page with its named inputs (what a browser would submit). */
function firstForm(html: string): { action: string; fields: Map<string, string> } | null {
  const m = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!m || (attribute(m[1]!, 'method') ?? 'get').toLowerCase() !== 'post') return null;
  const fields = new Map<string, string>();
  for (const input of m[2]!.matchAll(/<input\b([^>]*)>/gi)) {
    const name = attribute(input[1]!, 'name');
    if (name) fields.set(name, unescapeHtml(attribute(input[1]!, 'value') ?? ''));
  }
  return { action: unescapeHtml(attribute(m[1]!, 'action') ?? ''), fields };
}

/**
 * Opens `startUrl` (an authorization request, or a device verification URI) as `login` would:
 * signs in, consents, confirms a device code, and returns where the provider let go of the browser.
 */
export async function visitAsPerson(startUrl: string, login: string, options: { issuer: string; maxSteps?: number } = { issuer: new URL(startUrl).origin }): Promise<PersonVisit> {
  const issuerOrigin = new URL(options.issuer).origin;
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = startUrl;
  let init: RequestInit = { method: 'GET' };
  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    const sameSite = new URL(url).origin === issuerOrigin;
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), ...(sameSite && cookies.size ? { cookie: cookieHeader() } : {}) } });
    if (sameSite) {
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url).href;
      init = { method: 'GET' };
      continue;
    }
    const body = await res.text();
    const form = sameSite ? firstForm(body) : null;
    if (!form) return { url, status: res.status, body };
    if (form.fields.has('login')) form.fields.set('login', login);
    if (form.fields.has('password')) form.fields.set('password', 'any password will do');
    url = new URL(form.action, url).href;
    init = { method: 'POST', body: new URLSearchParams([...form.fields]).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }
  throw new Error(`the provider's pages did not let go of ${login} within ${options.maxSteps ?? 20} steps (last at ${url})`);
}
