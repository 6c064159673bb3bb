/** `packageVersions`: the packument's versions and dist-tags, with the settings and credentials of `fetchPackage`. */
import type { VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource, packageVersions } from '../src/index.js';
import { codeOf, startRegistryServer, tempDir } from './support/packages.js';

let server: VerdaccioServer;
let token: string;

const lib = (name: string, version: string) => ({ 'package.json': JSON.stringify({ name, version, main: 'index.js' }), 'index.js': 'module.exports = {};\n' });

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  await server.publish(lib('versioned-lib', '1.0.0'), { token });
  await server.publish(lib('versioned-lib', '1.2.0'), { token });
  await server.publish(lib('versioned-lib', '2.0.0-beta.1'), { token, tag: 'next' });
  await server.publish(lib('@private/versioned', '0.3.0'), { token });
}, 90_000);

afterAll(async () => {
  await server?.close();
});

describe('packageVersions', () => {
  test('answers every published version and the dist-tags', async () => {
    const answer = await packageVersions({ name: 'versioned-lib', registry: server.url, npmrc: false, cacheDir: await tempDir('cache') });
    expect(answer.versions.sort()).toEqual(['1.0.0', '1.2.0', '2.0.0-beta.1']);
    expect(answer.distTags).toEqual({ latest: '1.2.0', next: '2.0.0-beta.1' });
  });

  test('through the adapter, with the token for a private scope; E_AUTH without it, E_NOT_FOUND for no such package', async () => {
    const adapter = npmSource();
    const ctx = {
      signal: new AbortController().signal,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      env: {},
      baseDir: await tempDir('base'),
      workDir: await tempDir('work'),
    };
    const options = { registry: server.url, token, npmrc: false };
    expect((await adapter.packageVersions!({ name: '@private/versioned', options }, ctx)).versions).toEqual(['0.3.0']);
    expect(await codeOf(adapter.packageVersions!({ name: '@private/versioned', options: { registry: server.url, npmrc: false } }, ctx))).toBe('E_AUTH');
    expect(await codeOf(adapter.packageVersions!({ name: 'no-such-package', options }, ctx))).toBe('E_NOT_FOUND');
    // The token never leaves the adapter in an answer.
    expect(JSON.stringify(await adapter.packageVersions!({ name: 'versioned-lib', options }, ctx))).not.toContain(token);
  });
});
