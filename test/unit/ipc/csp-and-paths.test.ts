import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultUserDataDir } from '../../../main/ipc/user-data.js';
import { contentSecurityPolicy } from '../../../main/web/csp.js';
import { mimeType } from '../../../main/web/static-files.js';

describe('content security policy', () => {
  it('allows only our own scripts and styles, nothing inline, no framing', () => {
    const csp = contentSecurityPolicy({ connect: ['ws://127.0.0.1:5199'] });
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:5199;");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('relaxes only for the development server', () => {
    const csp = contentSecurityPolicy({ devServer: 'http://localhost:5173' });
    expect(csp).toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain('connect-src \'self\' http://localhost:5173 ws://localhost:5173');
  });
});

describe('paths and types', () => {
  it('puts user data where each OS expects it', () => {
    expect(defaultUserDataDir('linux', { XDG_CONFIG_HOME: '/x' })).toBe(join('/x', 'Rewind'));
    expect(defaultUserDataDir('win32', { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' })).toBe(join('C:\\Users\\a\\AppData\\Roaming', 'Rewind'));
    expect(defaultUserDataDir('darwin', {})).toMatch(/Library[/\\]Application Support[/\\]Rewind$/);
  });

  it('serves scripts, styles and fonts with their MIME types', () => {
    expect(mimeType('a/index-X1.js')).toBe('text/javascript; charset=utf-8');
    expect(mimeType('a/index.CSS')).toBe('text/css; charset=utf-8');
    expect(mimeType('f.woff2')).toBe('font/woff2');
    expect(mimeType('unknown.bin')).toBe('application/octet-stream');
  });
});
