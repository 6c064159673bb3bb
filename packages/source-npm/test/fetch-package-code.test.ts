import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fetchPackageCode } from '../src/index.js';
import { DEAD_REGISTRY } from './support/dead-registry.js';
import { codeOf, extensionPackage, packument, rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const EXTENSION = '@acme/agentos-ext-web-search';
const PRIVATE_EXTENSION = '@private/agentos-ext-secret';

let server: VerdaccioServer;
let token: string;

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  await server.publish(extensionPackage(EXTENSION, '1.0.0'), { token });
  await server.publish(extensionPackage(EXTENSION, '1.2.0'), { token });
  await server.publish(extensionPackage(PRIVATE_EXTENSION, '0.3.0'), { token });
}, 60_000);
afterAll(() => server?.close());

const tarballRequests = (name: string) => server.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/${name}/-/`)).length;

describe('fetchPackageCode', () => {
  test("extracts name@version into the destination, with npm's integrity", async () => {
    const destination = join(await tempDir('code'), 'out');
    const code = await fetchPackageCode({ spec: `${EXTENSION}@1.0.0`, destination, registry: server.url });
    const published = (await packument(server, EXTENSION)).versions['1.0.0']!.dist;
    expect(code).toEqual({ name: EXTENSION, version: '1.0.0', integrity: published.integrity, resolved: published.tarball });
    const pkg = JSON.parse(await readFile(join(destination, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('1.0.0');
    expect(await readFile(join(destination, 'dist/index.js'), 'utf8')).toContain('"1.0.0"');
  });

  test.each([
    ['a range', '^1', '1.2.0'],
    ['a dist-tag', 'latest', '1.2.0'],
    ['no selector', '', '1.2.0'],
  ])('%s resolves to the matching version', async (_label, selector, version) => {
    const destination = await tempDir('code');
    const code = await fetchPackageCode({ spec: selector ? `${EXTENSION}@${selector}` : EXTENSION, destination, registry: server.url });
    expect(code.version).toBe(version);
  });

  test('reuses cacheDir: a second fetch of the same version downloads no tarball', async () => {
    const cacheDir = join(await tempDir('cache'), '_cacache');
    await fetchPackageCode({ spec: `${EXTENSION}@1.2.0`, destination: await tempDir('code'), registry: server.url, cacheDir });
    const before = tarballRequests(EXTENSION);
    const again = await fetchPackageCode({ spec: `${EXTENSION}@1.2.0`, destination: await tempDir('code'), registry: server.url, cacheDir });
    expect(again.version).toBe('1.2.0');
    expect(tarballRequests(EXTENSION)).toBe(before);
  });

  test('an unknown version is E_NOT_FOUND listing the versions that exist', async () => {
    const error = await rejectionOf(fetchPackageCode({ spec: `${EXTENSION}@^3`, destination: await tempDir('code'), registry: server.url }));
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('Available versions: 1.0.0, 1.2.0');
  });

  test('an unknown package is E_NOT_FOUND', async () => {
    expect(await codeOf(fetchPackageCode({ spec: '@acme/nothing@1.0.0', destination: await tempDir('code'), registry: server.url }))).toBe('E_NOT_FOUND');
  });

  test('a private package needs the token: E_AUTH without, its files with', async () => {
    const spec = `${PRIVATE_EXTENSION}@0.3.0`;
    expect(await codeOf(fetchPackageCode({ spec, destination: await tempDir('code'), registry: server.url }))).toBe('E_AUTH');
    const code = await fetchPackageCode({ spec, destination: await tempDir('code'), registry: server.url, token });
    expect(code.version).toBe('0.3.0');
  });

  test('the registry comes from .npmrc when not given', async () => {
    const home = await tempDir('home');
    await writeFile(join(home, '.npmrc'), `registry=${server.url}\n`);
    const code = await fetchPackageCode({ spec: `${EXTENSION}@1.0.0`, destination: await tempDir('code'), env: { HOME: home } });
    expect(code.version).toBe('1.0.0');
  });

  test('a registry that is down is E_UNREACHABLE', async () => {
    expect(await codeOf(fetchPackageCode({ spec: `${EXTENSION}@1.0.0`, destination: await tempDir('code'), registry: DEAD_REGISTRY }))).toBe('E_UNREACHABLE');
  });

  test('an aborted call is E_ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    const call = fetchPackageCode({ spec: `${EXTENSION}@1.0.0`, destination: await tempDir('code'), registry: server.url, signal: controller.signal });
    expect(await codeOf(call)).toBe('E_ABORTED');
  });

  test('refuses a destination that is not empty, and leaves it alone', async () => {
    const destination = await tempDir('code');
    await mkdir(join(destination, 'keep'));
    await writeFile(join(destination, 'keep/me.txt'), 'mine');
    expect(await codeOf(fetchPackageCode({ spec: `${EXTENSION}@1.0.0`, destination, registry: server.url }))).toBe('E_INTERNAL');
    expect(await readFile(join(destination, 'keep/me.txt'), 'utf8')).toBe('mine');
  });

  test.each(['https://example.com/x.tgz', 'file:../x', 'github:acme/x', 'alias@npm:left-pad@1', 'Bad Name@1'])(
    '%s is not a registry spec: E_CONFIG',
    async (spec) => {
      expect(await codeOf(fetchPackageCode({ spec, destination: await tempDir('code'), registry: server.url }))).toBe('E_CONFIG');
    },
  );
});
