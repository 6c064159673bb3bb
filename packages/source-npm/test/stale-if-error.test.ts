/**
 * When the registry cannot give a usable answer on revalidation, core must be told so (E_UNREACHABLE): it then serves
 * its cached index with W_STALE and leaves the freshness clock alone, so the next call asks again. Two things hid
 * the failure before: garbage (not JSON, or JSON that is no packument) came out as E_INTERNAL or "no such version",
 * which core does not serve stale for; and npm's own cache answered for a registry it could not reach, silently, so
 * core took the old revision as freshly confirmed and restarted its clock.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type Registry, type RegistryWarning } from '@agentos-registry/core';
import { type HostileBehaviour, type HostileServer, startHostileServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { installDependencies, npmSource } from '../src/index.js';
import { registryPackageDir, rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/flaky-registry';
const BROKEN_INDEX_PACKAGE = '@acme/broken-index';
const LIBRARY = 'flaky-lib';
const PACKUMENT_PATH = `/${REGISTRY_PACKAGE.replace('/', '%2f')}`;
const CACHE_DURATION = 60_000;

let server: VerdaccioServer;
let front: HostileServer;
const opened: Registry[] = [];

beforeAll(async () => {
  let token: string;
  ({ server, token } = await startRegistryServer());
  await server.publish(await registryPackageDir(REGISTRY_PACKAGE, '1.0.0'), { token });
  const broken = await registryPackageDir(BROKEN_INDEX_PACKAGE, '1.0.0');
  await writeFile(join(broken, 'registry.json'), '{ this is not json');
  await server.publish(broken, { token });
  await server.publish(
    { 'package.json': JSON.stringify({ name: LIBRARY, version: '1.0.0', main: 'index.js' }), 'index.js': 'module.exports = 1;\n' },
    { token },
  );
  front = await startHostileServer({ target: server.url });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await front?.close();
  await server?.close();
});

/** A registry on a cache folder with a clock the test moves; `location` defaults to the flaky package at `latest`. */
async function open(cache: string, clock: { now: number }, warnings: RegistryWarning[], location = REGISTRY_PACKAGE): Promise<Registry> {
  const registry = await createRegistry(
    {
      registries: { flaky: { type: 'npm', location, registry: front.url, version: 'latest', cacheDuration: CACHE_DURATION } },
      defaultRegistries: { tool: 'flaky' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: {}, baseDir: cache, now: () => clock.now, onWarning: (warning) => warnings.push(warning) },
  );
  opened.push(registry);
  return registry;
}

const packumentRequests = () => front.requests.filter((r) => r.url === PACKUMENT_PATH).length;

const FAULTS: Array<[string, HostileBehaviour]> = [
  ['an answer that is not JSON', { kind: 'reply', body: '\u00ff\u0001<html>garbage</html>' }],
  ['a truncated packument', { kind: 'reply', body: '{"name":"@acme/flaky-registry","versions":{' }],
  ['JSON that is no packument', { kind: 'reply', body: '[1,2,3]' }],
  ['a packument whose versions are not an object', { kind: 'reply', body: '{"name":"@acme/flaky-registry","dist-tags":{"latest":"1.0.0"},"versions":5}' }],
  ['the packument of another package', { kind: 'reply', body: '{"name":"someone-else","dist-tags":{"latest":"9.9.9"},"versions":{}}' }],
  ['garbage under the real ETag and status', { kind: 'forward', body: '\u00ff\u0001garbage' }],
  ['a reset connection (npm used to answer from its own cache, silently)', { kind: 'reset' }],
  ['an HTTP 503', { kind: 'reply', status: 503, body: 'down for maintenance' }],
];

describe('a warm cache and a registry that fails on revalidation', () => {
  test.each(FAULTS)(
    '%s: W_STALE, the cached index served, and the freshness clock not restarted',
    async (_label, fault) => {
      const cache = await tempDir('cache');
      const clock = { now: 1_000_000 };
      const warnings: RegistryWarning[] = [];
      front.setRespond(() => ({ kind: 'forward' }));
      const warm = await open(cache, clock, warnings);
      const before = await warm.list();
      expect(before.length).toBeGreaterThan(0);

      // Past cacheDuration: the next call revalidates, and the registry fails.
      clock.now += CACHE_DURATION + 1000;
      front.setRespond(({ url }) => (url === PACKUMENT_PATH ? fault : { kind: 'forward' }));
      const registry = await open(cache, clock, warnings);
      expect(await registry.list()).toEqual(before);
      const stale = warnings.filter((w) => w.code === 'W_STALE');
      expect(stale).toHaveLength(1);
      expect(stale[0]!.message).toContain('E_UNREACHABLE');
      expect(stale[0]!.message).not.toContain('garbage');

      // The registry is back. The clock was not restarted, so the very next call asks it again (no time passes), and
      // what it then serves is the registry's real answer: no garbage was kept in npm's cache.
      front.setRespond(() => ({ kind: 'forward' }));
      const asked = packumentRequests();
      expect(await registry.list()).toEqual(before);
      expect(packumentRequests()).toBeGreaterThan(asked);
      expect(warnings.filter((w) => w.code === 'W_STALE')).toHaveLength(1);
    },
    30_000,
  );
});

describe('a cold cache', () => {
  test.each(FAULTS.slice(0, 6))('%s is E_UNREACHABLE, quoting none of it', async (_label, fault) => {
    front.setRespond(({ url }) => (url === PACKUMENT_PATH ? fault : { kind: 'forward' }));
    const registry = await open(await tempDir('cache'), { now: 1_000_000 }, []);
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).not.toMatch(/garbage|<html>|\[1,2,3\]/);
  });

  test('a registry.json inside the package that is not JSON is still E_INDEX_INVALID (the content, not the server)', async () => {
    front.setRespond(() => ({ kind: 'forward' }));
    const registry = await open(await tempDir('cache'), { now: 1_000_000 }, [], BROKEN_INDEX_PACKAGE);
    expect((await rejectionOf(registry.list())).code).toBe('E_INDEX_INVALID');
  });

  test('a dependency install whose packument is not JSON is E_UNREACHABLE, quoting none of it', async () => {
    front.setRespond(({ url }) => (url === `/${LIBRARY}` ? { kind: 'reply', body: '\u00ff\u0001<html>garbage</html>' } : { kind: 'forward' }));
    const dir = await tempDir('install');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'flaky-install', version: '1.0.0', dependencies: { [LIBRARY]: '1.0.0' } }));
    const error = await rejectionOf(installDependencies({ dir, registry: front.url, npmrc: false }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).not.toMatch(/garbage|<html>/);
  });
});
