/**
 * Packages shaped like the real `@framers/agentos-ext-*` ones, published to a Verdaccio with no uplinks, loaded into
 * a host folder that has its own (small, fake) `@framers/agentos` 0.9.x: stale peer ranges (`^0.1.0`), optional
 * peers imported lazily or at top level, required peers the host lacks (`@aws-sdk/client-polly`), CommonJS builds, a
 * release published without its `main`, and a dependency that needs its install script.
 *
 * The registry is a `file` registry in the real registry's shape (entries name their npm `package`; folders hold
 * only manifest.json and package.json), so the code comes from the packages, as it does for the real one.
 */
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRegistry, type CreateRegistryOptions, isRegistryError, type LoadedExtension, type Registry, type RegistryWarning } from '@agentos-registry/core';
import { startVerdaccio, VERDACCIO_PUBLISHER, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/npm.js';
import { cli, scratch } from './helpers.js';

type Files = Record<string, string>;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

const HOST_AGENTOS = '0.9.3';

interface Extension {
  id: string;
  pkg: Record<string, unknown> & { name: string; version: string };
  /** Files of the published package besides package.json and manifest.json. */
  code: Files;
}

const esmPack = (body: string, imports = '') => `${imports}
export function createExtensionPack() {
  return { name: 'pack', descriptors: [{ id: 'tool', kind: 'tool', payload: ${body} }] };
}
`;

const EXTENSIONS: Extension[] = [
  {
    // 100 of the 117 real entries: a peer range the host's 0.9.x does not satisfy.
    id: 'com.framers.tools.weather',
    pkg: { name: '@framers/agentos-ext-weather', version: '0.1.0', type: 'module', main: 'dist/index.js', peerDependencies: { '@framers/agentos': '^0.1.0' } },
    code: { 'dist/index.js': esmPack('{ agentos }', "import * as agentos from '@framers/agentos';") },
  },
  {
    // A range the registry has a version for, but the host (in the strict test) does not.
    id: 'com.framers.tools.calendar',
    pkg: { name: '@framers/agentos-ext-calendar', version: '0.2.0', type: 'module', main: 'dist/index.js', peerDependencies: { '@framers/agentos': '^0.9.0' } },
    code: { 'dist/index.js': esmPack('{ agentos }', "import * as agentos from '@framers/agentos';") },
  },
  {
    // tools/wallet: optional peers imported only when a tool runs.
    id: 'com.framers.tools.wallet',
    pkg: {
      name: '@framers/agentos-ext-wallet',
      version: '0.1.0',
      type: 'module',
      main: 'dist/index.js',
      peerDependencies: { '@framers/agentos': '>=0.7.0', ethers: '^6.0.0' },
      peerDependenciesMeta: { ethers: { optional: true } },
    },
    code: { 'dist/index.js': esmPack("{ execute: async () => (await import('ethers')).version }") },
  },
  {
    // The same, with the optional peer imported by createExtensionPack itself.
    id: 'com.framers.tools.wallet-eager',
    pkg: {
      name: '@framers/agentos-ext-wallet-eager',
      version: '0.1.0',
      type: 'module',
      main: 'dist/index.js',
      peerDependencies: { '@framers/agentos': '>=0.7.0', ethers: '^6.0.0' },
      peerDependenciesMeta: { ethers: { optional: true } },
    },
    code: {
      'dist/index.js': `export async function createExtensionPack() {
  const { version } = await import('ethers');
  return { name: 'wallet', descriptors: [{ id: 'tool', kind: 'tool', payload: { version } }] };
}
`,
    },
  },
  {
    // provenance/anchor-providers, had it imported an optional peer at top level.
    id: 'com.framers.provenance.anchor-providers',
    pkg: {
      name: '@framers/agentos-ext-anchor-providers',
      version: '0.1.0',
      type: 'module',
      main: 'dist/index.js',
      peerDependencies: { '@framers/agentos': '>=0.7.0', bs58: '^5.0.0' },
      peerDependenciesMeta: { bs58: { optional: true } },
    },
    code: { 'dist/index.js': esmPack('{ bs58 }', "import bs58 from 'bs58';") },
  },
  {
    // voice/amazon-polly: a required peer the host lacks, which npm 7+ installs itself.
    id: 'com.framers.voice.amazon-polly',
    pkg: {
      name: '@framers/agentos-ext-amazon-polly',
      version: '0.1.0',
      type: 'module',
      main: './dist/index.js',
      exports: { '.': { import: './dist/index.js', types: './dist/index.d.ts' } },
      peerDependencies: { '@framers/agentos': '>=0.7.0', '@aws-sdk/client-polly': '^3.0.0' },
    },
    code: { 'dist/index.js': esmPack('{ PollyClient }', "import { PollyClient } from '@aws-sdk/client-polly';") },
  },
  {
    // A required peer the host lacks, and no published version in its range.
    id: 'com.framers.voice.old-sdk',
    pkg: { name: '@framers/agentos-ext-old-sdk', version: '0.1.0', type: 'module', main: 'dist/index.js', peerDependencies: { 'speech-sdk': '^2.0.0' } },
    code: { 'dist/index.js': esmPack('{}', "import 'speech-sdk';") },
  },
  {
    // communications/notifications: no "type", so tsc's CommonJS output.
    id: 'com.framers.communications.notifications',
    pkg: { name: '@framers/agentos-ext-notifications', version: '0.1.0', main: 'dist/index.js', peerDependencies: { '@framers/agentos': '>=0.7.0' } },
    code: {
      'dist/index.js': `"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createExtensionPack = createExtensionPack;
const agentos_1 = require("@framers/agentos");
function createExtensionPack() {
    return { name: 'notifications', descriptors: [{ id: 'notify', kind: 'tool', payload: { agentos: agentos_1 } }] };
}
`,
    },
  },
  {
    // The same, written by hand: `module.exports = { createExtensionPack }`.
    id: 'com.framers.tools.cjs-object',
    pkg: { name: '@framers/agentos-ext-cjs-object', version: '0.1.0', main: 'dist/index.js' },
    code: {
      'dist/index.js': `function createExtensionPack() {
  return { name: 'cjs-object', descriptors: [{ id: 'cjs', kind: 'tool', payload: { format: 'commonjs' } }] };
}
module.exports = { createExtensionPack };
`,
    },
  },
  {
    // Published without its build: `main` names a file the tarball lacks.
    id: 'com.framers.tools.unbuilt',
    pkg: { name: '@framers/agentos-ext-unbuilt', version: '0.1.0', type: 'module', main: 'dist/index.js', peerDependencies: { '@framers/agentos': '>=0.7.0' } },
    code: { 'src/index.ts': 'export const notBuilt = true;\n' },
  },
  {
    // The same through `exports` (productivity/widget-generator's shape).
    id: 'com.framers.productivity.unbuilt-exports',
    pkg: {
      name: '@framers/agentos-ext-unbuilt-exports',
      version: '1.0.0',
      type: 'module',
      exports: { '.': { import: './dist/index.js', types: './dist/index.d.ts' } },
    },
    code: { 'src/index.ts': 'export const notBuilt = true;\n' },
  },
  {
    // A dependency that builds its binding in an install script (as sharp or better-sqlite3 do). An ES module: Node 20
    // also reports its failed import of the throwing CommonJS package as an unhandled rejection, which would end the
    // host process (and fails this file) unless the loader outlasts it.
    id: 'com.framers.memory.sqlite',
    pkg: { name: '@framers/agentos-ext-sqlite', version: '0.1.0', type: 'module', main: 'dist/index.js', dependencies: { 'native-binding': '^1.0.0' } },
    code: { 'dist/index.js': esmPack('{ binding }', "import binding from 'native-binding';") },
  },
];

/** A library published to Verdaccio: CommonJS, exporting what `body` says. */
const library = (name: string, version: string, body: string, extra: Record<string, unknown> = {}): Files => ({
  'package.json': json({ name, version, main: 'index.js', ...extra }),
  'index.js': body,
});

const LIBRARIES: Files[] = [
  // Only 0.9.1 is published: nothing satisfies ^0.1.0.
  library('@framers/agentos', '0.9.1', 'exports.identity = { copy: "registry" };\n'),
  library('ethers', '6.13.0', 'exports.version = "6.13.0";\n'),
  library('bs58', '5.0.0', 'module.exports = { encode: () => "bs58 5.0.0" };\n'),
  library('bs58', '6.0.0', 'module.exports = { encode: () => "bs58 6.0.0" };\n'),
  library('@aws-sdk/client-polly', '3.1.0', 'exports.PollyClient = class PollyClient {};\nexports.version = "3.1.0";\n'),
  library('speech-sdk', '1.0.0', 'exports.version = "1.0.0";\n'),
  library('native-binding', '1.0.0', "module.exports = require('./build/binding.js');\n", {
    scripts: {
      install: `node -e "require('fs').mkdirSync('build',{recursive:true});require('fs').writeFileSync('build/binding.js','module.exports = { native: true };')"`,
    },
  }),
];

let server: VerdaccioServer;
let root: string;
let cleanup: () => Promise<void>;
let registryDir: string;
const opened: Registry[] = [];

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  server = await startVerdaccio();
  const token = await server.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  const manifestOf = (ext: Extension) =>
    json({ name: ext.pkg.name, version: ext.pkg.version, kind: 'tool', extensionId: ext.id.split('.').pop(), entryPoint: './dist/index.js' });
  for (const lib of LIBRARIES) await server.publish(lib, { token });
  await Promise.all(EXTENSIONS.map((ext) => server.publish({ 'package.json': json(ext.pkg), 'manifest.json': manifestOf(ext), ...ext.code }, { token })));
  // The registry in the real one's shape: entries name their package; their folders hold no code.
  registryDir = join(root, 'agentos-extensions');
  const entries = EXTENSIONS.map((ext) => ({
    id: ext.id,
    name: ext.id,
    package: ext.pkg.name,
    version: ext.pkg.version,
    category: ext.id.split('.')[2],
    path: `registry/curated/${ext.id.split('.').slice(2).join('/')}`,
    verified: true,
  }));
  await mkdir(registryDir, { recursive: true });
  await writeFile(
    join(registryDir, 'registry.json'),
    json({
      version: '1.0.0',
      updated: '2026-05-26T07:15:25.940Z',
      categories: { curated: ['tools'], community: [], templates: [] },
      extensions: { curated: entries, community: [], templates: [] },
    }),
  );
  for (const [i, ext] of EXTENSIONS.entries()) {
    const folder = join(registryDir, entries[i]!.path);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'package.json'), json(ext.pkg));
    await writeFile(join(folder, 'manifest.json'), manifestOf(ext));
  }
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await server?.close();
  await cleanup?.();
});

