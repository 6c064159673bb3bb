/**
 * Hostile review of the npm source on the network (issue 11 follow-up): a registry (or something in front of
 * Verdaccio) that uses every Content-Encoding npm's fetch decodes, points a packument's tarball at another origin,
 * at `file:` or at another port of this host, or echoes the token back in its errors. Each case checks the code,
 * that the body was bounded on its decoded bytes, where the token went, and that no error or cached file holds it.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { createRegistry, type Registry, type SourceConfig } from '@agentos-registry/core';
import { type HostileBehaviour, type HostileServer, startHostileServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { fetchPackageCode, installDependencies, npmSource } from '../src/index.js';
import { registryPackageDir, rejectionOf, startRegistryServer, tarHeader, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/net-review-registry';
const LIBRARY = 'net-review-lib';
const MiB = 1024 * 1024;

let server: VerdaccioServer;
let token: string;
let front: HostileServer;
let other: HostileServer;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  await server.publish(await registryPackageDir(REGISTRY_PACKAGE, '1.0.0'), { token });
  await server.publish(
    { 'package.json': JSON.stringify({ name: LIBRARY, version: '1.0.0', main: 'index.js' }), 'index.js': 'module.exports = 1;\n' },
    { token },
  );
  front = await startHostileServer({ target: server.url, watch: [token] });
  other = await startHostileServer({ target: server.url, watch: [token] });
}, 60_000);

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((item) => item.close()));
  front.setRespond(() => ({ kind: 'forward' }));
  other.setRespond(() => ({ kind: 'forward' }));
  front.requests.length = 0;
  other.requests.length = 0;
});

afterAll(async () => {
  await front?.close();
  await other?.close();
  await server?.close();
});

async function open(config: Partial<SourceConfig> = {}, cache?: string): Promise<Registry> {
  cache ??= await tempDir('cache');
  const registry = await createRegistry(
    {
      registries: { net: { type: 'npm', location: REGISTRY_PACKAGE, registry: front.url, token, timeouts: { index: 20_000, entry: 20_000 }, ...config } },
      defaultRegistries: { tool: 'net' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: {}, baseDir: cache },
  );
  opened.push(registry);
  return registry;
}

const packumentPath = (name: string) => `/${name.replace('/', '%2f')}`;

/** The packument of `name` as Verdaccio serves it to the token, its tarball URLs pointing at the front. */
async function packumentText(name: string): Promise<string> {
  const response = await fetch(`${server.url}${packumentPath(name).slice(1)}`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.text()).split(server.url).join(front.url);
}

