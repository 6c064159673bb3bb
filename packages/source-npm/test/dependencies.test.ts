/**
 * Extension code with npm dependencies, loaded through core: dependencies installed from the (private) registry
 * with npm's engine, install scripts off unless allowed, peers taken from the host application, offline from cache.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRegistry, type CreateRegistryOptions, type LoadedExtension, type Registry } from '@agentos-registry/core';
import type { VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/index.js';
import { codeOf, rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/deps-registry';
const HOST_PEER = '@acme/agentos-like';

let server: VerdaccioServer;
let token: string;
const opened: Registry[] = [];

type Files = Record<string, string>;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** A library published to the test registry: CommonJS, says its own name and version. */
function library(name: string, version: string, extra: Record<string, unknown> = {}): Files {
  return {
    'package.json': json({ name, version, main: 'index.js', ...extra }),
    'index.js': `module.exports = { greet: () => ${JSON.stringify(`${name} ${version}`)} };\n`,
  };
}

/** An extension folder: package.json with `dependencies`/`peerDependencies`, and an entry that imports them. */
function extension(id: string, version: string, pkg: Record<string, unknown>, code: string): Files {
  return {
    'manifest.json': json({ id, name: id, version, extensions: [{ kind: 'tool', id: `${id}-tool`, displayName: id }] }),
    'package.json': json({ name: id.replace(/^com\.acme\./, 'acme-'), version, type: 'module', main: 'src/index.js', ...pkg }),
    'src/index.js': code,
  };
}

const usesLib = (lib: string) => `import lib from '${lib}';
export function createExtensionPack() {
  return { name: 'uses-lib', descriptors: [{ id: 'greet', kind: 'tool', payload: { execute: async () => ({ output: lib.greet() }) } }] };
}
`;

const ENTRIES: Array<{ id: string; version: string; path: string; files: Files }> = [
  {
    id: 'com.acme.uses-lib',
    version: '1.0.0',
    path: 'curated/uses-lib',
    files: extension('com.acme.uses-lib', '1.0.0', { dependencies: { 'tiny-lib': '^1.0.0' } }, usesLib('tiny-lib')),
  },
  {
    id: 'com.acme.uses-lib',
    version: '2.0.0',
    path: 'curated/uses-lib-2',
    files: extension('com.acme.uses-lib', '2.0.0', { dependencies: { 'tiny-lib': '^2.0.0' } }, usesLib('tiny-lib')),
  },
  {
    id: 'com.acme.scripted',
    version: '1.0.0',
    path: 'curated/scripted',
    files: extension(
      'com.acme.scripted',
      '1.0.0',
      { dependencies: { 'marker-lib': '^1.0.0' }, scripts: { postinstall: "node -e \"require('fs').writeFileSync('root-marker', '')\"" } },
      usesLib('marker-lib'),
    ),
  },
  {
    id: 'com.acme.peer-user',
    version: '1.0.0',
    path: 'curated/peer-user',
    files: extension(
      'com.acme.peer-user',
      '1.0.0',
      { dependencies: { 'tiny-lib': '^1.0.0' }, peerDependencies: { [HOST_PEER]: '^1.0.0' }, devDependencies: { [HOST_PEER]: '1.0.0' } },
      `import { instance } from '${HOST_PEER}';
import lib from 'tiny-lib';
export function createExtensionPack() {
  return { name: 'peer-user', descriptors: [{ id: 'peer', kind: 'tool', payload: { instance, greet: lib.greet } }] };
}
`,
    ),
  },
  {
    id: 'com.acme.peer-only',
    version: '1.0.0',
    path: 'curated/peer-only',
    files: extension(
      'com.acme.peer-only',
      '1.0.0',
      { peerDependencies: { [HOST_PEER]: '^1.0.0' } },
      `import { instance } from '${HOST_PEER}';\nexport default { name: 'peer-only', descriptors: [{ id: 'peer', kind: 'tool', payload: { instance } }] };\n`,
    ),
  },
  {
    id: 'com.acme.wants-v3',
    version: '1.0.0',
    path: 'curated/wants-v3',
    files: extension('com.acme.wants-v3', '1.0.0', { peerDependencies: { [HOST_PEER]: '^3.0.0', 'not-in-host': '>=2' } }, 'export default {};\n'),
  },
  {
    id: 'com.acme.private-dep',
    version: '1.0.0',
    path: 'curated/private-dep',
    files: extension('com.acme.private-dep', '1.0.0', { dependencies: { '@private/secret-lib': '^1.0.0' } }, usesLib('@private/secret-lib')),
  },
  {
    id: 'com.acme.missing-dep',
    version: '1.0.0',
    path: 'curated/missing-dep',
    files: extension('com.acme.missing-dep', '1.0.0', { dependencies: { 'no-such-lib': '^1.0.0' } }, usesLib('no-such-lib')),
  },
  {
    id: 'com.acme.deep-remote',
    version: '1.0.0',
    path: 'curated/deep-remote',
    files: extension('com.acme.deep-remote', '1.0.0', { dependencies: { 'remote-lib': '^1.0.0' } }, usesLib('remote-lib')),
  },
  {
    id: 'com.acme.foreign-lock',
    version: '1.0.0',
    path: 'curated/foreign-lock',
    files: {
      ...extension('com.acme.foreign-lock', '1.0.0', { dependencies: { 'tiny-lib': '^1.0.0' } }, usesLib('tiny-lib')),
      'package-lock.json': json({
        name: 'acme-foreign-lock',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'acme-foreign-lock', version: '1.0.0', dependencies: { 'tiny-lib': '^1.0.0' } },
          'node_modules/tiny-lib': { version: '1.0.0', resolved: 'http://127.0.0.1:9/tiny-lib/-/tiny-lib-1.0.0.tgz' },
        },
      }),
    },
  },
  {
    id: 'com.acme.plain',
    version: '1.0.0',
    path: 'curated/plain',
    files: extension('com.acme.plain', '1.0.0', {}, "export default { name: 'plain', descriptors: [{ id: 'plain', kind: 'tool' }] };\n"),
  },
];

