import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a server that can drop every connection, as a flaky network
 * does: after the n-th HTTP request it resets all sockets and refuses new ones until healed.
 */
export interface DropProxy {
  url: string;
  /** Requests seen so far. */
  readonly requests: number;
  /** Drop everything when the request count reaches `n` (that request is never forwarded). */
  dropAt(n: number): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startDropProxy(target: string): Promise<DropProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let requests = 0;
  let dropAt = Infinity;
  let down = false;
  const dropAll = () => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      requests += chunk.toString('latin1').match(/ HTTP\/1\.1\r\n/g)?.length ?? 0;
      if (requests >= dropAt) dropAll();
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    get requests() {
      return requests;
    },
    dropAt(n) {
      dropAt = n;
    },
    heal() {
      down = false;
      dropAt = Infinity;
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