async function tarballOf(name: string): Promise<{ path: string; bytes: Buffer }> {
  const doc = JSON.parse(await packumentText(name)) as { versions: Record<string, { dist: { tarball: string } }> };
  const url = new URL(doc.versions['1.0.0']!.dist.tarball);
  const bytes = Buffer.from(await (await fetch(`${server.url}${url.pathname.slice(1)}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer());
  return { path: url.pathname, bytes };
}

function expectNoToken(value: unknown): void {
  const texts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value)];
  let current: unknown = value;
  for (let depth = 0; depth < 8 && current; depth++) {
    texts.push(String((current as Error).message), String((current as Error).stack));
    current = (current as Error).cause;
  }
  for (const text of texts) expect(text).not.toContain(token);
}

async function expectTokenNowhereUnder(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    expect((await readFile(join(entry.parentPath, entry.name), 'latin1')).includes(token), join(entry.parentPath, entry.name)).toBe(false);
  }
}

describe('every Content-Encoding npm decodes is counted decoded', () => {
  test('an x-deflate bomb packument (64 MiB of spaces in ~64 KiB) stops at limits.index: E_TOO_LARGE', async () => {
    const bomb = deflateSync(Buffer.alloc(64 * MiB, 0x20));
    expect(bomb.length).toBeLessThan(MiB);
    front.setRespond(({ url }) =>
      url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', headers: { 'content-encoding': 'x-deflate' }, body: bomb } : { kind: 'forward' },
    );
    const error = await rejectionOf((await open({ limits: { index: MiB } })).list());
    expect(error.code).toBe('E_TOO_LARGE');
  });

  test('an x-deflate bomb tarball (64 MiB in ~64 KiB) stops at limits.entry: E_TOO_LARGE, not a download of all of it', async () => {
    const { path } = await tarballOf(LIBRARY);
    // A real tar header first (zeros alone end the archive at once), so the decoded-size limit is what stops it.
    const bomb = deflateSync(Buffer.concat([tarHeader('package/big.bin', 64 * MiB), Buffer.alloc(64 * MiB)]));
    const text = await packumentText(LIBRARY);
    front.setRespond(({ url }): HostileBehaviour => {
      if (url === packumentPath(LIBRARY)) return { kind: 'reply', body: text };
      if (url === path) return { kind: 'reply', headers: { 'content-encoding': 'x-deflate', 'content-type': 'application/octet-stream' }, body: bomb };
      return { kind: 'forward' };
    });
    const error = await rejectionOf(
      fetchPackageCode({
        spec: `${LIBRARY}@1.0.0`,
        destination: join(await tempDir('code'), 'out'),
        registry: front.url,
        npmrc: false,
        limits: { entry: MiB },
      }),
    );
    expect(error.code).toBe('E_TOO_LARGE');
  });

  test('a raw-deflate packument (no zlib header, as old servers send "deflate") is read, as npm itself reads it', async () => {
    const body = deflateRawSync(Buffer.from(await packumentText(REGISTRY_PACKAGE)));
    front.setRespond(({ url }) =>
      url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', headers: { 'content-encoding': 'deflate' }, body } : { kind: 'forward' },
    );
    const outcome = await (await open()).list().then(
      (rows) => rows.length,
      (e: unknown) => e,
    );
    expect(outcome, `got ${inspect(outcome)}`).toBeTypeOf('number');
  });

  test('a stacked "gzip, gzip" packument is not decoded by anyone: a bad packument, E_UNREACHABLE', async () => {
    const body = gzipSync(gzipSync(Buffer.from(await packumentText(REGISTRY_PACKAGE))));
    front.setRespond(({ url }) =>
      url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', headers: { 'content-encoding': 'gzip, gzip' }, body } : { kind: 'forward' },
    );
    expect((await rejectionOf((await open()).list())).code).toBe('E_UNREACHABLE');
  });

  test('a gzip packument whose body is not gzip is E_UNREACHABLE (a server fault, so a cache can serve), never E_INTERNAL', async () => {
    front.setRespond(({ url }) =>
      url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', headers: { 'content-encoding': 'gzip' }, body: 'not gzip at all' } : { kind: 'forward' },
    );
    expect((await rejectionOf((await open()).list())).code).toBe('E_UNREACHABLE');
  });
});

describe('a warm cache through the attacks', () => {
  test('a bomb, a garbage body and a reset on revalidation leave the warm copy whole and served offline', async () => {
    const cache = await tempDir('cache');
    const warm = await open({ cacheDuration: 0, limits: { index: MiB } }, cache);
    await warm.fetch('tool', 'com.conformance.echo');
    const attacks: HostileBehaviour[] = [
      { kind: 'reply', headers: { 'content-encoding': 'x-deflate' }, body: deflateSync(Buffer.alloc(64 * MiB, 0x20)) },
      { kind: 'reply', headers: { 'content-encoding': 'gzip' }, body: 'not gzip' },
      { kind: 'reply', body: '{"name":"@acme/net-review-registry","versions":12}' },
      { kind: 'reset' },
    ];
    const codes: string[] = [];
    for (const attack of attacks) {
      front.setRespond(({ url }) => (url === packumentPath(REGISTRY_PACKAGE) ? attack : { kind: 'forward' }));
      const registry = await open({ cacheDuration: 0, limits: { index: MiB } }, cache);
      codes.push(
        await registry.list().then(
          () => 'served',
          (e: unknown) => (e as { code?: string }).code ?? 'unknown',
        ),
      );
    }
    // E_TOO_LARGE is not transient (the registry serves too much, it is not unreachable); the others are served stale.
    expect(codes).toEqual(['E_TOO_LARGE', 'served', 'served', 'served']);
    front.setRespond(() => ({ kind: 'reset' }));
    const offline = await createRegistry(
      {
        registries: {
          net: {
            type: 'npm',
            location: REGISTRY_PACKAGE,
            registry: front.url,
            token,
            timeouts: { index: 20_000, entry: 20_000 },
            cacheDuration: 0,
            limits: { index: MiB },
          },
        },
        defaultRegistries: { tool: 'net' },
        cacheSettings: { directory: cache },
      },
      { sources: [npmSource()], env: {}, baseDir: cache, offline: true },
    );
    opened.push(offline);
    expect((await offline.fetch('tool', 'com.conformance.echo')).fromCache).toBe(true);
  });
});

describe('tarball URLs a hostile packument names', () => {
  async function pointTarballAt(tarball: string): Promise<void> {
    const doc = JSON.parse(await packumentText(REGISTRY_PACKAGE)) as { versions: Record<string, { dist: { tarball: string } }> };
    doc.versions['1.0.0']!.dist.tarball = tarball;
    const text = JSON.stringify(doc);
    front.setRespond(({ url }) => (url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', body: text } : { kind: 'forward' }));
  }

  test('a tarball on another port of this host (and on localhost) gets no token', async () => {
    const { path } = await tarballOf(REGISTRY_PACKAGE);
    for (const host of [`127.0.0.1:${other.port}`, `localhost:${front.port}`]) {
      await pointTarballAt(`http://${host}${path}`);
      other.requests.length = 0;
      front.requests.length = 0;
      await (await open()).list().catch(() => undefined);
      const foreign = host.startsWith('localhost') ? front.requests.filter((r) => r.url === path) : other.requests;
      expect(foreign.length, host).toBeGreaterThan(0);
      expect(
        foreign.filter((r) => r.authorization || r.leaked),
        host,
      ).toEqual([]);
    }
  });

  test("a file: tarball is never read from this machine, and is the registry's fault (E_POLICY), not E_INTERNAL", async () => {
    await pointTarballAt('file:///etc/passwd');
    const error = await rejectionOf((await open()).list());
    expect(error.message).not.toContain('root:');
    expect(error.code, inspect(error)).toBe('E_POLICY');
  });
});

