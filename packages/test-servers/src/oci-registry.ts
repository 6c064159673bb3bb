/**
 * A real OCI registry on 127.0.0.1: Debian's `docker-registry` (the CNCF distribution registry) with filesystem storage
 * in a temp folder, anonymous, behind htpasswd (Basic), or behind the distribution spec's token flow with a tiny
 * token server here that signs JWTs (RS256, the certificate in `x5c`) with a key whose certificate the registry trusts
 * (`auth.token.rootcertbundle`). Optionally a front on another port answers blob GETs with a 307 to a third origin
 * that serves the blob from the storage folder, as S3-backed registries do, and records what it was sent.
 *
 * The registry writes its access log (combined format) to stdout; `requests()` parses it, so request counts come from
 * the registry itself. `hasDockerRegistry()` lets a test skip where the package is missing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, request as httpRequest, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { freePort, LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';
import { makeTempDir } from './temp-dir.js';

/** Where Debian installs the registry. */
export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

/** Whether `docker-registry` is on this machine. */
export function hasDockerRegistry(): boolean {
  return existsSync(DOCKER_REGISTRY_BIN);
}

/**
 * The one user of the htpasswd and token variants. docker-registry only takes bcrypt lines; the hash is of this
 * password at cost 4 (made once with bcryptjs), so no bcrypt code or `htpasswd` binary is needed at test time.
 */
export const OCI_TEST_USER = {
  username: 'oci-user',
  password: 'oci-test-password',
  bcrypt: '$2a$04$.QyT4q.Cf/2NpmUbPjbWfuCei.YX1MAYyI7Y4GwxQyrtmpuVtwYHC',
} as const;

export interface OciRegistryOptions {
  /** `none` (default), `htpasswd` (Basic, {@link OCI_TEST_USER}) or `token` (Bearer from the token server). */
  auth?: 'none' | 'htpasswd' | 'token';
  /** For `token`: whether the token server hands anonymous callers a pull token (default false: 401 without Basic). */
  anonymousPull?: boolean;
  /** Puts a front before the registry that answers blob GETs with a 307 to another origin (`blobHost`). */
  redirectBlobs?: boolean;
}

/** One line of the registry's access log. */
export interface OciRequestLog {
  method: string;
  path: string;
  status: number;
  userAgent: string;
}

/** A request the blob host or the token server received; `authorization` says only whether one was sent, and which scheme. */
export interface OciSideRequestLog {
  path: string;
  authorization: string | undefined;
}

export interface OciRegistry {
  /** `http://127.0.0.1:<port>` that clients use (the front when `redirectBlobs`). */
  url: string;
  /** `127.0.0.1:<port>`, for `oci://` locations. */
  host: string;
  /** The registry's storage root (`docker/registry/v2/…` below it). */
  storage: string;
  /** Every request of the registry's access log so far. */
  requests(): OciRequestLog[];
  /** Requests the token server got (token variant). */
  tokenRequests: OciSideRequestLog[];
  /** Requests the redirect target got (`redirectBlobs`). */
  blobHostRequests: OciSideRequestLog[];
  /** The file of a stored blob (`sha256:<hex>`), to tamper with. */
  blobFile(digest: string): string;
  close(): Promise<void>;
}

