import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CacheStore } from '../src/cache-store.js';
import {
  copyDirectory,
  createRegistry,
  type CreateRegistryOptions,
  defineSource,
  type RegistryConfig,
  type RegistryError,
  type RegistryWarning,
  type SourceAdapter,
} from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const HOUR = 60 * 60 * 1000;

/** A clock the test moves by hand. */
function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function fixture(cacheSettings: RegistryConfig['cacheSettings'] = {}) {
  const dir = await writeTree(pageRegistry());
  const cache = await tempDir('cache-');
  const source = countingSource('dir');
  const time = clock();
  const warnings: RegistryWarning[] = [];
  const open = (options: Partial<CreateRegistryOptions> = {}, duration?: number) =>
    createRegistry(
      {
        registries: { default: { type: 'dir', location: dir, ...(duration === undefined ? {} : { cacheDuration: duration }) } },
        cacheSettings: { directory: cache, ...cacheSettings },
      },
      { sources: [source.adapter], env: {}, now: time.now, onWarning: (w) => warnings.push(w), ...options },
    );
  return { dir, cache, ...source, time, open, warnings };
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('index freshness', () => {
  it('within cacheDuration: zero source calls, across registry instances (from disk)', async () => {
    const f = await fixture();
    await (await f.open()).list();
    expect(f.calls).toEqual({ revision: 1, readIndex: 1, materialize: 0 });
    f.time.advance(HOUR / 2);
    const second = await f.open();
    const rows = await second.list();
    expect(rows.length).toBeGreaterThan(0);
    expect(f.calls).toEqual({ revision: 1, readIndex: 1, materialize: 0 });
    expect((await second.resolve('tool', 'com.test.echo')).provenance.fromCache).toBe(true);
  });

  it('expired and unchanged: one revision call, no download, clock restarts', async () => {
    const f = await fixture();
    await (await f.open()).list();
    f.time.advance(HOUR + 1);
    const registry = await f.open();
    await registry.list();
    expect(f.calls).toEqual({ revision: 2, readIndex: 1, materialize: 0 });
    f.time.advance(HOUR - 1000);
    await (await f.open()).list();
    expect(f.calls.revision).toBe(2);
  });

  it('expired and changed: the new index is downloaded', async () => {
    const f = await fixture();
    expect((await (await f.open()).resolve('tool', 'com.test.echo')).entry.version).toBe('1.0.0');
    await writeTree(pageRegistry({ toolVersion: '1.1.0' }), f.dir);
    f.time.advance(HOUR + 1);
    expect((await (await f.open()).resolve('tool', 'com.test.echo')).entry.version).toBe('1.1.0');
    expect(f.calls.readIndex).toBe(2);
  });

  it('source down: stale within maxAge with a warning, E_UNREACHABLE past it', async () => {
    const f = await fixture({ maxAge: 24 * HOUR });
    await (await f.open()).fetch('tool', 'com.test.echo');
    f.down.value = true;
    f.time.advance(2 * HOUR);
    const fetched = await (await f.open()).fetch('tool', 'com.test.echo');
    expect(fetched.stale).toBe(true);
    expect(fetched.provenance.stale).toBe(true);
    expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toContain('createExtensionPack');
    expect(f.warnings.map((w) => [w.code, w.registry])).toContainEqual(['W_STALE', 'default']);
    f.time.advance(23 * HOUR);
    const error = (await (await f.open()).list().catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.registry).toBe('default');
    expect(error.message).toMatch(/offline/);
  });

  it('source down: the message says what the cache holds, once, and "check the network" once', async () => {
    const f = await fixture({ maxAge: 24 * HOUR });
    f.down.value = true;
    const never = (await (await f.open()).list().catch((e: unknown) => e)) as RegistryError;
    expect(never.code).toBe('E_UNREACHABLE');
    expect(never.message).toContain('Nothing of it is cached yet, so there is no copy to fall back on.');
    expect(never.message).not.toMatch(/stay usable|serve cached copies/i);
    expect(never.message.match(/check the network/gi)).toHaveLength(1);
    f.down.value = false;
    await (await f.open()).list();
    f.down.value = true;
    f.time.advance(25 * HOUR);
    const old = (await (await f.open()).list().catch((e: unknown) => e)) as RegistryError;
    expect(old.message).toContain('past cacheSettings.maxAge: run with --prefer-offline (or offline mode) to use it anyway.');
    expect(old.message).not.toMatch(/nothing of it is cached|stay usable/i);
    expect(old.message.match(/check the network/gi)).toHaveLength(1);
  });

  it('offline: E_NOT_CACHED with nothing cached; cached copies served with no calls', async () => {
    const f = await fixture();
    const error = (await (await f.open({ offline: true })).list().catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_NOT_CACHED');
    expect(f.calls.revision).toBe(0);
    await (await f.open()).fetch('tool', 'com.test.echo');
    const before = { ...f.calls };
    f.time.advance(100 * HOUR);
    const fetched = await (await f.open({ offline: true })).fetch('tool', 'com.test.echo');
    expect(fetched.fromCache).toBe(true);
    expect(f.calls).toEqual(before);
    const missing = (await (await f.open({ offline: true })).fetch('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(missing.code).toBe('E_NOT_CACHED');
  });

  it('preferOffline takes any cached copy; refresh revalidates a fresh one', async () => {
    const f = await fixture();
    await (await f.open()).list();
    f.time.advance(50 * HOUR);
    await (await f.open({ preferOffline: true })).list();
    expect(f.calls.revision).toBe(1);
    const refreshing = await f.open({ refresh: true });
    await refreshing.list();
    expect(f.calls.revision).toBe(2);
    // Once per registry object: later calls on it (resolve, then load…) do not ask again.
    await refreshing.resolve('tool', 'com.test.echo');
    await refreshing.fetch('tool', 'com.test.echo');
    expect(f.calls.revision).toBe(2);
  });

  it('a damaged cached index is discarded and fetched again', async () => {
    const f = await fixture();
    await (await f.open()).list();
    const blobs = join(f.cache, 'v1', 'blobs');
    const [blob] = await readdir(blobs);
    await writeFile(join(blobs, blob!), '{"extensions":{}}');
    const rows = await (await f.open()).list();
    expect(rows.length).toBe(3);
    expect(f.calls.readIndex).toBe(2);
  });
});

describe('entries', () => {
  it('50 concurrent fetches make one materialize', async () => {
    const f = await fixture();
    const registry = await f.open();
    const results = await Promise.all(Array.from({ length: 50 }, () => registry.fetch('tool', 'com.test.echo')));
    expect(f.calls.materialize).toBe(1);
    expect(new Set(results.map((r) => r.integrity)).size).toBe(1);
  });

  it('a cached file truncated behind our back is detected and fetched again', async () => {
    const f = await fixture();
    const first = await (await f.open()).fetch('tool', 'com.test.echo');
    await truncate(join(first.dir, 'src/index.js'), 5);
    const again = await (await f.open()).fetch('tool', 'com.test.echo');
    expect(f.calls.materialize).toBe(2);
    expect(again.integrity).toBe(first.integrity);
    expect(await readFile(join(again.dir, 'src/index.js'), 'utf8')).toContain('createExtensionPack');
    // …also within one process, where the entry is already known in memory.
    const registry = await f.open();
    await registry.fetch('tool', 'com.test.echo');
    await writeFile(join(again.dir, 'manifest.json'), '{}');
    const third = await registry.fetch('tool', 'com.test.echo');
    expect(f.calls.materialize).toBe(3);
    expect(JSON.parse(await readFile(join(third.dir, 'manifest.json'), 'utf8')).id).toBe('com.test.echo');
  });

  it('a new revision with unchanged entry files reuses the same stored tree', async () => {
    const f = await fixture();
    const first = await (await f.open()).fetch('tool', 'com.test.echo');
    const doc = pageRegistry()['registry.json'] as Record<string, unknown>;
    await writeFile(join(f.dir, 'registry.json'), JSON.stringify({ ...doc, updated: '2025-01-01T00:00:00.000Z' }));
    f.time.advance(HOUR + 1);
    const second = await (await f.open()).fetch('tool', 'com.test.echo');
    expect(second.revision).not.toBe(first.revision);
    expect(second.dir).toBe(first.dir);
    expect(await readdir(join(f.cache, 'v1', 'content'))).toHaveLength(1);
  });

  it('a source failing mid-materialize leaves the cache as it was', async () => {
    const f = await fixture();
    await (await f.open()).fetch('tool', 'com.test.echo');
    const before = (await allFiles(f.cache)).filter((p) => !p.includes('/tmp/')).sort();
    const broken = defineSource({
      type: 'dir',
      create: (config, ctx) => {
        const inner = f.adapter.create(config, ctx);
        return {
          ...inner,
          displayLocation: inner.displayLocation,
          async materialize(request) {
            await copyDirectory(join(config.location, request.path), request.destination);
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          },
        };
      },
    });
    const registry = await createRegistry(
      { registries: { default: { type: 'dir', location: f.dir } }, cacheSettings: { directory: f.cache } },
      { sources: [broken], env: {}, now: f.time.now },
    );
    const error = (await registry.fetch('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_UNREACHABLE');
    const after = (await allFiles(f.cache)).filter((p) => !p.includes('/tmp/')).sort();
    expect(after).toEqual(before);
    expect(await readdir(join(f.cache, 'v1', 'tmp'))).toEqual([]);
    const store = new CacheStore(f.cache);
    expect((await store.verify()).problems).toEqual([]);
  });

  it('enabled: false writes nothing to disk, and concurrent requests are still shared', async () => {
    const f = await fixture({ enabled: false });
    const registry = await f.open();
    await Promise.all(Array.from({ length: 10 }, () => registry.fetch('tool', 'com.test.echo')));
    expect(f.calls.materialize).toBe(1);
    expect(existsSync(f.cache) ? await readdir(f.cache) : []).toEqual([]);
    await registry.close();
  });

  it('no secret in any cache file name or file', async () => {
    const secret = 'tok_cache_secret_9f8e7d6c5b4a';
    const f = await fixture();
    const registry = await createRegistry(
      { registries: { default: { type: 'dir', location: f.dir, token: secret } }, cacheSettings: { directory: f.cache } },
      { sources: [f.adapter], env: {} },
    );
    await registry.fetch('tool', 'com.test.echo');
    await registry.list();
    for (const file of await allFiles(f.cache)) {
      expect(file).not.toContain(secret);
      expect(await readFile(file, 'utf8')).not.toContain(secret);
    }
  });

  it('what was read with a token is not served from the cache to the same registry without one', async () => {
    const f = await fixture();
    const open = (token?: string) =>
      createRegistry(
        { registries: { default: { type: 'dir', location: f.dir, ...(token ? { token } : {}) } }, cacheSettings: { directory: f.cache } },
        { sources: [f.adapter], env: {} },
      );
    await (await open('tok_first_1234567890')).list();
    expect(f.calls.revision).toBe(1);
    // Another token: same key (which token is never recorded), so the fresh cached index is used.
    await (await open('tok_second_0987654321')).list();
    expect(f.calls.revision).toBe(1);
    // No token at all: the source is asked, so a server can refuse what the token was allowed to read.
    await (await open()).list();
    expect(f.calls.revision).toBe(2);
  });

  it('a source that found a credential itself (`credentialed`, e.g. from an auth file) is keyed as one given a token', async () => {
    const f = await fixture();
    const withLogin = defineSource({
      type: 'dir',
      create: (config, ctx) => {
        const inner = f.adapter.create(config, ctx);
        return { ...inner, displayLocation: inner.displayLocation, credentialed: true };
      },
    });
    const open = (adapter: SourceAdapter, token?: string) =>
      createRegistry(
        { registries: { default: { type: 'dir', location: f.dir, ...(token ? { token } : {}) } }, cacheSettings: { directory: f.cache } },
        { sources: [adapter], env: {} },
      );
    await (await open(withLogin)).list();
    expect(f.calls.revision).toBe(1);
    // The same registry without any credential asks the source: the auth-file login's copy is not served to it.
    await (await open(f.adapter)).list();
    expect(f.calls.revision).toBe(2);
    // A configured token shares the credentialed copy (whether, never which).
    await (await open(f.adapter, 'tok_configured_1234567890')).list();
    expect(f.calls.revision).toBe(2);
  });
});

describe('several processes sharing one cache directory', () => {
  it('both succeed and cache verify is clean', { timeout: 120_000 }, async () => {
    const f = await fixture();
    const script = join(import.meta.dirname, 'support', 'fetch-all.ts');
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const run = () => promisify(execFile)(tsx, [script, f.dir, f.cache], { env: { ...process.env, NODE_OPTIONS: '--conditions=dev-source' } });
    const [a, b] = await Promise.all([run(), run()]);
    const one = JSON.parse(a.stdout) as Record<string, string>;
    const two = JSON.parse(b.stdout) as Record<string, string>;
    expect(one).toEqual(two);
    expect(Object.keys(one)).toEqual(['com.test.echo', 'com.test.helper']);
    const store = new CacheStore(f.cache);
    const verified = await store.verify();
    expect(verified.problems).toEqual([]);
    expect(verified.checked).toBeGreaterThanOrEqual(3);
    await rm(join(f.cache, 'v1', 'tmp'), { recursive: true, force: true });
  });
});

describe('update', () => {
  it('asks every source now whatever cacheDuration says, reports unchanged/updated, and a failure instead of a stale copy', async () => {
    const f = await fixture({ maxAge: 24 * HOUR });
    const registry = await f.open();
    const [first] = await registry.update();
    expect(first).toMatchObject({ registry: 'default', status: 'updated' });
    expect(first!.previous).toBeUndefined();
    const [same] = await (await f.open()).update();
    expect(same).toEqual({ registry: 'default', status: 'unchanged', revision: first!.revision, previous: first!.revision });
    expect(f.calls.revision).toBe(2); // within cacheDuration, yet asked
    await writeTree(pageRegistry({ toolVersion: '1.1.0' }), f.dir);
    const [changed] = await (await f.open()).update(['default']);
    expect(changed).toMatchObject({ status: 'updated', previous: first!.revision });
    expect(changed!.revision).not.toBe(first!.revision);
    f.down.value = true;
    const [failed] = await (await f.open()).update();
    expect(failed!.status).toBe('failed');
    expect(failed!.error?.code).toBe('E_UNREACHABLE');
    expect(failed!.error?.message).toContain('stays in use until it is older than cacheSettings.maxAge');
    expect(f.warnings.map((w) => w.code)).not.toContain('W_STALE');
    const [unknown] = await (await f.open()).update(['defualt']);
    expect(unknown).toMatchObject({ registry: 'defualt', status: 'failed' });
    expect(unknown!.error?.code).toBe('E_CONFIG');
  });
});

describe('maintenance', () => {
  it('prune removes trees no cached index references once older than maxAge; clean removes a registry', async () => {
    const f = await fixture({ maxAge: 24 * HOUR });
    const old = await (await f.open()).fetch('tool', 'com.test.echo');
    await writeTree(pageRegistry({ toolVersion: '2.0.0' }), f.dir);
    f.time.advance(HOUR + 1);
    const fresh = await (await f.open()).fetch('tool', 'com.test.echo');
    expect(fresh.dir).not.toBe(old.dir);
    const store = new CacheStore(f.cache);
    expect((await store.prune(24 * HOUR, f.time.now())).contents).toBe(0); // too young to go
    const removed = await store.prune(24 * HOUR, f.time.now() + 25 * HOUR);
    expect(removed.contents).toBe(1);
    expect(existsSync(old.dir)).toBe(false);
    expect(existsSync(fresh.dir)).toBe(true);
    const [row] = await store.summary();
    expect(row).toMatchObject({ registry: 'default', sourceType: 'dir', entries: 1 });
    expect(await store.clean('default')).toBe(1);
    expect(await store.summary()).toEqual([]);
  });
});

describe('a cache whose own files were edited to name paths outside it', () => {
  /** A fetched entry, then its ref, its index record and one extra record edited to point at a folder outside. */
  async function edited() {
    const f = await fixture();
    await (await f.open()).fetch('tool', 'com.test.echo');
    const victim = await tempDir('victim-');
    await writeFile(join(victim, 'keep.txt'), 'must survive');
    const root = join(f.cache, 'v1');
    const [refKey] = await readdir(join(root, 'refs'));
    const [refName] = await readdir(join(root, 'refs', refKey!));
    const refFile = join(root, 'refs', refKey!, refName!);
    const up = '../'.repeat(12) + victim.slice(1);
    await writeFile(refFile, JSON.stringify({ ...JSON.parse(await readFile(refFile, 'utf8')), content: up }));
    const [indexName] = await readdir(join(root, 'indexes'));
    const indexFile = join(root, 'indexes', indexName!);
    const record = JSON.parse(await readFile(indexFile, 'utf8'));
    await writeFile(indexFile, JSON.stringify({ ...record, indexHash: up }));
    await writeFile(join(root, 'indexes', 'evil.json'), JSON.stringify({ ...record, key: up }));
    return { f, victim, root, store: new CacheStore(f.cache) };
  }

  const operations: Array<[string, (store: CacheStore, now: number) => Promise<unknown>]> = [
    ['cleanRegistry', (store) => store.cleanRegistry('default')],
    ['clean <registry>', (store) => store.clean('default')],
    ['usage', (store) => store.usage()],
    ['verify --repair', (store) => store.verify({ repair: true })],
    ['prune', (store, now) => store.prune(0, now + 365 * 24 * HOUR)],
  ];
  for (const [name, run] of operations) {
    it(`${name} neither reads nor removes through such a name`, async () => {
      const { f, victim, store } = await edited();
      await run(store, f.time.now());
      expect(await readFile(join(victim, 'keep.txt'), 'utf8')).toBe('must survive');
    });
  }

  it('fetch treats the edited files as damage and serves a whole tree from inside the cache', async () => {
    const { f, victim, root } = await edited();
    const again = await (await f.open()).fetch('tool', 'com.test.echo');
    expect(again.dir.startsWith(root)).toBe(true);
    expect(existsSync(join(again.dir, 'manifest.json'))).toBe(true);
    expect(await readFile(join(victim, 'keep.txt'), 'utf8')).toBe('must survive');
  });
});
