import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheStore, type CreateRegistryOptions, hashDirectory, type RegistryWarning } from '@agentos-registry/core';
import { type FaultRule, startFaultProxy } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { errorOf, filesUnder, openRegistry, tempDir, templateRegistry, track } from './support/scene.js';
import { type ServedSite, servedSite } from './support/site.js';

/**
 * The fault proxy sits between the source and a real static server. Every fault either heals within the bounded
 * retries (success) or ends in the code a caller can act on — and in both cases the cache holds only whole things:
 * what was cached before is still served, and no partial index or entry is stored.
 */

interface Scene {
  site: ServedSite;
  proxy: Awaited<ReturnType<typeof startFaultProxy>>;
  cache: string;
  /**
   * A registry through the fault proxy, sharing the scene's cache. Every registry of a scene has the same config
   * (core's cache key covers the registry's options), so they all see one cache, as successive processes would.
   */
  open(options?: CreateRegistryOptions & { warnings?: RegistryWarning[] }): ReturnType<typeof openRegistry>;
  /** Requests the proxy saw for a path pattern, as "status fault". */
  seen(pattern: RegExp): string[];
}

/** A static site behind a fault proxy, and a cache folder; `config` holds the registry's transport options. */
async function scene(config: { retries?: number; timeouts?: Record<string, number> } = {}): Promise<Scene> {
  const site = await servedSite();
  const proxy = await track(startFaultProxy({ target: site.server.url }));
  const cache = await tempDir('cache');
  return {
    site,
    proxy,
    cache,
    open: ({ warnings, ...options } = {}) =>
      openRegistry({ location: proxy.url, ...config }, cache, { ...options, ...(warnings ? { onWarning: (w: RegistryWarning) => warnings.push(w) } : {}) }),
    seen: (pattern) => proxy.requests.filter((r) => pattern.test(r.url)).map((r) => `${r.status}${r.fault ? ` ${r.fault}` : ''}`),
  };
}

const INDEX = /^\/registry\.json$/;
const ECHO = /^\/tarballs\/com\.example\.echo-/;
const CALCULATOR = /^\/tarballs\/com\.example\.calculator-/;

/** What the cache holds: the index revision, the stored entries, and anything left in its temp folder. */
async function cacheState(cache: string) {
  const [record] = await new CacheStore(cache).summary();
  return { revision: record?.revision, entries: record?.entries ?? 0, temp: await filesUnder(join(cache, 'v1', 'tmp')) };
}

/** Fills the cache: the index and the echo tool. */
async function warm(s: Scene) {
  const registry = await s.open();
  const echo = await registry.fetch('tool', 'com.example.echo');
  return { echo, state: await cacheState(s.cache) };
}

/** Edits the echo tool and re-packs, so the next revalidation downloads a new registry.json (a 200 with a body). */
async function republish(s: Scene) {
  await writeFile(join(s.site.registryDir, 'registry/curated/echo/src/index.js'), 'export const republished = true;\n');
  await s.site.republish();
}

async function expectCacheIntact(s: Scene, before: Awaited<ReturnType<typeof cacheState>>) {
  expect(await cacheState(s.cache)).toEqual(before);
  // And it is still served: the old index and the entry fetched before, from the cache, without the network.
  const offline = await s.open({ offline: true });
  const echo = await offline.fetch('tool', 'com.example.echo');
  expect(echo.fromCache).toBe(true);
  expect(echo.integrity).toBe(await hashDirectory(join(templateRegistry, 'registry/curated/echo')));
}

