/**
 * Hostile review of the GitHub source on the network (issue 11 follow-up): an API (or something in front of it) that
 * redirects the tarball or an API answer to a third origin and back, names a `file:` or userinfo archive URL,
 * answers the branch check with garbage on a warm cache, or goes silent on the archive. Each case checks the code,
 * where the token went, that the warm copy is intact and served offline, and that the token is in no error, log
 * line or file of the cache.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { redact, RegistryError } from '@agentos-registry/core';
import { type HostileBehaviour, type HostileServer, startGitHubEmulator, startHostileServer } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { failure, registryFiles, TestBed } from './support/registry-repo.js';

const TOKEN = 'ghp_NetReview0123456789abcdefABCDEF0123';
const REPO = '/repos/your-org/extensions';
const COMMITS = `${REPO}/commits/main`;

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

function expectNoToken(value: unknown): void {
  const texts = [inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value)];
  let current: unknown = value;
  for (let depth = 0; depth < 8 && current; depth++) {
    texts.push(String((current as Error).message), String((current as Error).stack));
    current = (current as Error).cause;
  }
  for (const text of texts) expect(text).not.toContain(TOKEN);
}

async function expectTokenNowhereUnder(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    expect((await readFile(join(entry.parentPath, entry.name), 'latin1')).includes(TOKEN), join(entry.parentPath, entry.name)).toBe(false);
  }
}

/**
 * A private repository on the emulator (the token required), a hostile server in front of its API, and a registry
 * through the front whose index and first tool are cached; the branch has moved on since, so revalidating gets a
 * 200 with a body.
 */
async function scene(config: Record<string, unknown> = {}) {
  const repo = await bed.repo(registryFiles(2));
  const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: true } }, tokens: [TOKEN] }));
  const front: HostileServer = await bed.cleanup.add(startHostileServer({ target: emulator.apiUrl, watch: [TOKEN] }));
  const third: HostileServer = await bed.cleanup.add(startHostileServer({ watch: [TOKEN], respond: () => ({ kind: 'reply', status: 404, body: '{}' }) }));
  const cacheDir = join(await bed.dir(), `cache-${Math.random().toString(36).slice(2)}`);
  const logs: string[] = [];
  const logger = {
    debug: (m: string) => logs.push(m),
    info: (m: string) => logs.push(m),
    warn: (m: string) => logs.push(m),
    error: (m: string) => logs.push(m),
  };
  const open = (options: { offline?: boolean } = {}) =>
    bed.registry(
      {
        location: 'your-org/extensions',
        branch: 'main',
        baseUrl: front.url,
        token: TOKEN,
        cacheDuration: 0,
        timeouts: { index: 3_000, entry: 3_000 },
        ...config,
      },
      { cacheDir, logger, ...options },
    );
  const warm = await open();
  expect(await warm.list()).toHaveLength(2);
  await warm.fetch('tool', 'com.example.tool-0');
  await repo.commit('main', registryFiles(3));
  return { emulator, front, third, repo, cacheDir, logs, open };
}

const tarballOf = (url: string) => url.startsWith(`${REPO}/tarball/`);

