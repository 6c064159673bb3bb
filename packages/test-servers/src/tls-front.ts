/**
 * HTTPS in front of any of the plain-HTTP test servers, with a private CA made at test time: what an intranet
 * registry behind a corporate CA looks like. Every HTTP source's `ca` option is tested through it. The CA and the
 * server certificate are made with `openssl` (Node can read certificates but not issue them); `hasOpenssl()` lets a
 * test skip where it is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { LOOPBACK } from './free-port.js';
import { makeTempDir } from './temp-dir.js';

/** Whether `openssl` is on this machine. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway CA, and a server certificate for `localhost` and 127.0.0.1 that it signed. */
export interface TestCertificates {
  /** PEM of the CA certificate: what a registry's `ca` option is given. */
  ca: string;
  /** Path of that PEM file (for `ca: './file.pem'` or NODE_EXTRA_CA_CERTS). */
  caFile: string;
  key: string;
  cert: string;
  /** Removes the files. */
  close(): Promise<void>;
}

/** Makes a CA and a server certificate (EC keys: fast), valid for two days, in `into` or a temp folder of its own. */
export async function makeTestCertificates(into?: string): Promise<TestCertificates> {
  // Into a folder the caller owns (close() then leaves it), or a temp folder of its own that close() removes.
  const dir = into ? { path: into, close: async () => {} } : await makeTempDir('agentos-registry-tls-');
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir.path, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=agentos-registry test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(
    join(dir.path, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  const read = (name: string) => readFile(join(dir.path, name), 'utf8');
  return { ca: await read('ca.crt'), caFile: join(dir.path, 'ca.crt'), key: await read('server.key'), cert: await read('server.crt'), close: dir.close };
}

/** An HTTPS front on 127.0.0.1. */
export interface TlsFront {
  /** `https://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** Every request path the front passed on, in order. */
  readonly paths: string[];
  close(): Promise<void>;
}

/**
 * Terminates TLS and passes every request on, as is (method, path, headers plus `X-Forwarded-Proto: https`, body;
 * the answer streamed back), to the plain-HTTP server at `target` (e.g. a static server's or the GitHub emulator's URL).
 */
export async function startTlsFront(target: string, tls: { key: string; cert: string }): Promise<TlsFront> {
  const upstream = new URL(target);
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(tls, (req, res) => {
    paths.push(req.url ?? '/');
    // Said the way TLS-terminating proxies say it, so a server that builds absolute URLs (Verdaccio's tarball URLs)
    // builds https:// ones; the Host header stays the front's.
    const headers = { ...req.headers, 'x-forwarded-proto': 'https' };
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that refuses the certificate ends the handshake; that is what some tests want to see, not a crash.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${LOOPBACK}:${port}`,
    port,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