function registryPackage(): Files {
  const files: Files = {
    'package.json': json({ name: REGISTRY_PACKAGE, version: '1.0.0' }),
    'registry.json': json({
      version: '1.0.0',
      updated: '2026-01-01T00:00:00.000Z',
      categories: { curated: ['tools'], community: [] },
      extensions: { curated: ENTRIES.map(({ id, version, path }) => ({ id, name: id, version, path, author: { name: 'Acme' } })) },
    }),
  };
  for (const entry of ENTRIES) for (const [file, text] of Object.entries(entry.files)) files[`registry/${entry.path}/${file}`] = text;
  return files;
}

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  const publish = (files: Files) => server.publish(files, { token });
  await Promise.all([
    publish(library('tiny-lib', '1.0.0')).then(() => publish(library('tiny-lib', '2.0.0'))),
    publish(library('marker-lib', '1.0.0', { scripts: { postinstall: "node -e \"require('fs').writeFileSync('installed-marker', '')\"" } })),
    publish(library('@private/secret-lib', '1.0.0')),
    // A registry package whose own dependency is a tarball URL: the install must not follow it.
    publish(library('remote-lib', '1.0.0', { dependencies: { 'evil-lib': 'http://127.0.0.1:9/evil-lib.tgz' } })),
    publish(registryPackage()),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await server?.close();
});

/** A host application folder with its own copy of the peer package. */
async function hostApp(peerVersion = '1.2.0'): Promise<string> {
  const host = await tempDir('host');
  const peer = join(host, 'node_modules', HOST_PEER);
  await mkdir(peer, { recursive: true });
  await writeFile(join(host, 'package.json'), json({ name: 'host-app', version: '1.0.0', private: true, type: 'module' }));
  await writeFile(join(peer, 'package.json'), json({ name: HOST_PEER, version: peerVersion, type: 'module', main: 'index.js' }));
  await writeFile(join(peer, 'index.js'), 'export const instance = { createdBy: "the host" };\n');
  return host;
}

async function open(
  options: { host?: string; cache?: string; token?: string | undefined; offline?: boolean; dependencies?: CreateRegistryOptions['dependencies'] } = {},
) {
  const host = options.host ?? (await hostApp());
  const cache = options.cache ?? (await tempDir('cache'));
  const registry = await createRegistry(
    {
      registries: {
        official: {
          type: 'npm',
          location: REGISTRY_PACKAGE,
          registry: server.url,
          ...('token' in options ? (options.token ? { token: options.token } : {}) : { token }),
        },
      },
      defaultRegistries: { tool: 'official' },
      cacheSettings: { directory: cache },
    },
    {
      sources: [npmSource()],
      env: { HOME: host },
      baseDir: host,
      offline: options.offline ?? false,
      ...(options.dependencies ? { dependencies: options.dependencies } : {}),
    },
  );
  opened.push(registry);
  return { registry, host, cache };
}

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

const load = async (registry: Registry, ref: string) => (await registry.load('tool', ref)) as LoadedExtension;
const execute = async (loaded: LoadedExtension) =>
  ((await (loaded.pack.descriptors[0]!.payload as { execute: () => Promise<{ output: string }> }).execute()) as { output: string }).output;