export async function startOciRegistry(options: OciRegistryOptions = {}): Promise<OciRegistry> {
  if (!hasDockerRegistry()) throw new Error(`startOciRegistry: ${DOCKER_REGISTRY_BIN} is missing (apt-get install docker-registry)`);
  const dir = await makeTempDir('agentos-registry-oci-');
  const closers: Array<() => Promise<void>> = [() => dir.close()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer().catch(() => {});
  };
  try {
    const storage = join(dir.path, 'storage');
    const tokenRequests: OciSideRequestLog[] = [];
    const blobHostRequests: OciSideRequestLog[] = [];
    let auth: Record<string, unknown> | undefined;
    if (options.auth === 'htpasswd') {
      await writeFile(join(dir.path, 'htpasswd'), `${OCI_TEST_USER.username}:${OCI_TEST_USER.bcrypt}\n`);
      auth = { htpasswd: { realm: 'agentos-test', path: join(dir.path, 'htpasswd') } };
    } else if (options.auth === 'token') {
      const issuer = await startTokenServer(dir.path, tokenRequests, options.anonymousPull === true);
      closers.push(issuer.close);
      auth = { token: { realm: issuer.realm, service: 'agentos-test-registry', issuer: 'agentos-test-issuer', rootcertbundle: issuer.certFile } };
    }
    const port = await freePort();
    // JSON is YAML, which is what the registry reads.
    const config = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: false } },
      storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: `${LOOPBACK}:${port}`, secret: randomBytes(16).toString('hex') },
      ...(auth ? { auth } : {}),
    };
    await writeFile(join(dir.path, 'config.yml'), JSON.stringify(config, null, 2));
    const child = spawn(DOCKER_REGISTRY_BIN, ['serve', join(dir.path, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    closers.push(() => stop(child));
    const log: OciRequestLog[] = [];
    let stderr = '';
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const match = /"(\S+) (\S+) HTTP\/[\d.]+" (\d{3}) \S+ "[^"]*" "([^"]*)"/.exec(line);
        if (match) log.push({ method: match[1]!, path: match[2]!, status: Number(match[3]), userAgent: match[4]! });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const registryUrl = `http://${LOOPBACK}:${port}`;
    await waitForV2(registryUrl, () => (child.exitCode !== null ? `docker-registry exited (${child.exitCode}): ${stderr}` : undefined));
    let url = registryUrl;
    if (options.redirectBlobs) {
      const blobHost = await startBlobHost(storage, blobHostRequests);
      closers.push(blobHost.close);
      const front = await startRedirectFront(registryUrl, blobHost.url);
      closers.push(front.close);
      url = front.url;
    }
    return {
      url,
      host: new URL(url).host,
      storage,
      requests: () => [...log],
      tokenRequests,
      blobHostRequests,
      blobFile: (digest) => blobPath(storage, digest),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function blobPath(storage: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`not a sha256 digest: ${digest}`);
  return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

async function waitForV2(url: string, died: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const reason = died();
    if (reason) throw new Error(reason);
    const status = await fetch(`${url}/v2/`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200 || status === 401) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer /v2/ at ${url} in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function scheme(header: string | undefined): string | undefined {
  return header?.split(' ')[0]?.toLowerCase();
}

/** The token server: Basic `OCI_TEST_USER` (or nobody, with `anonymousPull`) gets every action the scope asks for. */
async function startTokenServer(dir: string, requests: OciSideRequestLog[], anonymousPull: boolean) {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=agentos test token issuer'],
    { stdio: 'pipe' },
  );
  const key = readFileSync(keyFile, 'utf8');
  const der = Buffer.from(
    readFileSync(certFile, 'utf8')
      .replace(/-----[^-]+-----/g, '')
      .replace(/\s+/g, ''),
    'base64',
  );
  const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://token');
    requests.push({ path: url.pathname + url.search, authorization: scheme(req.headers.authorization) });
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const user = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : undefined;
    const good = user === `${OCI_TEST_USER.username}:${OCI_TEST_USER.password}`;
    if (!(good || (anonymousPull && !user))) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      return type && name && actions ? [{ type, name, actions: good ? actions.split(',') : ['pull'] }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'agentos-test-issuer',
      sub: good ? OCI_TEST_USER.username : '',
      aud: url.searchParams.get('service') ?? '',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const signing = `${b64url({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] })}.${b64url(claims)}`;
    const token = `${signing}.${createSign('RSA-SHA256').update(signing).sign(key).toString('base64url')}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  const listening = await listenOnLoopback(server);
  return { realm: `http://${LOOPBACK}:${listening.port}/token`, certFile, close: () => listening.shutdown() };
}

/** Serves blobs from the storage folder at `/blobs/<digest>`: the "S3" a registry redirects blob GETs to. */
async function startBlobHost(storage: string, requests: OciSideRequestLog[]) {
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '/', authorization: scheme(req.headers.authorization) });
    const digest = /^\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
    const file = digest && blobPath(storage, digest);
    if (!file || !existsSync(file)) return void res.writeHead(404).end();
    const bytes = readFileSync(file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
  });
  const listening = await listenOnLoopback(server);
  return { url: `http://${LOOPBACK}:${listening.port}`, close: () => listening.shutdown() };
}

/**
 * Passes every request to the registry (Host kept, so the URLs the registry names point here), except a blob GET the registry would answer 200 (asked with a HEAD carrying
 * the same headers, so auth is the registry's own decision): that one is a 307 to the blob host.
 */
async function startRedirectFront(registryUrl: string, blobHostUrl: string) {
  const target = new URL(registryUrl);
  const forward = (req: IncomingMessage, res: ServerResponse, method = req.method) =>
    new Promise<number>((resolve) => {
      const upstream = httpRequest({ host: target.hostname, port: target.port, method, path: req.url, headers: req.headers }, (answer) => {
        if (method !== req.method) {
          answer.resume();
          resolve(answer.statusCode ?? 502);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve(answer.statusCode ?? 502));
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end();
        resolve(502);
      });
      // A request without a body is ended here: it may be sent twice (HEAD, then GET), and its stream ends only once.
      if (method === 'GET' || method === 'HEAD') upstream.end();
      else req.pipe(upstream);
    });
  const server = createServer(async (req, res) => {
    const digest = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
    if (req.method === 'GET' && digest && (await forward(req, res, 'HEAD')) === 200) {
      res.writeHead(307, { location: `${blobHostUrl}/blobs/${digest}` }).end();
      return;
    }
    await forward(req, res);
  });
  const listening = await listenOnLoopback(server);
  return { url: `http://${LOOPBACK}:${listening.port}`, close: () => listening.shutdown() };
}