describe('redirects of the archive and of API answers', () => {
  test('the tarball redirected to a third origin, which sends it back to the API: no token on either hop', async () => {
    const s = await scene();
    s.third.setRespond(() => ({ kind: 'redirect', location: `${s.front.url}back${REPO.slice(1)}` }));
    s.front.setRespond(
      ({ url }): HostileBehaviour =>
        tarballOf(url)
          ? { kind: 'redirect', location: `${s.third.url}archive.tgz` }
          : url.startsWith('/back')
            ? { kind: 'reply', status: 404, body: '{}' }
            : { kind: 'forward' },
    );
    const registry = await s.open();
    const error = await failure(registry.list());
    expect(['E_NOT_FOUND', 'E_UNREACHABLE']).toContain(error.code);
    expectNoToken(error);
    expect(s.third.requests.map((r) => [r.authorization, r.leaked])).toEqual([[false, false]]);
    const back = s.front.requests.filter((r) => r.url.startsWith('/back'));
    expect(back.map((r) => [r.authorization, r.leaked])).toEqual([[false, false]]);
  });

  test('an API answer (the branch check) redirected to a third origin: no token there', async () => {
    const s = await scene();
    s.front.setRespond(
      ({ url }): HostileBehaviour => (url.startsWith(COMMITS) ? { kind: 'redirect', location: `${s.third.url}commits`, status: 301 } : { kind: 'forward' }),
    );
    await (await s.open()).list().catch(() => undefined);
    expect(s.third.requests.length).toBeGreaterThan(0);
    expect(s.third.requests.every((r) => !r.authorization && !r.leaked)).toBe(true);
  });

  test('an archive Location of file:, data: or a port of this host is refused or fetched without the token', async () => {
    const s = await scene();
    for (const location of ['file:///etc/passwd', 'data:application/gzip;base64,H4sIAAAAAAAAAwMAAAAAAAAAAAA=']) {
      s.front.setRespond(({ url }): HostileBehaviour => (tarballOf(url) ? { kind: 'redirect', location } : { kind: 'forward' }));
      const error = await failure((await s.open()).list());
      expect(error.code).toBe('E_POLICY');
      expect(error.message).not.toContain('root:');
    }
  });

  test('an archive Location with a user name and password: refused as the server\'s fault (not E_CONFIG); the password becomes no "secret"', async () => {
    const s = await scene();
    s.front.setRespond(
      ({ url }): HostileBehaviour =>
        tarballOf(url) ? { kind: 'redirect', location: `http://x:Registry@127.0.0.1:${s.third.port}/a.tgz` } : { kind: 'forward' },
    );
    const error = await failure((await s.open()).list());
    expect(s.third.requests).toHaveLength(0);
    expect(error.code).not.toBe('E_CONFIG');
    expect(redact('Registry "custom" failed')).toBe('Registry "custom" failed');
    expect(new RegistryError('E_INTERNAL', 'Registry "custom" failed').message).toBe('Registry "custom" failed');
  });
});

describe('an API elsewhere and this machine', () => {
  test('the archive redirected to a loopback service by an API elsewhere: E_POLICY, the service never asked', async () => {
    const repo = await bed.repo(registryFiles(1));
    const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: false } } }));
    const local: HostileServer = await bed.cleanup.add(startHostileServer({ respond: () => ({ kind: 'reply', body: 'local service' }) }));
    const front: HostileServer = await bed.cleanup.add(
      startHostileServer({
        target: emulator.apiUrl,
        respond: ({ url }) => (tarballOf(url) ? { kind: 'redirect', location: `http://127.0.0.1:${local.port}/containers/json` } : { kind: 'forward' }),
      }),
    );
    // `api.example.test` is "elsewhere": the proxy maps it to the front on 127.0.0.1, as DNS would anywhere.
    const proxy = await bed.cleanup.add(mappingProxy({ 'api.example.test': '127.0.0.1' }));
    const registry = await bed.registry({
      location: 'your-org/extensions',
      branch: 'main',
      baseUrl: `http://api.example.test:${front.port}`,
      allowInsecure: true,
      proxy: proxy.url,
    });
    const error = await failure(registry.list());
    expect(error.code, error.message).toBe('E_POLICY');
    expect(local.requests).toEqual([]);
  });
});

