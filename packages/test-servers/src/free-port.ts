import net from 'node:net';

/** The only interface any server in this package binds to, so no test ever listens beyond loopback. */
export const LOOPBACK = '127.0.0.1';

/**
 * Finds a TCP port on 127.0.0.1 that is free right now, by listening on port 0 and closing again.
 * Another process may take the port before the caller binds it; callers that spawn a child
 * (git daemon) must retry on "address in use" rather than trust this answer.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: server has no TCP address');
  return address.port;
}

/**
 * A port on 127.0.0.1 where nothing listens and no test server will start: chosen below the kernel's
 * ephemeral range (which `listen(0)` draws from), and checked to refuse connections. Use it for
 * "the server is down" cases: a port from {@link freePort} may be taken by another test's server
 * meanwhile, which would then answer in its place.
 */
export async function refusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (!(await canConnect(port))) return port;
  }
  throw new Error('refusedPort: found no closed port below the ephemeral range');
}

/** Resolves once something accepts TCP connections on `port`, rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  options: { timeoutMs?: number; intervalMs?: number; giveUp?: () => Error | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const intervalMs = options.intervalMs ?? 25;
  for (;;) {
    const reason = options.giveUp?.();
    if (reason) throw reason;
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on ${LOOPBACK}:${port} in time`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: LOOPBACK });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
