import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local HTTP service on 127.0.0.1 that records what it was sent; each route answers as the test says. */
export async function localService(routes: Record<string, (req: IncomingMessage, res: ServerResponse, seen: Seen) => void>): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      const path = (req.url ?? '').split('?')[0] ?? '';
      // An exact route, else the one named by the first segment (`/inspect/anything`).
      const route = routes[path] ?? routes[`/${path.split('/')[1] ?? ''}`];
      if (!route) {
        res.writeHead(404).end('no such route');
        return;
      }
      route(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