let hosts = 0;
/** A host application folder with its own small @framers/agentos (not the published one). */
async function hostApp(agentos: string | undefined = HOST_AGENTOS): Promise<string> {
  const host = join(root, `host-${++hosts}`);
  await mkdir(host, { recursive: true });
  await writeFile(join(host, 'package.json'), json({ name: 'host-app', version: '1.0.0', private: true, type: 'module' }));
  if (agentos) {
    const dir = join(host, 'node_modules', '@framers', 'agentos');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), json({ name: '@framers/agentos', version: agentos, type: 'module', main: 'index.js' }));
    await writeFile(join(dir, 'index.js'), `export const identity = { copy: 'host', version: ${JSON.stringify(agentos)} };\n`);
  }
  return host;
}

async function open(host: string, dependencies?: CreateRegistryOptions['dependencies']) {
  const warnings: RegistryWarning[] = [];
  const registry = await createRegistry(
    {
      registries: { agentos: { type: 'file', location: registryDir } },
      defaultRegistries: { tool: 'agentos' },
      cacheSettings: { directory: join(host, 'cache') },
    },
    {
      sources: [npmSource()],
      baseDir: host,
      env: { HOME: host },
      packages: { registry: server.url },
      onWarning: (warning) => warnings.push(warning),
      ...(dependencies ? { dependencies } : {}),
    },
  );
  opened.push(registry);
  return { registry, warnings };
}