const tarballGets = () => server.requests.filter((r) => r.method === 'GET' && r.path.includes('/-/')).length;

describe('dependencies', () => {
  test('a tool whose package depends on a library of the registry: installed, loaded and executed', async () => {
    const { registry, host } = await open();
    const loaded = await load(registry, 'com.acme.uses-lib@1.0.0');
    expect(await execute(loaded)).toBe('tiny-lib 1.0.0');
    expect(loaded.install?.packages.map(({ name, version, path }) => ({ name, version, path }))).toEqual([
      { name: 'tiny-lib', version: '1.0.0', path: 'node_modules/tiny-lib' },
    ]);
    expect(loaded.install?.packages[0]?.integrity).toMatch(/^sha512-/);
    // The code runs from the project's install area; the download cache holds the entry's files only.
    expect(loaded.entryFile.startsWith(join(await realpath(host), 'node_modules', '.agentos-registry'))).toBe(true);
    expect(existsSync(join(loaded.fetched.dir, 'node_modules'))).toBe(false);
  });

  test('an entry with no dependencies installs nothing and runs from its cached folder', async () => {
    const { registry, host } = await open();
    const loaded = await load(registry, 'com.acme.plain');
    expect(loaded.install).toBeUndefined();
    expect(loaded.entryFile.startsWith(loaded.fetched.dir)).toBe(true);
    expect(existsSync(join(host, 'node_modules', '.agentos-registry'))).toBe(false);
  });

  test('install scripts are off by default, and run for the packages the config allows', async () => {
    const off = await open();
    const quiet = await load(off.registry, 'com.acme.scripted');
    const installDir = dirname(dirname(quiet.entryFile));
    expect(await execute(quiet)).toBe('marker-lib 1.0.0');
    expect(existsSync(join(installDir, 'node_modules/marker-lib/installed-marker'))).toBe(false);
    expect(quiet.install?.scriptsRan).toEqual([]);

    const on = await open({ dependencies: { allowScripts: ['marker-lib'] } });
    const allowed = await load(on.registry, 'com.acme.scripted');
    const allowedDir = dirname(dirname(allowed.entryFile));
    expect(existsSync(join(allowedDir, 'node_modules/marker-lib/installed-marker'))).toBe(true);
    expect(allowed.install?.scriptsRan).toEqual(['marker-lib']);
    // The extension's own lifecycle scripts never run, whatever is allowed.
    expect(existsSync(join(allowedDir, 'root-marker'))).toBe(false);
  });

  test('a dependency on a private scope is installed with the registry token, and is E_AUTH without it', async () => {
    const withToken = await open();
    const loaded = await load(withToken.registry, 'com.acme.private-dep');
    expect(await execute(loaded)).toBe('@private/secret-lib 1.0.0');
    // The token is in no file of the install folder (lockfile, package.json files) or of the cache.
    const installDir = dirname(dirname(loaded.entryFile));
    for (const dir of [installDir, withToken.cache]) {
      for (const file of await filesBelow(dir)) expect((await readFile(file)).includes(token), file).toBe(false);
    }
    const without = await open({ token: undefined });
    const error = await rejectionOf(without.registry.load('tool', 'com.acme.private-dep'));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('@private/secret-lib');
    expect(error.message).not.toContain(token);
  });

  test('an unknown dependency is E_NOT_FOUND naming it, and leaves no half-built folder', async () => {
    const { registry, host } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.missing-dep'));
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('no-such-lib');
    expect(await readdir(join(host, 'node_modules', '.agentos-registry'))).toEqual([]);
  });

  test('a dependency deep in the tree that is a URL, not a registry version, is refused', async () => {
    const { registry, host } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.deep-remote'));
    expect(error.code).toBe('E_POLICY');
    expect(error.message).toContain('depends on a tarball URL instead of a version on the package registry');
    expect(await readdir(join(host, 'node_modules', '.agentos-registry'))).toEqual([]);
  });

  test('a shipped lockfile that downloads from elsewhere than the configured registry is refused', async () => {
    const { registry } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.foreign-lock'));
    expect(error.code).toBe('E_POLICY');
    expect(error.message).toContain('package-lock.json downloads from http://127.0.0.1:9');
  });

  test('two callers share one install; the one that gives up gets E_ABORTED, the other its pack', async () => {
    const { registry } = await open();
    const controller = new AbortController();
    const first = registry.load('tool', 'com.acme.uses-lib@1.0.0', { signal: controller.signal });
    const second = registry.load('tool', 'com.acme.uses-lib@1.0.0');
    const libRequests = () => server.requests.filter((r) => r.path.startsWith('/tiny-lib')).length;
    const before = libRequests();
    // Give up once the shared install has started (npm asks for tiny-lib), not before.
    while (libRequests() === before) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await codeOf(first)).toBe('E_ABORTED');
    expect(await execute((await second) as LoadedExtension)).toBe('tiny-lib 1.0.0');
  });

  test('offline, dependencies come from the cache: no request reaches the registry', async () => {
    const online = await open();
    await load(online.registry, 'com.acme.uses-lib@1.0.0');
    const requests = server.requests.length;
    // A new project (nothing installed yet) on the same cache, with the registry out of reach.
    const offline = await open({ cache: online.cache, offline: true });
    const loaded = await load(offline.registry, 'com.acme.uses-lib@1.0.0');
    expect(await execute(loaded)).toBe('tiny-lib 1.0.0');
    expect(loaded.install?.packages.map((p) => p.name)).toEqual(['tiny-lib']);
    expect(server.requests.length).toBe(requests);
    expect(await codeOf(offline.registry.load('tool', 'com.acme.uses-lib@2.0.0'))).toBe('E_NOT_CACHED');
  });
});