describe('faults between the source and the static server', () => {
  test('reset mid-body: retried to success; past the retries E_UNREACHABLE, cache intact', async () => {
    const s = await scene({ retries: 1 });
    s.proxy.setFaults([
      { kind: 'reset', afterBytes: 64, path: '/registry.json', times: 1 },
      { kind: 'reset', afterBytes: 100, path: '/tarballs/*', times: 1 },
    ]);
    const { state } = await warm(s);
    expect(s.seen(INDEX)).toEqual(['200 reset', '200']);
    expect(s.seen(ECHO)).toEqual(['200 reset', '200']);

    s.proxy.setFaults([{ kind: 'reset', afterBytes: 100, path: '/tarballs/*' }]);
    expect((await errorOf((await s.open()).fetch('tool', 'com.example.calculator'))).code).toBe('E_UNREACHABLE');
    expect(s.seen(CALCULATOR)).toEqual(['200 reset', '200 reset']);
    await expectCacheIntact(s, state);
  });

  test('truncated body (full Content-Length, fewer bytes, FIN): retried to success; if it persists the cached index is served stale, cache intact', async () => {
    const s = await scene({ retries: 1 });
    s.proxy.setFaults([
      { kind: 'truncate', path: '/registry.json', times: 1 },
      { kind: 'truncate', path: '/tarballs/*', times: 1 },
    ]);
    const { state } = await warm(s);
    expect(s.seen(INDEX)).toEqual(['200 truncate', '200']);
    expect(s.seen(ECHO)).toEqual(['200 truncate', '200']);

    await republish(s);
    s.proxy.setFaults([{ kind: 'truncate', path: '/registry.json' }]);
    const warnings: RegistryWarning[] = [];
    // Revalidation fails on the network: core serves the cached index, marked stale.
    expect((await (await s.open({ refresh: true, warnings })).fetch('tool', 'com.example.echo')).stale).toBe(true);
    expect(warnings.map((w) => w.code)).toEqual(['W_STALE']);
    await expectCacheIntact(s, state);
  });

  test('503 for the first K requests: K within the retries heals; more is E_UNREACHABLE cold, stale when cached', async () => {
    const s = await scene();
    s.proxy.setFaults([{ kind: 'status', status: 503, path: '/registry.json', times: 2 }]);
    const { state } = await warm(s);
    expect(s.seen(INDEX)).toEqual(['503 status', '503 status', '200']);

    s.proxy.setFaults([{ kind: 'status', status: 503, path: '/tarballs/*', times: 3 }]);
    const failed = await errorOf((await s.open()).fetch('tool', 'com.example.calculator'));
    expect(failed.code).toBe('E_UNREACHABLE');
    expect(failed.message).toContain('503');
    expect(s.seen(CALCULATOR)).toEqual(['503 status', '503 status', '503 status']);
    await expectCacheIntact(s, state);

    s.proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 0 }]);
    const cold = await openRegistry({ location: s.proxy.url }, await tempDir('cold-cache'));
    expect((await errorOf(cold.list())).code).toBe('E_UNREACHABLE');
    const warnings: RegistryWarning[] = [];
    expect((await (await s.open({ refresh: true, warnings })).fetch('tool', 'com.example.echo')).stale).toBe(true);
    expect(warnings.map((w) => w.code)).toEqual(['W_STALE']);
    await expectCacheIntact(s, state);
  });

  test('garbage bytes: a tarball is E_INTEGRITY, registry.json E_INDEX_INVALID; nothing stored, the old index kept', async () => {
    const s = await scene();
    const { state } = await warm(s);
    s.proxy.setFaults([{ kind: 'garbage', path: '/tarballs/*' }]);
    expect((await errorOf((await s.open()).fetch('tool', 'com.example.calculator'))).code).toBe('E_INTEGRITY');
    await expectCacheIntact(s, state);

    await republish(s);
    s.proxy.setFaults([{ kind: 'garbage', path: '/registry.json' }]);
    expect((await errorOf((await s.open({ refresh: true })).list())).code).toBe('E_INDEX_INVALID');
    await expectCacheIntact(s, state);

    // Once the bytes are right again, the new revision is read and served.
    s.proxy.setFaults([]);
    const fresh = await (await s.open({ refresh: true })).fetch('tool', 'com.example.echo');
    expect(fresh.revision).not.toBe(state.revision);
    expect(await readFile(join(fresh.dir, 'src/index.js'), 'utf8')).toBe('export const republished = true;\n');
  });

  test('slow headers: a timeout is retried to success; a server that stays slow is E_UNREACHABLE, cache intact', { timeout: 90_000 }, async () => {
    // Far apart on purpose: a loaded CI machine (client, proxy and server share one event loop) must not turn the
    // healthy answers into timeouts too, and the slow one is far slower than any stall.
    const s = await scene({ timeouts: { headers: 3_000 }, retries: 1 });
    const { state } = await warm(s);
    s.proxy.setFaults([{ kind: 'delay', ms: 30_000, path: '/tarballs/*', times: 1 }]);
    const healed = await (await s.open()).fetch('tool', 'com.example.calculator');
    expect(healed.integrity).toBe(await hashDirectory(join(templateRegistry, 'registry/curated/calculator')));
    expect(s.seen(CALCULATOR)).toEqual(['200 delay', '200']);
    const after = await cacheState(s.cache);
    expect(after.entries).toBe(state.entries + 1);

    s.proxy.setFaults([{ kind: 'delay', ms: 30_000, path: '/tarballs/*' } satisfies FaultRule]);
    const error = await errorOf((await s.open()).fetch('persona', 'com.example.helpful-assistant'));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(await cacheState(s.cache)).toEqual(after);
  });
});
