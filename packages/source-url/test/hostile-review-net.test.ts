import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { isRegistryError, redact, RegistryError, type RegistryWarning } from '@agentos-registry/core';
import { type HostileBehaviour, startHostileServer, startStaticServer } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { errorOf, openRegistry, tempDir, track } from './support/scene.js';
import { servedSite } from './support/site.js';

const TOKEN = 'url-net-review-token-7c1e0b9a';

async function siteIndex(siteDir: string) {
  return JSON.parse(await readFile(join(siteDir, 'registry.json'), 'utf8'));
}

/** Every file under `dir`, read as text: the token must be in none of them. */
async function expectTokenNowhereUnder(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const text = await readFile(join(entry.parentPath, entry.name), 'latin1');
    expect(text.includes(TOKEN), join(entry.parentPath, entry.name)).toBe(false);
  }
}

function expectNoToken(error: unknown): void {
  const texts = [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    texts.push(String((current as Error).message), String((current as Error).stack));
    current = (current as Error).cause;
  }
  for (const text of texts) expect(text).not.toContain(TOKEN);
}

/** A site with a token, a hostile server in front of it, and a cache warmed with the index and the echo tool. */
async function warmScene(respond?: (request: { method: string; url: string }) => HostileBehaviour) {
  const site = await servedSite({ auth: { token: TOKEN } });
  const front = await track(startHostileServer({ target: site.server.url, watch: [TOKEN] }));
  const cache = await tempDir('cache');
  const warnings: RegistryWarning[] = [];
  const open = (options: Record<string, unknown> = {}) =>
    openRegistry({ location: front.url, token: TOKEN, cacheDuration: 0, timeouts: { index: 3_000, entry: 3_000 } }, cache, {
      onWarning: (w) => warnings.push(w),
      ...options,
    });
  await (await open()).fetch('tool', 'com.example.echo');
  if (respond) front.setRespond(respond);
  return { site, front, cache, warnings, open };
}

/** The warm copy is still served, offline, whole. */
async function expectWarmCopyServed(open: (options?: Record<string, unknown>) => ReturnType<typeof openRegistry>) {
  const offline = await open({ offline: true });
  const echo = await offline.fetch('tool', 'com.example.echo');
  expect(echo.fromCache).toBe(true);
  expect((await offline.list()).map((row) => row.id)).toContain('com.example.echo');
}

describe('a broken answer on a warm cache', () => {
  test('registry.json with Content-Encoding: gzip but a body that is not gzip: the cached index is served stale (a transport fault), cache intact', async () => {
    const s = await warmScene();
    // A new registry.json, so revalidating gets a body rather than a 304.
    await writeFile(join(s.site.siteDir, 'registry.json'), `${(await readFile(join(s.site.siteDir, 'registry.json'), 'utf8')).trim()}\n\n`);
    s.front.setRespond(({ url }) =>
      url === '/registry.json' ? { kind: 'reply', headers: { 'content-encoding': 'gzip', etag: '"other"' }, body: 'definitely not gzip' } : { kind: 'forward' },
    );
    const outcome = await (await s.open({ refresh: true })).list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(outcome, `got ${String(outcome)}`).toBeUndefined();
    expect(s.warnings.map((w) => w.code)).toEqual(['W_STALE']);
    await expectWarmCopyServed(s.open);
  });

  test('a 200 with another ETag and a garbage body to the conditional request: E_INDEX_INVALID, the cached index intact, and its validators not replaced', async () => {
    const s = await warmScene(({ url }) =>
      url === '/registry.json' ? { kind: 'reply', headers: { etag: '"garbage"' }, body: '{"extensions": 12' } : { kind: 'forward' },
    );
    expect((await errorOf((await s.open({ refresh: true })).list())).code).toBe('E_INDEX_INVALID');
    await expectWarmCopyServed(s.open);
    // The next revalidation still asks with the old validators (a 304 from the real site).
    s.front.setRespond(() => ({ kind: 'forward' }));
    await (await s.open({ refresh: true })).list();
    expect(s.site.requestsFor('/registry.json').at(-1)?.status).toBe(304);
  });

  test('a 304 that carries a body is "unchanged", and the cache is intact', async () => {
    const s = await warmScene(({ url }) =>
      url === '/registry.json' ? { kind: 'reply', status: 304, headers: { etag: '"x"' }, body: 'GARBAGE' } : { kind: 'forward' },
    );
    await (await s.open({ refresh: true })).list();
    expect(s.warnings).toEqual([]);
    await expectWarmCopyServed(s.open);
  });

  test('a silent tarball server ends at timeouts.entry with E_UNREACHABLE; the warm copy is intact', async () => {
    const s = await warmScene(({ url }) => (url.startsWith('/tarballs/com.example.calculator') ? { kind: 'silent' } : { kind: 'forward' }));
    const started = Date.now();
    const error = await errorOf((await s.open()).fetch('tool', 'com.example.calculator'));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(8_000);
    expectNoToken(error);
    await expectWarmCopyServed(s.open);
  });
});