const load = async (registry: Registry, ref: string) => (await registry.load('tool', ref)) as LoadedExtension;
const payloadOf = <T>(loaded: LoadedExtension) => loaded.pack.descriptors[0]!.payload as T;

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (error: Error) => error,
  );
}

async function hostAgentos(host: string): Promise<{ identity: unknown }> {
  return import(pathToFileURL(join(host, 'node_modules', '@framers', 'agentos', 'index.js')).href);
}

describe('a peer the host has outside the range (@framers/agentos@^0.1.0, host 0.9.3)', () => {
  test("links the host's own copy, with one W_PEER_MISMATCH naming the package, the range and the host's version", async () => {
    const host = await hostApp();
    const { registry, warnings } = await open(host);
    const loaded = await load(registry, 'com.framers.tools.weather');
    const { agentos } = payloadOf<{ agentos: { identity: unknown } }>(loaded);
    expect(agentos.identity).toBe((await hostAgentos(host)).identity);
    expect(loaded.install?.peers).toEqual({ '@framers/agentos': await realpath(join(host, 'node_modules', '@framers', 'agentos')) });
    expect(loaded.install?.packages).toEqual([]);
    const mismatches = warnings.filter((w) => w.code === 'W_PEER_MISMATCH');
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]!.message).toContain('@framers/agentos@^0.1.0');
    expect(mismatches[0]!.message).toContain(`@framers/agentos@${HOST_AGENTOS}`);
    expect(loaded.fetched.warnings.filter((w) => w.code === 'W_PEER_MISMATCH')).toHaveLength(1);
    // A second load (the install folder reused) warns once more, once.
    await load(registry, 'com.framers.tools.weather');
    expect(warnings.filter((w) => w.code === 'W_PEER_MISMATCH')).toHaveLength(2);
  });

  test('strictPeers refuses with E_PEER_MISSING; with no published version in range it says so, and names none', async () => {
    const host = await hostApp();
    const { registry } = await open(host, { strictPeers: true });
    const error = await failure(registry.load('tool', 'com.framers.tools.weather'));
    expect(isRegistryError(error, 'E_PEER_MISSING')).toBe(true);
    expect(error.message).toContain(`@framers/agentos@^0.1.0 (the host has ${HOST_AGENTOS})`);
    expect(error.message).toContain('no published version of @framers/agentos satisfies ^0.1.0 (newest 0.9.1)');
    expect(error.message).toContain('widen the range, or leave strictPeers off');
    expect(error.message).not.toContain('npm install');
  });

  test('strictPeers with a published version in range suggests exactly that version', async () => {
    const host = await hostApp('0.8.0');
    const { registry } = await open(host, { strictPeers: true });
    const error = await failure(registry.load('tool', 'com.framers.tools.calendar'));
    expect(isRegistryError(error, 'E_PEER_MISSING')).toBe(true);
    expect(error.message).toContain('npm install "@framers/agentos@0.9.1"');
    expect(error.message).not.toContain('@framers/agentos@^0.9.0"');
  });

  test("the CLI: a warning by default; --strict-peers and the config file's strictPeers refuse", async () => {
    const host = await hostApp();
    await writeFile(join(host, '.npmrc'), `registry=${server.url}\n`);
    const config = (dependencies?: unknown) =>
      `export default ${JSON.stringify({
        registryConfig: {
          registries: { agentos: { type: 'file', location: registryDir } },
          defaultRegistries: { tool: 'agentos' },
          cacheSettings: { directory: join(host, 'cache') },
        },
        ...(dependencies ? { dependencies } : {}),
      })};\n`;
    await writeFile(join(host, 'agentos-registry.config.mjs'), config());
    const loose = await cli(['load', 'com.framers.tools.weather'], { cwd: host, env: { HOME: host } });
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stderr.match(/declares the peer dependency @framers\/agentos@\^0\.1\.0/g)).toHaveLength(1);
    const strict = await cli(['load', 'com.framers.tools.weather', '--strict-peers', '--json'], { cwd: host, env: { HOME: host } });
    expect(strict.code).toBe(1);
    expect(strict.json().error.code).toBe('E_PEER_MISSING');
    // A fresh module URL: the CLI imports the config file, and Node caches modules by URL.
    await writeFile(join(host, 'strict.config.mjs'), config({ strictPeers: true }));
    const fromFile = await cli(['load', 'com.framers.tools.weather', '--json', '--config', 'strict.config.mjs'], { cwd: host, env: { HOME: host } });
    expect(fromFile.code).toBe(1);
    expect(fromFile.json().error.code).toBe('E_PEER_MISSING');
    // What was installed for a peer the host lacks, and which install scripts did not run, is printed.
    const polly = await cli(['load', 'com.framers.voice.amazon-polly'], { cwd: host, env: { HOME: host } });
    expect(polly.code, polly.stderr).toBe(0);
    expect(polly.stdout).toContain('peers installed (the host lacks them): @aws-sdk/client-polly');
  });
});

