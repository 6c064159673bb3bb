import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { LOOPBACK } from './free-port.js';

/** A listening server plus what is needed to tear it down abruptly. */
export interface Listening {
  port: number;
  /**
   * Plays dead without giving the port up: every open socket is destroyed (mid-transfer ones included) and every
   * new connection is reset at once, until `shutdown()`. A port closed instead could be taken by another test's
   * server, which would then answer in this one's place.
   */
  kill(): void;
  /** Stops accepting, destroys every open socket (mid-transfer ones included) and waits for the close. */
  shutdown(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with an OS-chosen port and tracks every socket, because `server.close()`
 * alone waits for keep-alive clients (fetch pools them) and would hang a test's teardown.
 */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  let dead = false;
  // Registered first, so a dead server resets a connection before any request handler sees it.
  server.prependListener('connection', (socket: Socket) => {
    if (dead) {
      socket.resetAndDestroy();
      return;
    }
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
    kill() {
      dead = true;
      for (const socket of sockets) socket.destroy();
    },
    shutdown() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
