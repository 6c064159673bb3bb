/**
 * Every npm body is bounded as it streams, on decoded bytes. npm has no cap of its own: an endless packument or
 * tarball was read until memory or the disk ran out (here: until the total deadline, which a fast endless stream
 * fills the disk long before).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRegistry, type Registry, type SourceConfig } from '@agentos-registry/core';
import { type HostileBehaviour, type HostileServer, startHostileServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchPackageCode, installDependencies, npmSource } from '../src/index.js';
import { registryPackageDir, rejectionOf, startRegistryServer, tarHeader, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/huge-registry';
const LIBRARY = 'huge-lib';
const ECHO = 'com.conformance.echo';
const MiB = 1024 * 1024;
/** Long enough that only the size limit can end these tests in time; it ends them on the code before the fix. */
const TOTAL_MS = 20_000;

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

const ENDLESS: HostileBehaviour = { kind: 'endless', headers: { 'content-type': 'application/json' } };
const isPackument = (url: string) => !url.includes('/-/');
const isTarball = (url: string) => url.endsWith('.tgz');

function misbehave(when: (url: string) => boolean, behaviour: HostileBehaviour): void {
  front.setRespond(({ url }) => (when(url) ? behaviour : { kind: 'forward' }));
}

async function open(config: Partial<SourceConfig>): Promise<Registry> {
  const cache = await tempDir('cache');
  const registry = await createRegistry(
    {
      registries: { huge: { type: 'npm', location: REGISTRY_PACKAGE, registry: front.url, timeouts: { index: TOTAL_MS, entry: TOTAL_MS }, ...config } },
      defaultRegistries: { tool: 'huge' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: {}, baseDir: cache },
  );
  opened.push(registry);
  return registry;
}

async function timed(promise: Promise<unknown>): Promise<{ error: Error & { code?: string }; ms: number }> {
  const started = performance.now();
  const error = await rejectionOf(promise);
  return { error, ms: performance.now() - started };
}

/**
 * Makes the front serve `name`'s packument and its 1.0.0 tarball itself, gzip-encoded (the packument's tarball URL
 * rewritten to the front's origin); returns their decoded sizes.
 */
async function serveGzipped(name: string): Promise<{ packument: number; tarball: number }> {
  const packumentPath = `/${name.replace('/', '%2f')}`;
  const packument = Buffer.from(await (await fetch(`${server.url}${packumentPath.slice(1)}`)).arrayBuffer());
  const doc = JSON.parse(packument.toString('utf8')) as { versions: Record<string, { dist: { tarball: string } }> };
  const tarballUrl = new URL(doc.versions['1.0.0']!.dist.tarball);
  const tarball = Buffer.from(await (await fetch(tarballUrl)).arrayBuffer());
  const rewritten = Buffer.from(packument.toString('utf8').split(server.url).join(front.url));
  front.setRespond(({ url }): HostileBehaviour => {
    if (url === packumentPath) return { kind: 'reply', headers: { 'content-encoding': 'gzip' }, body: gzipSync(rewritten) };
    if (url === tarballUrl.pathname)
      return { kind: 'reply', headers: { 'content-encoding': 'gzip', 'content-type': 'application/octet-stream' }, body: gzipSync(tarball) };
    return { kind: 'forward' };
  });
  return { packument: rewritten.length, tarball: tarball.length };
}

describe('bodies within the limits', () => {
  test('a gzip-encoded packument and tarball are read as usual (decoded on the way in)', async () => {
    const sizes = await serveGzipped(REGISTRY_PACKAGE);
    const registry = await open({ version: '1.0.0', limits: { index: sizes.packument, entry: sizes.tarball } });
    expect((await registry.fetch('tool', ECHO)).revision.startsWith('1.0.0#')).toBe(true);
  }, 40_000);

  test('what npm stored of them is whole: the same cache serves them with the registry gone', async () => {
    await serveGzipped(LIBRARY);
    const cacheDir = join(await tempDir('npm-cache'), '_cacache');
    const first = await fetchPackageCode({
      spec: `${LIBRARY}@1.0.0`,
      destination: join(await tempDir('code'), 'out'),
      registry: front.url,
      npmrc: false,
      cacheDir,
    });
    front.setRespond(() => ({ kind: 'reset' }));
    const again = await fetchPackageCode({
      spec: `${LIBRARY}@1.0.0`,
      destination: join(await tempDir('code'), 'out'),
      registry: front.url,
      npmrc: false,
      cacheDir,
    });
    expect(again).toEqual(first);
  }, 40_000);
});

describe('limits.index: one packument', () => {
  test('an endless packument stops at limits.index: E_TOO_LARGE naming it', async () => {
    misbehave(isPackument, ENDLESS);
    const registry = await open({ limits: { index: MiB } });
    const { error, ms } = await timed(registry.list());
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toMatch(/The packument of .* is larger than 1 MiB/);
    expect(error.message).toContain('`limits.index`');
    expect(ms).toBeLessThan(TOTAL_MS / 2);
  }, 40_000);

  test('a gzip bomb (50 KiB on the wire, 64 MiB decoded) stops at limits.index', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB, 0x20));
    expect(bomb.length).toBeLessThan(MiB);
    misbehave(isPackument, { kind: 'reply', headers: { 'content-encoding': 'gzip' }, body: bomb });
    const registry = await open({ limits: { index: MiB } });
    const { error } = await timed(registry.list());
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('`limits.index`');
  }, 40_000);

  test('a packument declared (Content-Length) over the limit is refused before it is read', async () => {
    misbehave(isPackument, { kind: 'reply', body: `${' '.repeat(2 * MiB)}{}` });
    const registry = await open({ limits: { index: MiB } });
    expect((await timed(registry.list())).error.code).toBe('E_TOO_LARGE');
  }, 40_000);
});

describe('limits.entry: one tarball', () => {
  test('an endless tarball stops at limits.entry: E_TOO_LARGE naming it', async () => {
    // A real tar header for a 1 GiB file, then endless content: core's extractor reads on, so the limit must stop it.
    misbehave(isTarball, { kind: 'endless', prefix: tarHeader('package/big.bin', 1024 * MiB) });
    const registry = await open({ limits: { entry: 2 * MiB } });
    const { error, ms } = await timed(registry.fetch('tool', ECHO));
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toMatch(/The tarball of .* is larger than 2 MiB/);
    expect(error.message).toContain('`limits.entry`');
    expect(ms).toBeLessThan(TOTAL_MS / 2);
  }, 40_000);

  test('fetchPackageCode: an endless tarball stops at limits.entry', async () => {
    // A real tar header first: garbage alone is refused by core's extractor at its first block (E_INTEGRITY).
    misbehave(isTarball, { kind: 'endless', prefix: tarHeader('package/big.bin', 1024 * MiB) });
    const destination = join(await tempDir('code'), 'out');
    const { error } = await timed(
      fetchPackageCode({ spec: `${LIBRARY}@1.0.0`, destination, registry: front.url, npmrc: false, limits: { entry: 2 * MiB }, timeouts: { entry: TOTAL_MS } }),
    );
    expect(error.code).toBe('E_TOO_LARGE');
  }, 40_000);

  test('a dependency install: an endless tarball stops at limits.entry', async () => {
    misbehave(isTarball, { kind: 'endless' });
    const dir = await tempDir('install');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'huge-install', version: '1.0.0', dependencies: { [LIBRARY]: '1.0.0' } }));
    const { error } = await timed(installDependencies({ dir, registry: front.url, npmrc: false, limits: { entry: 2 * MiB }, timeouts: { install: TOTAL_MS } }));
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('`limits.entry`');
  }, 40_000);
});