describe('tarball URLs a hostile registry.json names', () => {
  async function withTarball(tarball: string) {
    const site = await servedSite({ auth: { token: TOKEN } });
    const index = await siteIndex(site.siteDir);
    index.extensions.curated[0].dist.tarball = tarball;
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const registry = await openRegistry({ location: site.server.url, token: TOKEN }, await tempDir('cache'));
    return { site, registry };
  }

  test('file:, data: and ftp: tarball URLs are refused before anything is read', async () => {
    for (const tarball of ['file:///etc/passwd', 'data:application/gzip;base64,H4sIAAAAAAAAAwMAAAAAAAAAAAA=', 'ftp://127.0.0.1/x.tgz']) {
      const { registry } = await withTarball(tarball);
      const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
      expect(['E_POLICY', 'E_INDEX_INVALID']).toContain(error.code);
      expect(error.message).not.toContain('root:');
    }
  });

  test('a tarball URL with a user name and password: refused as the registry\'s fault (not E_CONFIG), the password shown nowhere and not made a "secret"', async () => {
    const other = await track(startStaticServer({ root: await tempDir('other') }));
    const { registry } = await withTarball(`http://mallory:Registry@127.0.0.1:${other.port}/x.tgz`);
    const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
    expect(other.requests).toHaveLength(0);
    expect(error.code).not.toBe('E_CONFIG');
    expect(error.message).not.toContain('configure the registry');
    // A password chosen by the registry must not become a word the redactor erases from every later message.
    expect(redact('Registry "hosted" failed')).toBe('Registry "hosted" failed');
    expect(new RegistryError('E_INTERNAL', 'Registry "hosted" failed').message).toBe('Registry "hosted" failed');
  });

  test('a tarball on another port of the same host gets no token; one redirected away and back gets none on the way back', async () => {
    const other = await track(startHostileServer({ watch: [TOKEN], respond: () => ({ kind: 'reply', status: 404, body: 'no' }) }));
    const { registry } = await withTarball(`http://127.0.0.1:${other.port}/tarballs/x.tgz`);
    expect((await errorOf(registry.fetch('tool', 'com.example.echo'))).code).toBe('E_NOT_FOUND');
    expect(other.requests.map((r) => [r.authorization, r.leaked])).toEqual([[false, false]]);

    // Away and back: the site redirects its tarball to `bounce`, which sends it back to the site.
    const site = await servedSite({ auth: { token: TOKEN } });
    const index = await siteIndex(site.siteDir);
    const path = `/${index.extensions.curated[0].dist.tarball}`;
    const bounce = await track(
      startHostileServer({ watch: [TOKEN], respond: () => ({ kind: 'redirect', location: `${site.server.url}${path.slice(1)}?back` }) }),
    );
    const front = await track(
      startHostileServer({
        target: site.server.url,
        watch: [TOKEN],
        respond: ({ url }) => (url === path ? { kind: 'redirect', location: `${bounce.url}away` } : { kind: 'forward' }),
      }),
    );
    const registry2 = await openRegistry({ location: front.url, token: TOKEN }, await tempDir('cache'));
    // The site wants the token for the tarball and does not get it on the hop `bounce` chose: E_AUTH.
    expect((await errorOf(registry2.fetch('tool', 'com.example.echo'))).code).toBe('E_AUTH');
    expect(bounce.requests.map((r) => r.leaked)).toEqual([false]);
    expect(site.requestsFor(path).map((r) => r.authorization)).toEqual([false]);
  });

  test('a site elsewhere cannot name (or redirect to) a tarball on this machine: E_POLICY, the local service never asked', async () => {
    const local = await track(startHostileServer({ respond: () => ({ kind: 'reply', body: 'local service' }) }));
    const site = await servedSite();
    const index = await siteIndex(site.siteDir);
    index.extensions.curated[0].dist.tarball = `http://127.0.0.1:${local.port}/containers/json`;
    index.extensions.curated[1].dist.tarball = `http://registry.example.test:${site.server.port}/redirect-home`;
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    // `registry.example.test` is "elsewhere": the proxy maps it to the site on 127.0.0.1, as DNS would anywhere.
    const front = await track(
      startHostileServer({
        target: site.server.url,
        respond: ({ url }) => (url === '/redirect-home' ? { kind: 'redirect', location: `http://127.0.0.1:${local.port}/x` } : { kind: 'forward' }),
      }),
    );
    const proxy = await track(mappingProxy({ 'registry.example.test': '127.0.0.1' }, { [site.server.port]: front.port }));
    const registry = await openRegistry(
      { location: `http://registry.example.test:${site.server.port}`, allowInsecure: true, proxy: proxy.url },
      await tempDir('cache'),
    );
    expect((await errorOf(registry.fetch('tool', 'com.example.echo'))).code).toBe('E_POLICY');
    expect((await errorOf(registry.fetch('tool', 'com.example.calculator'))).code).toBe('E_POLICY');
    expect(local.requests).toEqual([]);
  });
  // maxEntries (100 000 by default) is core's extractor's limit, shown with a small limit in core's archive.test.ts;
  // reaching the default here writes 100 000 files first, minutes of disk work on a loaded CI machine.
});

