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
  await server.publish({ 'package.json': JSON.stringify({ name: LIBRARY, version: '1.0.0', main: 'index.js' }), 'index.js': 'module.exports = 1;\n' }, { token });
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
    { registries: { slow: { type: 'npm', location: REGISTRY_PACKAGE, registry: front.url, ...config } }, defaultRegistries: { tool: 'slow' }, cacheSettings: { directory: cache } },
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

describe('timeouts.total: one resolve or one download', () => {
  test('a packument trickling one byte every 2 s ends at timeouts.total, E_UNREACHABLE naming it', async () => {
    misbehave(isPackument, TRICKLE);
    const registry = await open({ timeouts: { total: 3000 } });
    const { error, ms } = await timed(registry.list());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('did not finish within 3 s');
    expect(error.message).toContain('`timeouts.total`');
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);

  test('a tarball trickling one byte every 2 s ends at timeouts.total', async () => {
    misbehave(isTarball, TRICKLE);
    const registry = await open({ timeouts: { total: 3000 } });
    const { error, ms } = await timed(registry.fetch('tool', ECHO));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toMatch(/Downloading .* did not finish within 3 s .*`timeouts\.total`/);
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);

  test('fetchPackageCode: a trickling tarball ends at timeouts.total', async () => {
    misbehave(isTarball, TRICKLE);
    const destination = join(await tempDir('code'), 'out');
    const { error, ms } = await timed(fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false, timeouts: { total: 3000 } }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('`timeouts.total`');
    expect(ms).toBeLessThan(3000 + SLACK_MS);
  }, 30_000);

  test("core's abort still wins over the deadline: E_ABORTED at once", async () => {
    misbehave(isPackument, TRICKLE);
    const registry = await open({ timeouts: { total: 60_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const { error, ms } = await timed(registry.fetch('tool', ECHO, { signal: controller.signal }));
    expect(error.code).toBe('E_ABORTED');
    expect(ms).toBeLessThan(500 + SLACK_MS);
  }, 30_000);
});

describe('timeouts.attempt: one request', () => {
  test('a silent registry ends at timeouts.attempt (one retry included), E_UNREACHABLE naming it', async () => {
    misbehave(isPackument, { kind: 'silent' });
    const registry = await open({ timeouts: { attempt: 1000, total: 60_000 } });
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
  test.each([
    [{ timeouts: { total: 0 } }, 'timeouts.total'],
    [{ timeouts: { attempt: 'fast' } }, 'timeouts.attempt'],
    [{ timeouts: { forever: 1 } }, 'timeouts.forever'],
    [{ timeouts: 5000 }, 'timeouts'],
    [{ limits: { tarball: -1 } }, 'limits.tarball'],
    [{ limits: 'big' }, 'limits'],
  ])('%j is E_CONFIG naming %s', async (config, field) => {
    const error = await rejectionOf(open(config as Partial<SourceConfig>));
    expect((error as { code?: string }).code).toBe('E_CONFIG');
    expect((error as { details?: { field?: string } }).details?.field).toBe(`registries.slow.${field}`);
  });

  test('fetchPackageCode and installDependencies check them too', async () => {
    const destination = join(await tempDir('code'), 'out');
    const error = await rejectionOf(fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false, timeouts: { total: -5 } }));
    expect([(error as { code?: string }).code, (error as { details?: { field?: string } }).details?.field]).toEqual(['E_CONFIG', 'timeouts.total']);
  });
});