describe("a tarball's contents go through core's extractor", () => {
  test('a link out of the package, then a file through it (made with tar), is E_UNSAFE_PATH; nothing is written outside', async () => {
    const { path } = await tarballOf(LIBRARY);
    const outside = await tempDir('outside');
    const staging = await tempDir('staging');
    await mkdir(join(staging, 'a', 'package'), { recursive: true });
    await writeFile(join(staging, 'a', 'package', 'package.json'), JSON.stringify({ name: LIBRARY, version: '1.0.0' }));
    await symlink(outside, join(staging, 'a', 'package', 'link'));
    await mkdir(join(staging, 'b', 'package', 'link'), { recursive: true });
    await writeFile(join(staging, 'b', 'package', 'link', 'planted.txt'), 'written through the link');
    const tar = join(staging, 'forged.tar');
    // package.json first, so that the extractor has written a file before it meets the link.
    execFileSync('tar', ['-cf', tar, '-C', join(staging, 'a'), 'package/package.json', 'package/link']);
    execFileSync('tar', ['-rf', tar, '-C', join(staging, 'b'), 'package/link/planted.txt']);
    const bytes = gzipSync(await readFile(tar));
    // The packument publishes the forged tarball's own integrity, so npm's check passes and only the extractor can refuse.
    const doc = JSON.parse(await packumentText(LIBRARY)) as { versions: Record<string, { dist: Record<string, unknown> }> };
    doc.versions['1.0.0']!.dist = {
      ...doc.versions['1.0.0']!.dist,
      integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      shasum: undefined,
    };
    const text = JSON.stringify(doc);
    front.setRespond(({ url }): HostileBehaviour => {
      if (url === packumentPath(LIBRARY)) return { kind: 'reply', body: text };
      if (url === path) return { kind: 'reply', headers: { 'content-type': 'application/octet-stream' }, body: bytes };
      return { kind: 'forward' };
    });
    const destination = join(await tempDir('code'), 'out');
    const error = await rejectionOf(fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false }));
    expect(error.code, inspect(error)).toBe('E_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([]);
    // What the extractor wrote before it refused the link (package.json) is gone too: the caller's folder is left empty.
    expect(await readdir(destination).catch(() => [])).toEqual([]);
  });

  test('a tarball that is not the published one (2 MiB, integrity left as published) is E_INTEGRITY, whatever order the checks finish in', async () => {
    const { path } = await tarballOf(LIBRARY);
    // A sound archive the extractor is done with before the last bytes are hashed: the published hash must still decide.
    const staging = await tempDir('tampered');
    await mkdir(join(staging, 'package'));
    await writeFile(join(staging, 'package', 'package.json'), JSON.stringify({ name: LIBRARY, version: '1.0.0' }));
    await writeFile(join(staging, 'package', 'planted.js'), 'export const UNVERIFIED = 1;\n');
    await writeFile(join(staging, 'package', 'big.bin'), randomBytes(2 * MiB));
    const tar = join(staging, 'tampered.tgz');
    execFileSync('tar', ['-czf', tar, '-C', staging, 'package']);
    const bytes = await readFile(tar);
    const text = await packumentText(LIBRARY);
    front.setRespond(({ url }): HostileBehaviour => {
      if (url === packumentPath(LIBRARY)) return { kind: 'reply', body: text };
      if (url === path) return { kind: 'reply', headers: { 'content-type': 'application/octet-stream' }, body: bytes };
      return { kind: 'forward' };
    });
    const error = await rejectionOf(
      fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination: join(await tempDir('code'), 'out'), registry: front.url, npmrc: false }),
    );
    expect(error.code, inspect(error)).toBe('E_INTEGRITY');
  });
});

