/**
 * `policy.requireVerified` judged on the result, not only on the registry (issue 14): code taken from an entry's npm
 * package under a signed index is `provenance.verified: false`, so a load that needs verified code is refused after
 * the fetch and before the package's module is imported. Also `allowTypes`/`allowHosts` letting such a load through.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry, defineSource, generateKeyPair, isRegistryError, signRegistry } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const A = generateKeyPair();
const keyA = { id: A.keyId, key: A.publicKey };

async function scene() {
  const dir = await tempDir();
  const marker = join(dir, 'imported.txt');
  const files = pageRegistry();
  const doc = files['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
  doc.extensions.curated.push({ id: 'com.test.remote', name: 'Remote', version: '2.0.0', path: 'curated/remote', package: '@test/remote' });
  // The registry folder names a built module it does not ship: in auto mode the code comes from the package.
  files['registry/curated/remote/manifest.json'] = { id: 'com.test.remote', name: 'Remote', version: '2.0.0', extensions: [{ kind: 'tool', id: 'remote' }] };
  files['registry/curated/remote/package.json'] = { name: '@test/remote', version: '2.0.0', main: 'dist/index.js' };
  const root = await writeTree(files);
  await signRegistry(root, { key: A.privateKey, name: 'acme', expires: '1d' });
  let packageFetches = 0;
  const packages = defineSource({
    type: 'pkgs',
    create: () => {
      throw new Error('not a registry source');
    },
    async fetchPackage(request) {
      packageFetches += 1;
      await writeTree(
        {
          'package.json': { name: '@test/remote', version: '2.0.0', type: 'module', main: 'dist/index.js' },
          'dist/index.js': `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, 'remote\\n');\nexport function createExtensionPack() { return { name: 'remote', descriptors: [] }; }\n`,
        },
        request.destination,
      );
      return { version: request.version, integrity: 'sha512-npm', resolved: 'https://packages.example.com/remote.tgz' };
    },
  });
  const open = (policy: Record<string, unknown>, packageRegistry = 'https://packages.example.com/') =>
    createRegistry(
      {
        registries: { acme: { type: 'dir', location: root, verified: true, publicKeys: [keyA] } },
        defaultRegistries: { tool: 'acme' },
        cacheSettings: { directory: join(dir, 'cache') },
        policy,
      },
      { sources: [countingSource().adapter, packages], env: {}, baseDir: dir, dependencies: { hostDir: dir }, packages: { registry: packageRegistry } },
    );
  const imported = async () => (existsSync(marker) ? (await readFile(marker, 'utf8')).split('\n').filter(Boolean) : []);
  return { open, imported, fetches: () => packageFetches };
}

describe('requireVerified on the result', () => {
  it('refuses code from an npm package under a signed index, before its module is imported', async () => {
    const { open, imported, fetches } = await scene();
    const registry = await open({ requireVerified: ['tool'] });
    const error = await registry.load('tool', 'com.test.remote').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRegistryError(error) && { code: error.code, rule: error.details?.rule }).toEqual({ code: 'E_POLICY', rule: 'requireVerified' });
    expect((error as Error).message).toContain('npm package @test/remote@2.0.0');
    // Fetched (that is how core learns where the code comes from), never imported.
    expect(fetches()).toBe(1);
    expect(await imported()).toEqual([]);
    // The signed registry folder's own code is verified and loads.
    const echo = await registry.load('tool', 'com.test.echo');
    expect(echo.fetched.provenance.verified).toBe(true);
  });

  it('without the rule, the same package loads (unverified), and allowTypes/allowHosts that list it let it through', async () => {
    const { open, imported } = await scene();
    const registry = await open({ allowTypes: ['dir', 'npm'], allowHosts: ['*.example.com'] });
    const loaded = await registry.load('tool', 'com.test.remote');
    expect(loaded.fetched.provenance.verified).toBe(false);
    expect(await imported()).toEqual(['remote']);
  });
});

describe('allowHosts reads the options an adapter calls identity, and names none itself', () => {
  /** A source on a host (its location is a URL), reading its files from a folder; `options` as the test declares. */
  function hostedSource(root: string, options?: Record<string, 'identity' | 'transport' | 'secret'>) {
    return defineSource({
      type: 'hosted',
      ...(options ? { options } : {}),
      create: (config) => ({
        displayLocation: String(config.location),
        revision: async () => ({ id: 'r1' }),
        readIndex: () => readFile(join(root, 'registry.json')),
        materialize: async () => {
          throw new Error('not needed: list() reads the index only');
        },
      }),
    });
  }
  const open = (adapter: ReturnType<typeof hostedSource>, extra: Record<string, unknown>) =>
    createRegistry(
      {
        registries: { corp: { type: 'hosted', location: 'https://registry.corp.example/agents', ...extra } },
        cacheSettings: { enabled: false },
        policy: { allowHosts: ['registry.corp.example'] },
      },
      { sources: [adapter], env: {} },
    );
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'ok',
      (error: unknown) => (isRegistryError(error) ? `${error.code}:${String(error.details?.host ?? '')}` : String(error)),
    );

  it('an identity option on another host is refused; a transport or secret option is not where the registry lives', async () => {
    const root = await writeTree(pageRegistry());
    const roles = { mirror: 'identity', relay: 'transport', credentialsUrl: 'secret' } as const;
    expect(await code(open(hostedSource(root, roles), { mirror: 'https://elsewhere.example/agents' }))).toBe('E_POLICY:elsewhere.example');
    // Named like nothing core knows: only the declared role says that a relay is how, not where.
    const allowed = await open(hostedSource(root, roles), { relay: 'http://relay.example:3128', credentialsUrl: 'https://vault.example/t' });
    expect((await allowed.list()).length).toBeGreaterThan(0);
    await allowed.close();
  });

  it('an adapter that declares no roles has every URL-valued option checked', async () => {
    const root = await writeTree(pageRegistry());
    expect(await code(open(hostedSource(root), { relay: 'http://relay.example:3128' }))).toBe('E_POLICY:relay.example:3128');
  });
});
