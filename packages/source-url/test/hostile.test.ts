import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError, type RegistryWarning } from '@agentos-registry/core';
import { type FaultRule, MiB, measurePeakRss, startFaultProxy } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { openRegistry, tempDir, track } from './support/scene.js';
import { servedSite } from './support/site.js';
import { writeZeroBomb } from './support/tar.js';

/**
 * Issue 11 through the url source: a hostile static site (behind the fault proxy) sends endless, bomb-sized or
 * trickling answers. Each ends in the error a caller can act on, within the limit or deadline it names, and memory
 * stays far below the size of the answer. Memory is per process, so these tests live in a file of their own.
 */

const BOUND = 256 * MiB;

async function hostileSite(faults: FaultRule[] = []) {
  const site = await servedSite();
  const proxy = await track(startFaultProxy({ target: site.server.url, faults }));
  return { site, proxy };
}

/** The RegistryError of a rejected outcome (fails the test when the work succeeded). */
function rejection(outcome: PromiseSettledResult<unknown>) {
  expect(outcome.status).toBe('rejected');
  const reason = (outcome as PromiseRejectedResult).reason;
  expect(isRegistryError(reason)).toBe(true);
  return reason as { code: string; message: string };
}

describe('body limits through the url source', () => {
  test('an endless chunked registry.json is E_TOO_LARGE at limits.index, in bounded memory', async () => {
    // 1 GiB stands in for endless: a source without a limit then ends too (after holding it all).
    const { proxy } = await hostileSite([{ kind: 'flood', bytes: 1024 * MiB, path: '/registry.json' }]);
    const registry = await openRegistry({ location: proxy.url }, await tempDir('cache'));
    const { outcome, growth } = await measurePeakRss(() => registry.list());
    const error = rejection(outcome);
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('raise limits.index');
    expect(growth).toBeLessThan(BOUND);
  });

  test('a registry.json of 1.5 MB gzip that inflates to 1.5 GiB is E_TOO_LARGE, counted after decoding', async () => {
    const { proxy } = await hostileSite([{ kind: 'gzip-bomb', inflatedBytes: 1536 * MiB, path: '/registry.json' }]);
    const registry = await openRegistry({ location: proxy.url }, await tempDir('cache'));
    const { outcome, growth } = await measurePeakRss(() => registry.list());
    expect(rejection(outcome).code).toBe('E_TOO_LARGE');
    expect(proxy.requests[0]!.bytesSent).toBeLessThan(2 * MiB);
    expect(growth).toBeLessThan(BOUND);
  });

  test('an endless tarball is refused as it streams (the parser stops at the first bad block), in bounded memory', async () => {
    const { proxy } = await hostileSite([{ kind: 'flood', bytes: 1024 * MiB, path: '/tarballs/*' }]);
    const registry = await openRegistry({ location: proxy.url }, await tempDir('cache'));
    await registry.list();
    const { outcome, growth } = await measurePeakRss(() => registry.fetch('tool', 'com.example.echo'));
    expect(rejection(outcome).code).toBe('E_INTEGRITY');
    expect(proxy.requests.at(-1)!.bytesSent).toBeLessThan(64 * MiB);
    expect(growth).toBeLessThan(BOUND);
  });

  test('a tar bomb with a matching integrity (1.5 GiB of zeros in 1.5 MB) is refused as it streams, in bounded memory', { timeout: 60_000 }, async () => {
    const { site, proxy } = await hostileSite();
    const index = JSON.parse(await readFile(join(site.siteDir, 'registry.json'), 'utf8'));
    const integrity = await writeZeroBomb(join(site.siteDir, 'tarballs/bomb.tgz'), 3, 512 * MiB);
    index.extensions.curated[0].dist = { tarball: 'tarballs/bomb.tgz', integrity };
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const registry = await openRegistry({ location: proxy.url }, await tempDir('cache'));
    await registry.list();
    const started = Date.now();
    const { outcome, growth } = await measurePeakRss(() => registry.fetch('tool', 'com.example.echo'));
    if (process.env.REPORT_MEMORY) console.log(`tar bomb refused after ${Date.now() - started} ms`);
    const error = rejection(outcome);
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(error.message).toContain('compression bomb');
    expect(growth).toBeLessThan(BOUND);
  });

  test('a tarball over limits.entry is E_TOO_LARGE, and one within it is fetched', async () => {
    const { proxy } = await hostileSite();
    const small = await openRegistry({ location: proxy.url, limits: { entry: 100 } }, await tempDir('cache'));
    const error = await small.fetch('tool', 'com.example.echo').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('E_TOO_LARGE');
    const roomy = await openRegistry({ location: proxy.url, limits: { entry: MiB } }, await tempDir('cache'));
    expect((await roomy.fetch('tool', 'com.example.echo')).id).toBe('com.example.echo');
  });
});

describe('total deadlines through the url source', () => {
  test('a trickling registry.json ends at timeouts.index, within seconds of it; a cached copy is then served stale', async () => {
    const { site, proxy } = await hostileSite();
    const cache = await tempDir('cache');
    const config = { location: proxy.url, cacheDuration: 0, timeouts: { index: 3_000 } };
    await (await openRegistry(config, cache)).list();
    // A new registry.json, so that revalidating gets a body (a 304 has none to trickle).
    const index = join(site.siteDir, 'registry.json');
    await writeFile(index, `${(await readFile(index, 'utf8')).trim()}\n\n`);

    // One byte every 200 ms: the idle body timeout (60 s) never fires; the whole file would take minutes.
    proxy.setFaults([{ kind: 'trickle', intervalMs: 200, path: '/registry.json' }]);
    const cold = await openRegistry(config, await tempDir('cold'));
    const started = Date.now();
    const error = await cold.list().catch((e: unknown) => e as { code?: string; message?: string });
    const elapsed = Date.now() - started;
    if (process.env.REPORT_MEMORY) console.log(`url index deadline of 3 s reached after ${elapsed} ms`);
    expect(error).toMatchObject({ code: 'E_UNREACHABLE' });
    expect((error as { message: string }).message).toContain('raise timeouts.index');
    expect(elapsed).toBeGreaterThanOrEqual(2_900);
    expect(elapsed).toBeLessThan(3_000 + 10_000);

    const warnings: RegistryWarning[] = [];
    const warm = await openRegistry(config, cache, { refresh: true, onWarning: (w) => warnings.push(w) });
    expect(await warm.list()).not.toHaveLength(0);
    expect(warnings.map((w) => w.code)).toEqual(['W_STALE']);
  });

  test('a trickling tarball ends at timeouts.entry as E_UNREACHABLE naming it', async () => {
    const { proxy } = await hostileSite([{ kind: 'trickle', intervalMs: 200, path: '/tarballs/*' }]);
    const registry = await openRegistry({ location: proxy.url, timeouts: { entry: 2_000 }, retries: 0 }, await tempDir('cache'));
    await registry.list();
    const started = Date.now();
    const error = await registry.fetch('tool', 'com.example.echo').catch((e: unknown) => e as { code?: string; message?: string });
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: 'E_UNREACHABLE' });
    expect((error as { message: string }).message).toContain('raise timeouts.entry');
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(2_000 + 10_000);
  });
});