describe('a registry elsewhere and this machine', () => {
  test('a packument (or a redirect) that sends npm to a loopback service is E_POLICY; the service is never asked', async () => {
    const local = await startHostileServer({ respond: () => ({ kind: 'reply', body: 'local service' }) });
    opened.push(local);
    // `registry.example.test` is "elsewhere": the proxy (.npmrc `proxy`) maps it to the front on 127.0.0.1.
    const proxy = await mappingProxy({ 'registry.example.test': '127.0.0.1' });
    opened.push(proxy);
    const npmrc = join(await tempDir('npmrc'), '.npmrc');
    await writeFile(npmrc, `proxy=${proxy.url}\n`);
    const remote = `http://registry.example.test:${front.port}/`;
    const { path } = await tarballOf(LIBRARY);
    const fetchIt = async () =>
      fetchPackageCode({
        spec: `${LIBRARY}@1.0.0`,
        destination: join(await tempDir('code'), 'out'),
        registry: remote,
        npmrc,
        cacheDir: join(await tempDir('npm-cache'), '_cacache'),
      });

    // Through the proxy, the remote registry works.
    const doc = JSON.parse(await packumentText(LIBRARY)) as { versions: Record<string, { dist: { tarball: string } }> };
    doc.versions['1.0.0']!.dist.tarball = `${remote}${path.slice(1)}`;
    const good = JSON.stringify(doc);
    front.setRespond(({ url }) => (url === packumentPath(LIBRARY) ? { kind: 'reply', body: good } : { kind: 'forward' }));
    expect((await fetchIt()).version).toBe('1.0.0');

    // A tarball URL on this machine.
    doc.versions['1.0.0']!.dist.tarball = `http://127.0.0.1:${local.port}/containers/json`;
    const direct = JSON.stringify(doc);
    front.setRespond(({ url }) => (url === packumentPath(LIBRARY) ? { kind: 'reply', body: direct } : { kind: 'forward' }));
    expect((await rejectionOf(fetchIt())).code).toBe('E_POLICY');

    // A redirect of the tarball to this machine.
    front.setRespond(({ url }): HostileBehaviour => {
      if (url === packumentPath(LIBRARY)) return { kind: 'reply', body: good };
      if (url === path) return { kind: 'redirect', location: `http://localhost:${local.port}/x` };
      return { kind: 'forward' };
    });
    expect((await rejectionOf(fetchIt())).code).toBe('E_POLICY');
    expect(local.requests).toEqual([]);
  });
});

