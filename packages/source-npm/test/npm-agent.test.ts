/**
 * Every npm request goes through this package's agent, which hands it to the agent npm itself would have used: the
 * proxy of `.npmrc` (or of the environment) must still carry it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry } from '@agentos-registry/core';
import { startForwardProxy } from '@agentos-registry/test-servers';
import { expect, test } from 'vitest';
import { npmSource } from '../src/index.js';
import { registryPackageDir, startRegistryServer, tempDir } from './support/packages.js';

test("an .npmrc proxy still carries the packument and the tarball (npm's own agent does the connecting)", async () => {
  const { server, token } = await startRegistryServer();
  const proxy = await startForwardProxy({});
  try {
    await server.publish(await registryPackageDir('@private/proxied-registry', '1.0.0'), { token });
    const home = await tempDir('home');
    await writeFile(join(home, '.npmrc'), `proxy=${proxy.url}\n`);
    const cache = await tempDir('cache');
    const registry = await createRegistry(
      {
        registries: { proxied: { type: 'npm', location: '@private/proxied-registry', registry: server.url, token } },
        defaultRegistries: { tool: 'proxied' },
        cacheSettings: { directory: cache },
      },
      { sources: [npmSource()], env: { HOME: home }, baseDir: cache },
    );
    try {
      expect((await registry.fetch('tool', 'com.conformance.echo')).revision.startsWith('1.0.0#')).toBe(true);
    } finally {
      await registry.close();
    }
    expect(proxy.requests.map((r) => new URL(r.target).pathname)).toEqual([
      '/@private%2fproxied-registry',
      '/@private/proxied-registry/-/proxied-registry-1.0.0.tgz',
    ]);
    expect(proxy.requests.every((r) => r.status === 200)).toBe(true);
  } finally {
    await proxy.close();
    await server.close();
  }
}, 60_000);