describe('peers and identity', () => {
  test("a peer dependency is the host's own instance, never a second copy", async () => {
    const { registry, host } = await open();
    const loaded = await load(registry, 'com.acme.peer-user');
    const payload = loaded.pack.descriptors[0]!.payload as { instance: unknown; greet: () => string };
    const hostCopy = (await import(pathToFileURL(join(host, 'node_modules', HOST_PEER, 'index.js')).href)) as { instance: unknown };
    expect(payload.instance).toBe(hostCopy.instance);
    expect(payload.greet()).toBe('tiny-lib 1.0.0');
    expect(loaded.install?.packages.map((p) => p.name)).toEqual(['tiny-lib']);
    const installDir = dirname(dirname(loaded.entryFile));
    expect((await lstat(join(installDir, 'node_modules', HOST_PEER))).isSymbolicLink()).toBe(true);
    expect(loaded.install?.peers).toEqual({ [HOST_PEER]: await realpath(join(host, 'node_modules', HOST_PEER)) });

    // Without dependencies, a peer still resolves to the host's copy (nothing is downloaded).
    const requests = tarballGets();
    const peerOnly = await load(registry, 'com.acme.peer-only');
    expect((peerOnly.pack.descriptors[0]!.payload as { instance: unknown }).instance).toBe(hostCopy.instance);
    expect(peerOnly.install?.packages).toEqual([]);
    expect(tarballGets()).toBe(requests);
  });

  test('with the install area outside the project, the peer is still linked to the host copy', async () => {
    const area = await tempDir('install-area');
    const { registry, host } = await open({ dependencies: { directory: area } });
    const loaded = await load(registry, 'com.acme.peer-user');
    expect(loaded.entryFile.startsWith(area)).toBe(true);
    const hostCopy = (await import(pathToFileURL(join(host, 'node_modules', HOST_PEER, 'index.js')).href)) as { instance: unknown };
    expect((loaded.pack.descriptors[0]!.payload as { instance: unknown }).instance).toBe(hostCopy.instance);
  });

  test('a peer the host lacks is installed from the registry, so one it does not have is E_PEER_MISSING saying so', async () => {
    const { registry } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.wants-v3'));
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.message).toContain(
      'needs the peer dependency not-in-host@>=2, which the host application does not provide and which cannot be installed: not-in-host is not published on the package registry',
    );
  });

  test('strictPeers: a host copy out of range is E_PEER_MISSING, and the advice names no version the registry lacks', async () => {
    const { registry } = await open({ dependencies: { strictPeers: true } });
    const error = await rejectionOf(registry.load('tool', 'com.acme.wants-v3'));
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.message).toContain(`${HOST_PEER}@^3.0.0 (the host has 1.2.0)`);
    expect(error.message).toContain(
      `${HOST_PEER} is not published on the package registry: ask the extension's authors to widen the range, or leave strictPeers off`,
    );
    expect(error.message).not.toContain('npm install');
  });

  test('two versions load side by side; loading one again returns the same module', async () => {
    const { registry } = await open();
    const one = await load(registry, 'com.acme.uses-lib@1.0.0');
    const two = await load(registry, 'com.acme.uses-lib@2.0.0');
    expect(await execute(one)).toBe('tiny-lib 1.0.0');
    expect(await execute(two)).toBe('tiny-lib 2.0.0');
    expect(one.module).not.toBe(two.module);
    const requests = server.requests.length;
    const again = await load(registry, 'com.acme.uses-lib@1.0.0');
    expect(again.module).toBe(one.module);
    expect(server.requests.length).toBe(requests);
  });
});
