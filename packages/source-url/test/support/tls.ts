import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { tempDir } from './scene.js';

/** Whether `openssl` is on this machine, to make a private CA for the TLS tests. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for 127.0.0.1: the "private CA" of an intranet. */
export async function selfSigned(): Promise<{ key: string; cert: string; certFile: string }> {
  const dir = await tempDir('tls');
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8'), certFile };
}

/** A minimal HTTPS static file server for `root` on 127.0.0.1 (the static test server speaks plain HTTP only). */
export async function startHttpsStatic(root: string, tls: { key: string; cert: string }) {
  const paths: string[] = [];
  const server = createServer(tls, async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    paths.push(path);
    try {
      const body = await readFile(join(root, normalize(`/${decodeURIComponent(path)}`)));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
