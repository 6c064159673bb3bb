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
