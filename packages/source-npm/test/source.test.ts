import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type Registry, type SourceConfig } from '@agentos-registry/core';
import { startStaticServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/index.js';
import { DEAD_REGISTRY } from './support/dead-registry.js';
import { codeOf, extensionPackage, packument, READER, registryPackageDir, rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/agentos-registry';
const PRIVATE_PACKAGE = '@private/agentos-registry';
const MOVING_PACKAGE = '@acme/moving-registry';
const REMOTE_CODE_PACKAGE = '@acme/remote-code-registry';
const EXTENSION_PACKAGE = '@acme/agentos-ext-remote';
const ECHO = 'com.conformance.echo';

let server: VerdaccioServer;
let token: string;
const opened: Registry[] = [];

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  const publish = async (dir: string | Record<string, string>, tag?: string) => server.publish(dir, { token, ...(tag ? { tag } : {}) });
  await Promise.all([
    (async () => {
      // Two releases and a prerelease behind the `next` dist-tag.
      await publish(await registryPackageDir(REGISTRY_PACKAGE, '1.0.0', '2024-01-01T00:00:00.000Z'));
      await publish(await registryPackageDir(REGISTRY_PACKAGE, '1.1.0', '2024-02-01T00:00:00.000Z'));
      await publish(await registryPackageDir(REGISTRY_PACKAGE, '2.0.0-beta.0', '2024-03-01T00:00:00.000Z'), 'next');
    })(),
    (async () => {
      await publish(await registryPackageDir(PRIVATE_PACKAGE, '1.0.0'));
      await publish({ 'package.json': JSON.stringify({ name: 'not-a-registry', version: '1.0.0' }), 'index.js': 'export {};\n' });
    })(),
    (async () => {
      await publish(extensionPackage(EXTENSION_PACKAGE, '1.2.0'));
      await publish(await remoteCodeRegistryDir());
    })(),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await server?.close();
});

/** A registry whose entry names its npm `package` and whose folder holds only a manifest, like the real one. */
async function remoteCodeRegistryDir(): Promise<string> {
  const dir = await registryPackageDir(REMOTE_CODE_PACKAGE, '1.0.0');
  const index = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8')) as { extensions: { curated: unknown[] } };
  index.extensions.curated.push({ id: 'com.acme.remote', name: 'Remote Echo', version: '1.2.0', path: 'curated/remote', package: EXTENSION_PACKAGE });
  await writeFile(join(dir, 'registry.json'), JSON.stringify(index, null, 2));
  await mkdir(join(dir, 'registry/curated/remote'), { recursive: true });
  await writeFile(join(dir, 'registry/curated/remote/manifest.json'), extensionPackage(EXTENSION_PACKAGE, '1.2.0')['manifest.json']!);
  return dir;
}

/** A registry through core with one npm registry, a private cache folder and no environment. */
async function open(config: Partial<SourceConfig> = {}, options: { cache?: string; env?: Record<string, string>; refresh?: boolean } = {}) {
  const cache = options.cache ?? (await tempDir('cache'));
  const registry = await createRegistry(
    {
      registries: { official: { type: 'npm', location: REGISTRY_PACKAGE, registry: server.url, ...config } },
      defaultRegistries: { tool: 'official', persona: 'official' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: options.env ?? {}, baseDir: cache, refresh: options.refresh ?? false },
  );
  opened.push(registry);
  return { registry, cache };
}

async function integrityOf(name: string, version: string, auth?: string): Promise<string> {
  return (await packument(server, name, auth)).versions[version]!.dist.integrity;
}

describe('which version is the registry', () => {
  test('latest by default: the revision is version + npm integrity, and the files are the published ones', async () => {
    const { registry } = await open();
    const fetched = await registry.fetch('tool', ECHO);
    expect(fetched.revision).toBe(`1.1.0#${await integrityOf(REGISTRY_PACKAGE, '1.1.0')}`);
    expect(await readdir(join(fetched.dir, 'src'))).toEqual(['index.js']);
    expect(fetched.provenance.sourceType).toBe('npm');
    expect(fetched.provenance.location).toBe(`${REGISTRY_PACKAGE}@latest (${server.url})`);
  });

  test.each([
    ['a pinned version', { version: '1.0.0' }, '1.0.0'],
    ['a range (~1.0.0)', { version: '~1.0.0' }, '1.0.0'],
    ['a range (^1)', { version: '^1' }, '1.1.0'],
    ['a dist-tag', { version: 'next' }, '2.0.0-beta.0'],
    ['`branch` read as a dist-tag', { branch: 'next' }, '2.0.0-beta.0'],
    ['an explicit latest', { version: 'latest' }, '1.1.0'],
  ])('%s', async (_label, config, version) => {
    const { registry } = await open(config);
    const fetched = await registry.fetch('tool', ECHO);
    expect(fetched.revision).toBe(`${version}#${await integrityOf(REGISTRY_PACKAGE, version)}`);
  });

  test('a new version published → a new revision and the new files', async () => {
    await server.publish(await registryPackageDir(MOVING_PACKAGE, '1.0.0'), { token });
    const { registry, cache } = await open({ location: MOVING_PACKAGE });
    const before = await registry.fetch('tool', ECHO);
    expect(before.revision.startsWith('1.0.0#')).toBe(true);

    const next = await registryPackageDir(MOVING_PACKAGE, '1.0.1');
    await writeFile(join(next, 'registry/curated/echo/src/index.js'), '// 1.0.1\n');
    await server.publish(next, { token });

    const { registry: again } = await open({ location: MOVING_PACKAGE }, { cache, refresh: true });
    const after = await again.fetch('tool', ECHO);
    expect(after.revision).toBe(`1.0.1#${await integrityOf(MOVING_PACKAGE, '1.0.1')}`);
    expect(after.revision).not.toBe(before.revision);
    expect(await readFile(join(after.dir, 'src/index.js'), 'utf8')).toBe('// 1.0.1\n');
  });

  test('an unknown version or range is E_NOT_FOUND naming the versions and dist-tags that exist', async () => {
    const { registry } = await open({ version: '^9' });
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain("matches '^9'");
    expect(error.message).toContain('1.0.0, 1.1.0, 2.0.0-beta.0');
    expect(error.message).toContain('next → 2.0.0-beta.0');
  });

  test('an unknown package is E_NOT_FOUND', async () => {
    const { registry } = await open({ location: '@acme/no-such-registry' });
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('@acme/no-such-registry does not exist');
  });

  test('a package without registry.json is E_NOT_FOUND saying so', async () => {
    const { registry } = await open({ location: 'not-a-registry' });
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('has no registry.json');
  });

  test('a registry that is down is E_UNREACHABLE', async () => {
    const { registry } = await open({ registry: DEAD_REGISTRY });
    expect(await codeOf(registry.list())).toBe('E_UNREACHABLE');
  });
});

describe('private registries', () => {
  test('without a token the private scope is E_AUTH, with a hint to configure one', async () => {
    const { registry } = await open({ location: PRIVATE_PACKAGE });
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('Set `token`');
  });

  test('a wrong token is E_AUTH, and the token shows nowhere', async () => {
    const wrong = 'wrong-token-0123456789abcdef';
    const { registry } = await open({ location: PRIVATE_PACKAGE, token: wrong });
    const error = await rejectionOf(registry.list());
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('refused the configured credential');
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(`${error.message}\n${error.stack}\n${String(error.cause)}`).not.toContain(wrong);
  });

  test("the right token (a reader's) reads the private scope, and is sent to that registry", async () => {
    const reader = await server.tokenFor(READER.user, READER.password);
    const { registry } = await open({ location: PRIVATE_PACKAGE, token: reader });
    const fetched = await registry.fetch('tool', ECHO);
    expect(fetched.revision).toBe(`1.0.0#${await integrityOf(PRIVATE_PACKAGE, '1.0.0', token)}`);
    const tarballs = server.requests.filter((r) => r.path.startsWith('/@private/agentos-registry/-/'));
    expect(tarballs.length).toBeGreaterThan(0);
    expect(tarballs.every((r) => r.authorization && r.status === 200)).toBe(true);
    expect(JSON.stringify(fetched)).not.toContain(reader);
  });

  test('the token goes to the configured registry only, not to a tarball host elsewhere', async () => {
    // A "registry" (a static server that wants a Bearer token) whose packument points the tarball at Verdaccio.
    const secret = 'scoped-token-0123456789';
    const root = await tempDir('static-registry');
    const published = await packument(server, REGISTRY_PACKAGE);
    const v1 = published.versions['1.1.0']!;
    const doc = {
      name: 'cross-host-registry',
      'dist-tags': { latest: '1.1.0' },
      versions: { '1.1.0': { name: 'cross-host-registry', version: '1.1.0', dist: v1.dist } },
    };
    await writeFile(join(root, 'cross-host-registry'), JSON.stringify(doc));
    const statics = await startStaticServer({ root, auth: { token: secret } });
    const seen = server.requests.length;
    try {
      const { registry } = await open({ location: 'cross-host-registry', registry: statics.url, token: secret });
      const fetched = await registry.fetch('tool', ECHO);
      expect(fetched.revision).toBe(`1.1.0#${v1.dist.integrity}`);
      expect(statics.requests.every((r) => r.authorization && r.status === 200)).toBe(true);
      const tarballPath = new URL(v1.dist.tarball).pathname;
      const tarball = server.requests.slice(seen).filter((r) => r.path === tarballPath);
      expect(tarball.length).toBeGreaterThan(0);
      expect(tarball.some((r) => r.authorization)).toBe(false);
    } finally {
      await statics.close();
    }
  });

  test('the user .npmrc is honoured: scoped registry and ${ENV} token, with no `registry` or `token` option', async () => {
    const home = await tempDir('home');
    const host = new URL(server.url).host;
    await writeFile(join(home, '.npmrc'), `registry=${DEAD_REGISTRY}\n@private:registry=${server.url}\n//${host}/:_authToken=\${NPM_TOKEN}\n`);
    const { registry } = await open({ location: PRIVATE_PACKAGE, registry: undefined }, { env: { HOME: home, NPM_TOKEN: token } });
    const fetched = await registry.fetch('tool', ECHO);
    expect(fetched.revision.startsWith('1.0.0#')).toBe(true);
    expect(fetched.provenance.location).toBe(`${PRIVATE_PACKAGE}@latest (${server.url})`);
  });

  test('an explicit `registry` and `token` win over .npmrc', async () => {
    const npmrc = join(await tempDir('npmrc'), 'npmrc');
    await writeFile(npmrc, `@private:registry=${DEAD_REGISTRY}\n//${new URL(server.url).host}/:_authToken=not-the-token\n`);
    const { registry } = await open({ location: PRIVATE_PACKAGE, token, npmrc });
    expect((await registry.fetch('tool', ECHO)).revision.startsWith('1.0.0#')).toBe(true);
  });
});

describe('caching and npm code', () => {
  test("pacote's cache lives in core's cache folder, and nothing is written to HOME", async () => {
    const { registry, cache } = await open();
    await registry.fetch('tool', ECHO);
    const found: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        if (entry.name === '_cacache') found.push(join(dir, entry.name));
        else if (depth < 6) await walk(join(dir, entry.name), depth + 1);
      }
    };
    await walk(cache, 0);
    expect(found.length).toBe(1);
    expect(existsSync(join(process.env.HOME!, '.npm'))).toBe(false);
  });

  test('with caching off the source still works, from a private folder', async () => {
    const registry = await createRegistry(
      { registries: { default: { type: 'npm', location: REGISTRY_PACKAGE, registry: server.url } }, cacheSettings: { enabled: false } },
      { sources: [npmSource()], env: {}, baseDir: await tempDir('base') },
    );
    opened.push(registry);
    expect((await registry.fetch('tool', ECHO)).revision.startsWith('1.1.0#')).toBe(true);
  });

  test("an entry whose code lives in its npm package: fetch({ code: 'package' }) and load() take it from npm", async () => {
    const { registry } = await open({ location: REMOTE_CODE_PACKAGE });
    const fetched = await registry.fetch('tool', 'com.acme.remote', { code: 'package' });
    expect(fetched.from).toBe('package');
    expect(fetched.integrity).toBe(await integrityOf(EXTENSION_PACKAGE, '1.2.0'));
    expect(fetched.provenance.package).toBe(`${EXTENSION_PACKAGE}@1.2.0`);
    expect(await readFile(join(fetched.dir, 'dist/index.js'), 'utf8')).toContain('remote-echo');
    const loaded = await registry.load('tool', 'com.acme.remote');
    expect((loaded as { pack: { name: string; version: string } }).pack).toMatchObject({ name: 'remote-echo', version: '1.2.0' });
  });

  test('an aborted fetch is E_ABORTED', async () => {
    const { registry } = await open();
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(registry.fetch('tool', ECHO, { signal: controller.signal }))).toBe('E_ABORTED');
  });
});

describe('config', () => {
  test.each([
    [{ location: 'https://npm.example.com/pkg' }, 'location'],
    [{ location: '@acme/agentos-registry@1.0.0' }, 'location'],
    [{ location: 'Bad Name' }, 'location'],
    [{ registry: 'ftp://npm.example.com/' }, 'registry'],
    [{ registry: 'https://user:secret@npm.example.com/' }, 'registry'],
    [{ version: '' }, 'version'],
    [{ version: '1.0.0', branch: 'next' }, 'version'],
    [{ npmrc: 42 }, 'npmrc'],
    [{ tag: 'next' }, 'tag'],
  ])('%j is E_CONFIG naming %s', async (config, field) => {
    const error = await rejectionOf(open(config as Partial<SourceConfig>));
    expect(error.code).toBe('E_CONFIG');
    expect((error as { details?: { field?: string } }).details?.field).toBe(`registries.official.${field}`);
  });
});
