/**
 * The console's Content-Security-Policy: only its own scripts, styles and images, no inline
 * script, no plugins, no framing, no form posts. The renderer's `index.html` carries the same
 * policy in a meta tag (what applies to `file://`); the desktop app and browser mode also send it
 * as a response header, where `frame-ancestors` works too.
 */
export function contentSecurityPolicy(options: { connect?: readonly string[]; devServer?: string } = {}): string {
  // Vite's dev server injects an inline React Refresh preamble and styles, and talks HMR over a
  // WebSocket: only a development window (never a built one) gets these exceptions.
  const dev = options.devServer === undefined ? [] : ["'unsafe-inline'"];
  const devConnect = options.devServer === undefined ? [] : [options.devServer, options.devServer.replace(/^http/, 'ws')];
  return [
    "default-src 'self'",
    ["script-src 'self'", ...dev].join(' '),
    ["style-src 'self'", ...dev].join(' '),
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...(options.connect ?? []), ...devConnect].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
