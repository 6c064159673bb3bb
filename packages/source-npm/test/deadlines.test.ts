/**
 * Every npm network operation has a total deadline, and every attempt a shorter timeout. npm's own `timeout` (5
 * minutes) is reset by each byte, so a registry trickling one byte every 2 s held it for as long as it liked, and a
 * silent one held each attempt for 5 minutes. Bounds here are generous: CI is a loaded 2-core machine.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type Registry, type SourceConfig } from '@agentos-registry/core';
import { type HostileBehaviour, type HostileServer, startHostileServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchPackageCode, installDependencies, npmSource } from '../src/index.js';
import { registryPackageDir, rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/slow-registry';
const LIBRARY = 'slow-lib';
const ECHO = 'com.conformance.echo';
/** Slack over a deadline before a test calls it a hang: loaded CI machines are slow to fire timers and tear down. */
const SLACK_MS = 8000;

let server: VerdaccioServer;
let front: HostileServer;
const opened: Registry[] = [];

beforeAll(async () => {
  let token: string;
  ({ server, token } = await startRegistryServer());
  await server.publish(await registryPackageDir(REGISTRY_PACKAGE, '1.0.0'), { token });
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

const TRICKLE: HostileBehaviour = { kind: 'trickle', intervalMs: 2000 };
const isPackument = (url: string) => !url.includes('/-/');
const isTarball = (url: string) => url.endsWith('.tgz');

/** The front misbehaves on the requests `when` picks and forwards the rest to Verdaccio. */
function misbehave(when: (url: string) => boolean, behaviour: HostileBehaviour): void {
  front.setRespond(({ url }) => (when(url) ? behaviour : { kind: 'forward' }));
}

async function open(config: Partial<SourceConfig>): Promise<Registry> {
  const cache = await tempDir('cache');
  const registry = await createRegistry(
    {
      registries: { slow: { type: 'npm', location: REGISTRY_PACKAGE, registry: front.url, ...config } },
      defaultRegistries: { tool: 'slow' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: {}, baseDir: cache },
  );
  opened.push(registry);
  return registry;
}

/** The rejection of `promise` and how long it took to come. */
async function timed(promise: Promise<unknown>): Promise<{ error: Error & { code?: string; details?: Record<string, unknown> }; ms: number }> {
  const started = performance.now();
  const error = await rejectionOf(promise);
  return { error: error as Error & { code?: string; details?: Record<string, unknown> }, ms: performance.now() - started };
}

describe('timeouts.index: one resolve (the packument)', () => {
  test('a packument trickling one byte every 2 s ends at timeouts.index, E_UNREACHABLE naming it', async () => {
    misbehave(isPackument, TRICKLE);
    const registry = await open({ timeouts: { index: 3000 } });
    const { error, ms } = await timed(registry.list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toMatch(/Resolving .* did not finish within 3 s .*`timeouts\.index`/);
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);

  test("core's abort still wins over the deadline: E_ABORTED at once", async () => {
    misbehave(isPackument, TRICKLE);
    const registry = await open({ timeouts: { index: 60_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { error, ms } = await timed(registry.fetch('tool', ECHO, { signal: controller.signal }));
    expect(error.code).toBe('E_ABORTED');
    expect(ms).toBeLessThan(500 + SLACK_MS);
  }, 30_000);
});

describe('timeouts.entry: one download (a tarball)', () => {
  test('a tarball trickling one byte every 2 s ends at timeouts.entry, E_UNREACHABLE naming it', async () => {
    misbehave(isTarball, TRICKLE);
    const registry = await open({ timeouts: { entry: 3000 } });
    const { error, ms } = await timed(registry.fetch('tool', ECHO));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toMatch(/Downloading .* did not finish within 3 s .*`timeouts\.entry`/);
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);

  test('fetchPackageCode: a trickling tarball ends at timeouts.entry', async () => {
    misbehave(isTarball, TRICKLE);
    const destination = join(await tempDir('code'), 'out');
    const { error, ms } = await timed(
      fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false, timeouts: { entry: 3000 } }),
    );
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('`timeouts.entry`');
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);
});

describe('timeouts.index and timeouts.entry are separate deadlines', () => {
  // Each work is held by a trickle past the other deadline; only core's abort (at 6 s) ends it.
  test.each([
    ['a resolve is not bound by timeouts.entry', isPackument, { index: 60_000, entry: 2000 }],
    ['a download is not bound by timeouts.index', isTarball, { index: 2000, entry: 60_000 }],
  ])(
    '%s',
    async (_title, when, timeouts) => {
      misbehave(when, TRICKLE);
      const registry = await open({ timeouts });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 6000);
      const { error, ms } = await timed(registry.fetch('tool', ECHO, { signal: controller.signal }));
      expect(error.code).toBe('E_ABORTED');
      expect(ms).toBeGreaterThanOrEqual(5900);
    },
    30_000,
  );
});

describe('timeouts.attempt: one request', () => {
  test('a silent registry ends at timeouts.attempt (one retry included), E_UNREACHABLE naming it', async () => {
    misbehave(isPackument, { kind: 'silent' });
    const registry = await open({ timeouts: { attempt: 1000, index: 60_000 } });
    const { error, ms } = await timed(registry.list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('did not start to answer within 1 s');
    expect(error.message).toContain('`timeouts.attempt`');
    // Two attempts of 1 s and npm's 1 s pause between them; far from npm's 2 × 5 minutes.
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);
});

describe('timeouts.install: one dependency install', () => {
  test('an install whose tarball trickles ends at timeouts.install', async () => {
    misbehave(isTarball, TRICKLE);
    const dir = await tempDir('install');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'slow-install', version: '1.0.0', dependencies: { [LIBRARY]: '1.0.0' } }));
    const { error, ms } = await timed(installDependencies({ dir, registry: front.url, npmrc: false, timeouts: { install: 3000 } }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('did not finish within 3 s');
    expect(error.message).toContain('`timeouts.install`');
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);
});

describe('config', () => {
  test('every name is accepted: timeouts { attempt, index, entry, install }, limits { index, entry }', async () => {
    const registry = await open({ timeouts: { attempt: 1000, index: 2000, entry: 3000, install: 4000 }, limits: { index: 1024, entry: 2048 } });
    expect(registry).toBeDefined();
  });

  test.each([
    [{ timeouts: { index: 0 } }, 'timeouts.index', 'positive number of milliseconds'],
    [{ timeouts: { entry: 2 ** 31 } }, 'timeouts.entry', 'positive number of milliseconds'],
    [{ timeouts: { attempt: 'fast' } }, 'timeouts.attempt', 'positive number of milliseconds'],
    [{ timeouts: { install: 2 ** 31 } }, 'timeouts.install', 'positive number of milliseconds'],
    [{ timeouts: { forever: 1 } }, 'timeouts.forever', 'use attempt, index, entry or install'],
    // The names of the first, unreleased version of these options are not aliases: E_CONFIG like any unknown name.
    [{ timeouts: { total: 1000 } }, 'timeouts.total', 'use attempt, index, entry or install'],
    [{ timeouts: { connect: 1000 } }, 'timeouts.connect', 'one per-request timeout, `timeouts.attempt`'],
    [{ timeouts: 5000 }, 'timeouts', '{ attempt, index, entry, install }'],
    [{ limits: { entry: -1 } }, 'limits.entry', 'positive whole number of bytes'],
    [{ limits: { index: 1.5 } }, 'limits.index', 'positive whole number of bytes'],
    [{ limits: { tarball: 1024 } }, 'limits.tarball', 'use index or entry'],
    [{ limits: { packument: 1024 } }, 'limits.packument', 'use index or entry'],
    [{ limits: 'big' }, 'limits', '{ index, entry }'],
  ])('%j is E_CONFIG naming %s', async (config, field, message) => {
    const error = (await rejectionOf(open(config as Partial<SourceConfig>))) as Error & { code?: string; details?: { field?: string } };
    expect(error.code).toBe('E_CONFIG');
    expect(error.details?.field).toBe(`registries.slow.${field}`);
    expect(error.message).toContain(`registries.slow.${field}: `);
    expect(error.message).toContain(message);
  });

  test("proxy, ca and retries, the transport options of every HTTP source, are accepted; invalid ones in core's words", async () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect(await open({ proxy: 'http://127.0.0.1:3128', ca, retries: 3 })).toBeDefined();
    const error = (await rejectionOf(open({ retries: 11 }))) as Error & { code?: string; details?: { field?: string } };
    expect([error.code, error.details?.field]).toEqual(['E_CONFIG', 'registries.slow.retries']);
    expect(error.message).toContain('whole number from 0 to 10');
  });

  test('`proxy` is used: through a proxy that is not listening the registry cannot be reached, without it it can', async () => {
    const closed = await startHostileServer({ target: server.url });
    const dead = closed.url;
    await closed.close();
    misbehave(() => false, { kind: 'forward' });
    expect((await (await open({})).list()).length).toBeGreaterThan(0);
    const error = await rejectionOf((await open({ proxy: dead, retries: 0 })).list());
    expect((error as { code?: string }).code).toBe('E_UNREACHABLE');
  }, 60_000);

  test('fetchPackageCode and installDependencies check them too', async () => {
    const destination = join(await tempDir('code'), 'out');
    const fetchError = await rejectionOf(
      fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false, timeouts: { index: -5 } }),
    );
    expect([(fetchError as { code?: string }).code, (fetchError as { details?: { field?: string } }).details?.field]).toEqual(['E_CONFIG', 'timeouts.index']);
    const dir = await tempDir('install');
    const installError = await rejectionOf(installDependencies({ dir, registry: front.url, npmrc: false, limits: { tarball: 1024 } as never }));
    expect([(installError as { code?: string }).code, (installError as { details?: { field?: string } }).details?.field]).toEqual([
      'E_CONFIG',
      'limits.tarball',
    ]);
    expect(installError.message).toContain('`limits.tarball` is not a limit; use index or entry');
  });
});
