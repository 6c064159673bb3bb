/**
 * The private CA of the transport checks. A registry behind a corporate CA is the case `ca` exists for, so the kit
 * makes a throwaway CA and a server certificate for 127.0.0.1 and `localhost`, hands them to the harness's `https`
 * hook, and configures `ca` with the CA alone. Node reads certificates but cannot issue them, hence `openssl`; the
 * group is skipped where it is missing. (test-servers' `makeTestCertificates` does the same for the repository's own
 * tests; the kit is published and cannot depend on that private package, so it carries these few lines itself.)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the kit gives the harness's `https` hook: a CA, and a server certificate it signed. */
export interface ConformanceTls {
  /** PEM of the CA certificate: what the checks put in the registry's `ca`. The server need not send it. */
  ca: string;
  /** Path of a file holding `ca`, for the check of `ca` given as a file. */
  caFile: string;
  /** PEM of the server's private key. */
  key: string;
  /** PEM of the server certificate, valid for `localhost` and `127.0.0.1` (serve on one of those). */
  cert: string;
}

let available: boolean | undefined;

/** Whether `openssl` runs on this machine (asked once). */
export function opensslAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** Makes a CA and a server certificate (EC P-256 keys, valid two days) in `dir`, which it creates. */
export async function makeConformanceCertificates(dir: string): Promise<ConformanceTls> {
  await mkdir(dir, { recursive: true });
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = [
    '-subj',
    '/CN=agentos-registry conformance CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', ...ca);
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  await writeFile(
    join(dir, 'server.ext'),
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
  const read = (name: string) => readFile(join(dir, name), 'utf8');
  return { ca: await read('ca.crt'), caFile: join(dir, 'ca.crt'), key: await read('server.key'), cert: await read('server.crt') };
}
