import { readFileSync } from 'node:fs';
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
  const low = Math.max(2_048, Math.min(ephemeralLow(), 32_768) - 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the ephemeral range, and above the well-known ports.
    const port = 1_024 + Math.floor(Math.random() * (low - 1_024));
    if (!(await canConnect(port))) return port;
  }
  throw new Error('refusedPort: found no closed port below the ephemeral range');
}

/** The first port of the kernel's ephemeral range (Linux says it in /proc; elsewhere IANA's 49152, capped above). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1_024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Resolves once something accepts TCP connections on `port`, rejects after `timeoutMs`. */
export async function waitForPort(port: number, options: { timeoutMs?: number; intervalMs?: number; giveUp?: () => Error | undefined } = {}): Promise<void> {
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