describe('broken answers on a warm cache', () => {
  test('a 200 branch check whose body is garbage (not a sha) is a server fault: the cached index is served stale', async () => {
    const s = await scene();
    s.front.setRespond(
      ({ url }): HostileBehaviour =>
        url.startsWith(COMMITS)
          ? { kind: 'reply', status: 200, headers: { 'content-type': 'text/html', etag: '"new"' }, body: '<html>captive portal</html>' }
          : { kind: 'forward' },
    );
    const registry = await s.open();
    const outcome = await registry.list().then(
      (rows) => rows.length,
      (e: unknown) => e,
    );
    expect(outcome, `got ${String(outcome)}`).toBe(2);
    expect(s.logs.some((line) => line.includes('could not be checked'))).toBe(true);
  });

  test('a 200 repository answer that is garbage (no default_branch): E_UNREACHABLE, never E_INTERNAL', async () => {
    const s = await scene();
    s.front.setRespond(
      ({ url }): HostileBehaviour =>
        url === REPO ? { kind: 'reply', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' } : { kind: 'forward' },
    );
    const cold = await bed.registry({ location: 'your-org/extensions', baseUrl: s.front.url, token: TOKEN });
    const error = await failure(cold.list());
    expect(error.code, error.message).toBe('E_UNREACHABLE');
  });

  test('per-entry mode: a 200 tree answer that is garbage is E_UNREACHABLE, never E_INTERNAL', async () => {
    const s = await scene();
    s.front.setRespond(
      ({ url }): HostileBehaviour => (url.startsWith(`${REPO}/git/trees/`) ? { kind: 'reply', status: 200, body: '{"message":"ok"}' } : { kind: 'forward' }),
    );
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.front.url, token: TOKEN, mode: 'per-entry' });
    const error = await failure(cold.fetch('tool', 'com.example.tool-0'));
    expect(error.code, error.message).toBe('E_UNREACHABLE');
  });

  test('a 304 to every branch check, also the unconditional one: E_UNREACHABLE, never E_INTERNAL', async () => {
    const s = await scene();
    s.front.setRespond(({ url }): HostileBehaviour => (url.startsWith(COMMITS) ? { kind: 'reply', status: 304, body: '' } : { kind: 'forward' }));
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.front.url, token: TOKEN });
    const error = await failure(cold.list());
    expect(error.code, error.message).toBe('E_UNREACHABLE');
  });

  test('a 304 with a body is "unchanged"', async () => {
    const s = await scene();
    s.front.setRespond(({ url }): HostileBehaviour => (url.startsWith(COMMITS) ? { kind: 'reply', status: 304, body: 'GARBAGE' } : { kind: 'forward' }));
    expect(await (await s.open()).list()).toHaveLength(2);
  });

  test('a silent archive host ends at timeouts.entry: E_UNREACHABLE cold, the warm index served stale, the warm copy intact offline', async () => {
    const s = await scene();
    s.front.setRespond(({ url }): HostileBehaviour => (tarballOf(url) ? { kind: 'silent' } : { kind: 'forward' }));
    const started = Date.now();
    // The new revision's archive never comes: core serves the cached index instead.
    expect(await (await s.open()).list()).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(s.logs.some((line) => line.includes('could not be checked') && line.includes('E_UNREACHABLE'))).toBe(true);
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.front.url, token: TOKEN, timeouts: { entry: 2_000 } });
    const coldStart = Date.now();
    const error = await failure(cold.list());
    expect(Date.now() - coldStart).toBeLessThan(6_000);
    expect(error.code).toBe('E_UNREACHABLE');
    expectNoToken(error);
    const offline = await s.open({ offline: true });
    expect(await offline.list()).toHaveLength(2);
    expect((await offline.fetch('tool', 'com.example.tool-0')).fromCache).toBe(true);
  });
});

describe('the token after every failure', () => {
  test('no error, log line or cached file holds the token', async () => {
    const s = await scene();
    const behaviours: HostileBehaviour[] = [
      { kind: 'reset' },
      { kind: 'reply', status: 500, body: JSON.stringify({ message: `boom ${TOKEN}` }) },
      { kind: 'reply', status: 401, body: JSON.stringify({ message: `Bad credentials ${TOKEN}` }) },
      {
        kind: 'reply',
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '99999999999' },
        body: JSON.stringify({ message: `rate ${TOKEN}` }),
      },
      { kind: 'trickle', intervalMs: 200 },
    ];
    const errors: unknown[] = [];
    for (const behaviour of behaviours) {
      s.front.setRespond(({ url }) => (url.startsWith(COMMITS) || tarballOf(url) ? behaviour : { kind: 'forward' }));
      const cold = await bed.registry(
        { location: 'your-org/extensions', branch: 'main', baseUrl: s.front.url, token: TOKEN, retries: 0, timeouts: { index: 1_500 } },
        {
          logger: { debug: (m) => s.logs.push(m), info: (m) => s.logs.push(m), warn: (m) => s.logs.push(m), error: (m) => s.logs.push(m) },
        },
      );
      errors.push(
        await cold.list().then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(RegistryError);
      expectNoToken(error);
    }
    for (const line of s.logs) expect(line).not.toContain(TOKEN);
    await expectTokenNowhereUnder(s.cacheDir);
  });
});

/** A forward proxy that maps host names to loopback, so a test can have an API that is "elsewhere". */
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