describe('optional peers the host lacks', () => {
  test('imported lazily: the extension loads, nothing is installed for it', async () => {
    const host = await hostApp();
    const { registry, warnings } = await open(host);
    const loaded = await load(registry, 'com.framers.tools.wallet');
    expect(loaded.pack.descriptors.map((d) => d.id)).toEqual(['tool']);
    expect(loaded.install?.packages).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('imported at top level: E_LOAD naming the peer and the published version to add to the host', async () => {
    const host = await hostApp();
    const { registry } = await open(host);
    const error = await failure(registry.load('tool', 'com.framers.provenance.anchor-providers'));
    expect(isRegistryError(error, 'E_LOAD')).toBe(true);
    expect(error.message).toContain('optional peer dependency (bs58@^5.0.0)');
    // The highest published version in range (6.0.0 is published too, outside it).
    expect(error.message).toContain('npm install "bs58@5.0.0"');
    expect(error.details).toMatchObject({ peer: 'bs58', range: '^5.0.0', suggested: '5.0.0' });
  });

  test('imported by createExtensionPack: the same E_LOAD', async () => {
    const host = await hostApp();
    const { registry } = await open(host);
    const error = await failure(registry.load('tool', 'com.framers.tools.wallet-eager'));
    expect(isRegistryError(error, 'E_LOAD')).toBe(true);
    expect(error.message).toContain('imports ethers, an optional peer dependency (ethers@^6.0.0)');
    expect(error.message).toContain('npm install "ethers@6.13.0"');
  });
});

describe('required peers the host lacks', () => {
  test('installed into the install area from the registry, as npm 7+ does; the extension sees that copy', async () => {
    const host = await hostApp();
    const { registry } = await open(host);
    const loaded = await load(registry, 'com.framers.voice.amazon-polly');
    expect(loaded.install?.packages.map(({ name, version, path }) => ({ name, version, path }))).toEqual([
      { name: '@aws-sdk/client-polly', version: '3.1.0', path: 'node_modules/@aws-sdk/client-polly' },
    ]);
    expect(loaded.install?.peersInstalled).toEqual({ '@aws-sdk/client-polly': '^3.0.0' });
    const installDir = dirname(dirname(loaded.entryFile));
    const installed = (await import(pathToFileURL(join(installDir, 'node_modules', '@aws-sdk', 'client-polly', 'index.js')).href)) as { PollyClient: unknown };
    expect(payloadOf<{ PollyClient: unknown }>(loaded).PollyClient).toBe(installed.PollyClient);
    expect(installDir.startsWith(join(await realpath(host), 'node_modules', '.agentos-registry'))).toBe(true);
  });

  test("with no published version in range: E_PEER_MISSING saying so, not npm's ETARGET", async () => {
    const host = await hostApp();
    const { registry } = await open(host);
    const error = await failure(registry.load('tool', 'com.framers.voice.old-sdk'));
    expect(isRegistryError(error, 'E_PEER_MISSING')).toBe(true);
    expect(error.message).toContain('no published version of speech-sdk satisfies ^2.0.0 (newest 1.0.0)');
    expect(error.message).not.toContain('ETARGET');
  });
});

describe('package shapes', () => {
  test.each([
    ['tsc output (exports.createExtensionPack)', 'com.framers.communications.notifications'],
    ['module.exports = { createExtensionPack }', 'com.framers.tools.cjs-object'],
  ])('a CommonJS package loads: %s', async (_shape, id) => {
    const host = await hostApp();
    const { registry } = await open(host);
    const loaded = await load(registry, id);
    expect(loaded.pack.descriptors).toHaveLength(1);
    const payload = payloadOf<{ agentos?: { identity: unknown } }>(loaded);
    if (payload.agentos) expect(payload.agentos.identity).toBe((await hostAgentos(host)).identity);
  });

  test.each([
    ['main', 'com.framers.tools.unbuilt', '@framers/agentos-ext-unbuilt@0.1.0'],
    ['exports', 'com.framers.productivity.unbuilt-exports', '@framers/agentos-ext-unbuilt-exports@1.0.0'],
  ])('a package published without its %s file: E_LOAD saying so', async (field, id, name) => {
    const host = await hostApp();
    const { registry } = await open(host);
    const error = await failure(registry.load('tool', id));
    expect(isRegistryError(error, 'E_LOAD')).toBe(true);
    expect(error.message).toBe(`${name} was published without dist/index.js (its \`${field}\`); ask its authors for a fixed release.`);
    expect(error.details).toMatchObject({ file: 'dist/index.js', field });
  });

  test('a dependency that needs its install script: off by default, the error says how to allow it; allowed by name, it runs', async () => {
    const off = await open(await hostApp());
    const error = await failure(off.registry.load('tool', 'com.framers.memory.sqlite'));
    expect(isRegistryError(error, 'E_LOAD')).toBe(true);
    expect(error.message).toContain('The install scripts of native-binding did not run');
    expect(error.message).toContain('dependencies.allowScripts: ["native-binding"] (CLI: --allow-scripts native-binding)');

    const on = await open(await hostApp(), { allowScripts: ['native-binding'] });
    const loaded = await load(on.registry, 'com.framers.memory.sqlite');
    expect(payloadOf<{ binding: { native: boolean } }>(loaded).binding).toEqual({ native: true });
    expect(loaded.install?.scriptsRan).toEqual(['native-binding']);
  });
});
