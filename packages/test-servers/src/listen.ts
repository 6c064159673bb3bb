import type { Server } from 'node:http';
import net, { type Socket } from 'node:net';
import { LOOPBACK } from './free-port.js';

/** A listening server plus what is needed to tear it down abruptly. */
export interface Listening {
  port: number;
  /** Stops accepting, destroys every open socket (mid-transfer ones included) and waits for the close. */
  shutdown(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with an OS-chosen port and tracks every socket, because `server.close()`
 * alone waits for keep-alive clients (fetch pools them) and would hang a test's teardown.
 */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    shutdown() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/**
 * Holds `port` after its server died: every connection is reset at once, as a dead server's would fail,
 * and no other server (another test's, in another worker) can take the port and answer in its place.
 * Resolves to a release function; when the port was already taken, holds nothing.
 */
export async function holdDeadPort(port: number): Promise<() => Promise<void>> {
  const tombstone = net.createServer((socket) => socket.resetAndDestroy());
  const held = await new Promise<boolean>((resolve) => {
    tombstone.once('error', () => resolve(false));
    tombstone.listen(port, LOOPBACK, () => resolve(true));
  });
  if (!held) return async () => {};
  return () => new Promise<void>((resolve) => tombstone.close(() => resolve()));
}