describe('a dependency whose packument names a file: or folder tarball (install)', () => {
  test('the install never copies a folder or file of this machine into node_modules', async () => {
    const secretDir = await tempDir('secret');
    await writeFile(join(secretDir, 'package.json'), JSON.stringify({ name: LIBRARY, version: '1.0.0' }));
    await writeFile(join(secretDir, 'id_rsa'), 'PRIVATE KEY');
    for (const tarball of [`file://${secretDir}`, `file://${join(secretDir, 'id_rsa')}`]) {
      const doc = JSON.parse(await packumentText(LIBRARY)) as { versions: Record<string, { dist: { tarball: string } }> };
      doc.versions['1.0.0']!.dist.tarball = tarball;
      const text = JSON.stringify(doc);
      front.setRespond(({ url }) => (url === packumentPath(LIBRARY) ? { kind: 'reply', body: text } : { kind: 'forward' }));
      const dir = await tempDir('install');
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'net-install', version: '1.0.0', dependencies: { [LIBRARY]: '1.0.0' } }));
      const outcome = await installDependencies({ dir, registry: front.url, token, npmrc: false, cacheDir: join(await tempDir('npm-cache'), '_cacache') }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      const copied = await readdir(join(dir, 'node_modules', LIBRARY)).catch(() => [] as string[]);
      expect(copied, tarball).not.toContain('id_rsa');
      // Held: arborist refuses it (EALLOWDIRECTORY), which the install reports as E_POLICY.
      expect(outcome?.code, inspect(outcome)).toBe('E_POLICY');
    }
  });
});