describe('the token after every failure', () => {
  test('no error and no file of the cache holds the token', async () => {
    const s = await warmScene();
    const behaviours: HostileBehaviour[] = [
      { kind: 'reset' },
      { kind: 'reply', status: 500, body: `echo ${TOKEN}` },
      { kind: 'reply', status: 401, headers: { 'www-authenticate': `Bearer realm="${TOKEN}"` }, body: TOKEN },
      { kind: 'redirect', location: `http://127.0.0.1:${s.front.port}/registry.json?token=${TOKEN}` },
      { kind: 'trickle', intervalMs: 100 },
    ];
    for (const behaviour of behaviours) {
      s.front.setRespond(({ url }) => (url.startsWith('/registry.json') ? behaviour : { kind: 'forward' }));
      const outcome = await (await s.open({ refresh: true })).list().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (outcome !== undefined) {
        expect(isRegistryError(outcome)).toBe(true);
        expectNoToken(outcome);
      }
    }
    for (const warning of s.warnings) expect(JSON.stringify(warning)).not.toContain(TOKEN);
    await expectTokenNowhereUnder(s.cache);
  });
});

/**
 * A forward proxy that maps host names (and ports) to loopback, so a test can have a site that is "elsewhere": the
 * client sees `registry.example.test`, a name that is not this machine's.
 */
async function mappingProxy(hosts: Record<string, string>, ports: Record<number, number> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const proxy = createServer((req, res) => {
    const target = new URL(req.url ?? '');
    const port = Number(target.port || 80);
    const upstream = httpRequest(
      {
        host: hosts[target.hostname] ?? target.hostname,
        port: ports[port] ?? port,
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

/** The 512-byte ustar header of an empty regular file. */
function _tarHeader(path: string): Buffer {
  const header = Buffer.alloc(512);
  header.write(path, 0, 100, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000000\0', 124);
  header.write('14614634720\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}