describe('the total deadline holds whatever the server does', () => {
  test('a silent tarball host, with a long per-attempt timeout, ends at timeouts.entry', async () => {
    const { path } = await tarballOf(REGISTRY_PACKAGE);
    front.setRespond(({ url }) => (url === path ? { kind: 'silent' } : { kind: 'forward' }));
    const started = Date.now();
    const error = await rejectionOf((await open({ timeouts: { attempt: 60_000, entry: 2_000 } })).list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(2_000 + 10_000);
  });

  test('503 with Retry-After: 59 on every packument answer ends at timeouts.index, retries and waits included', async () => {
    front.setRespond(({ url }) =>
      url === packumentPath(REGISTRY_PACKAGE) ? { kind: 'reply', status: 503, headers: { 'retry-after': '59' }, body: '{}' } : { kind: 'forward' },
    );
    const started = Date.now();
    const error = await rejectionOf((await open({ timeouts: { index: 2_000 } })).list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(2_000 + 10_000);
  });
});

describe('the token after every failure', () => {
  test("errors that echo the token, and npm's cache afterwards, never hold it", async () => {
    const cache = await tempDir('cache');
    const behaviours: HostileBehaviour[] = [
      { kind: 'reply', status: 500, body: JSON.stringify({ error: `internal ${token}` }) },
      { kind: 'reply', status: 401, headers: { 'www-authenticate': `Bearer realm="${token}"` }, body: JSON.stringify({ error: `bad token ${token}` }) },
      { kind: 'reply', status: 418, body: JSON.stringify({ error: `teapot ${token}` }) },
      { kind: 'reply', status: 200, body: `not json ${token}` },
      { kind: 'reset' },
    ];
    for (const behaviour of behaviours) {
      front.setRespond(({ url }) => (url === packumentPath(REGISTRY_PACKAGE) ? behaviour : { kind: 'forward' }));
      const error = await rejectionOf((await open({ cacheDuration: 0 }, cache)).list());
      expectNoToken(error);
      await expectTokenNowhereUnder(cache).catch((e: unknown) => {
        throw new Error(`after ${behaviour.kind} ${'status' in behaviour ? behaviour.status : ''}: ${String(e)}`);
      });
    }
    await expectTokenNowhereUnder(cache);
  });
});

/** A forward proxy that maps host names to loopback, so a test can have a registry that is "elsewhere". */
async function mappingProxy(hosts: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const proxy = createServer((req, res) => {
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      {
        host: hosts[target.hostname] ?? target.hostname,
        port: Number(target.port || 80),
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  // No tunnels: every request here is plain http, sent as an absolute URI.
  proxy.on('connect', (_req, socket) => socket.destroy());
  proxy.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}

describe('policy.allowHosts holds for every request npm makes, not only for the configured registry', () => {
  const allowFront = () => [`127.0.0.1:${front.port}`];

  test('a packument whose tarball URL is on another host: E_POLICY naming it; that host is never asked', async () => {
    const { path } = await tarballOf(LIBRARY);
    const doc = JSON.parse(await packumentText(LIBRARY)) as { versions: Record<string, { dist: { tarball: string } }> };
    doc.versions['1.0.0']!.dist.tarball = `${other.url}${path.slice(1)}`;
    const text = JSON.stringify(doc);
    front.setRespond(({ url }) => (url === packumentPath(LIBRARY) ? { kind: 'reply', body: text } : { kind: 'forward' }));
    const fetchIt = async (allowHosts?: string[]) =>
      fetchPackageCode({
        spec: `${LIBRARY}@1.0.0`,
        destination: join(await tempDir('code'), 'out'),
        registry: front.url,
        npmrc: false,
        cacheDir: join(await tempDir('npm-cache'), '_cacache'),
        ...(allowHosts ? { allowHosts } : {}),
      });
    const error = await rejectionOf(fetchIt(allowFront()));
    expect({ code: error.code, rule: error.details?.rule, host: error.details?.host }, inspect(error)).toEqual({
      code: 'E_POLICY',
      rule: 'allowHosts',
      host: `127.0.0.1:${other.port}`,
    });
    expect(other.requests).toEqual([]);
    // The same packument without the policy: the other host serves the tarball (the refusal was the policy's).
    expect((await fetchIt()).version).toBe('1.0.0');
    expect(other.requests.length).toBeGreaterThan(0);
  });

  test('an install whose .npmrc sends a scope to another registry: E_POLICY; that registry is never asked', async () => {
    const npmrc = join(await tempDir('npmrc'), '.npmrc');
    await writeFile(npmrc, `@elsewhere:registry=${other.url}\n`);
    const dir = await tempDir('install');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'net-install', version: '1.0.0', dependencies: { '@elsewhere/lib': '1.0.0' } }));
    const error = await rejectionOf(
      installDependencies({ dir, registry: front.url, npmrc, cacheDir: join(await tempDir('npm-cache'), '_cacache'), allowHosts: allowFront() }),
    );
    expect({ code: error.code, rule: error.details?.rule }, inspect(error)).toEqual({ code: 'E_POLICY', rule: 'allowHosts' });
    expect(other.requests).toEqual([]);
  });
});
