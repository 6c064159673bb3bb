/**
 * Entries whose code is their npm package, listed by a `file` registry as the real AgentOS registry lists them: a
 * folder with a manifest and no built code, the code on a real Verdaccio. What a load reports (its warnings, once),
 * what a missing package or version says (naming the registry that listed it, with hints for that registry), and
 * what a package that needs a secret at construction says.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type CreateRegistryOptions, type Registry, type RegistryWarning } from '@agentos-registry/core';
import { fileSource } from '@agentos-registry/source-file';
import type { VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/index.js';
import { rejectionOf, startRegistryServer, tempDir } from './support/packages.js';

const DRIFT = '@acme/agentos-ext-drift';
const BARE = '@acme/agentos-ext-bare';
const MOVED = '@acme/agentos-ext-moved';
const ABSENT = '@acme/agentos-ext-absent';
const SECRET = '@acme/agentos-ext-secret';

let server: VerdaccioServer;
let token: string;
let registryDir: string;
const opened: Registry[] = [];

/** The files of an extension package: `main` + code, and a manifest unless `manifest` is null. */
function extension(name: string, version: string, manifest: Record<string, unknown> | null, code?: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({ name, version, type: 'module', main: 'dist/index.js' }, null, 2)}\n`,
    ...(manifest ? { 'manifest.json': `${JSON.stringify(manifest, null, 2)}\n` } : {}),
    'dist/index.js':
      code ??
      `export function createExtensionPack() {\n  return { name: ${JSON.stringify(name)}, descriptors: [{ id: 'echo', kind: 'tool', payload: {} }] };\n}\n`,
  };
}

const SECRET_CODE = `export function createExtensionPack(context) {
  const token = context.options?.secrets?.['acme.apiToken'] ?? process.env.ACME_API_TOKEN;
  if (!token) throw new Error('Acme token not found. Provide via secrets["acme.apiToken"] or ACME_API_TOKEN.');
  return { name: 'secret', descriptors: [{ id: 'acme', kind: 'tool', payload: { hasToken: typeof token === 'string' } }] };
}
`;

/** One entry of the file registry: its folder holds the manifest (or only package.json) and no code, like the real one. */
async function entryFolder(path: string, files: Record<string, unknown>): Promise<void> {
  const dir = join(registryDir, path);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), `${JSON.stringify(content, null, 2)}\n`);
}

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  await Promise.all([
    // The package's manifest disagrees with the index, as 12 real packages do.
    server.publish(extension(DRIFT, '1.0.0', { id: 'com.acme.drift', name: 'Drift', version: '0.9.0' }), { token }),
    // No manifest.json anywhere, as the real content-policy-rewriter.
    server.publish(extension(BARE, '1.0.0', null), { token }),
    // Only a later version is published (the real ml-classifiers and topicality).
    server.publish(extension(MOVED, '0.3.1', { id: 'com.acme.moved', name: 'Moved', version: '0.3.1' }), { token }),
    server.publish(
      extension(
        SECRET,
        '1.0.0',
        { id: 'com.acme.secret', name: 'Secret', version: '1.0.0', requiredSecrets: ['acme.apiToken'], optionalSecrets: ['acme.region'] },
        SECRET_CODE,
      ),
      { token },
    ),
  ]);
  registryDir = await tempDir('file-registry');
  const entry = (id: string, pkg: string, version: string) => ({ id, name: id, version, path: `registry/curated/${id}`, package: pkg });
  await writeFile(
    join(registryDir, 'registry.json'),
    JSON.stringify({
      version: '1.0.0',
      extensions: {
        curated: [
          entry('com.acme.drift', DRIFT, '1.0.0'),
          entry('com.acme.bare', BARE, '1.0.0'),
          entry('com.acme.moved', MOVED, '0.2.1'),
          entry('com.acme.absent', ABSENT, '1.0.0'),
          entry('com.acme.secret', SECRET, '1.0.0'),
        ],
      },
    }),
  );
  const pkgJson = (name: string, version: string) => ({ name, version, main: 'dist/index.js' });
  await entryFolder('registry/curated/com.acme.drift', {
    'manifest.json': { id: 'com.acme.drift', name: 'Drift', version: '0.9.0' },
    'package.json': pkgJson(DRIFT, '1.0.0'),
  });
  await entryFolder('registry/curated/com.acme.bare', { 'package.json': pkgJson(BARE, '1.0.0') });
  await entryFolder('registry/curated/com.acme.moved', { 'manifest.json': { id: 'com.acme.moved', name: 'Moved', version: '0.2.1' } });
  await entryFolder('registry/curated/com.acme.absent', { 'manifest.json': { id: 'com.acme.absent', name: 'Absent', version: '1.0.0' } });
  await entryFolder('registry/curated/com.acme.secret', {
    'manifest.json': { id: 'com.acme.secret', name: 'Secret', version: '1.0.0', requiredSecrets: ['acme.apiToken'] },
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((registry) => registry.close()));
  await server?.close();
});

/** A `file` registry named "agentos" over the folder; package code from the Verdaccio; warnings collected. */
async function open(options: Partial<CreateRegistryOptions> = {}) {
  const cache = await tempDir('cache');
  const warned: RegistryWarning[] = [];
  const logged: string[] = [];
  const registry = await createRegistry(
    { registries: { agentos: { type: 'file', location: registryDir } }, defaultRegistries: { tool: 'agentos' }, cacheSettings: { directory: cache } },
    {
      sources: [fileSource(), npmSource()],
      env: {},
      baseDir: cache,
      packages: { registry: server.url },
      onWarning: (warning) => warned.push(warning),
      logger: { debug() {}, info() {}, error() {}, warn: (message) => logged.push(message) },
      ...options,
    },
  );
  opened.push(registry);
  return { registry, warned, logged };
}

describe('warnings of an entry whose code is its package', () => {
  test('a version drift is reported once per load: once to onWarning, once to the logger, once in fetched.warnings', async () => {
    const { registry, warned, logged } = await open();
    const first = await registry.load('tool', 'com.acme.drift');
    expect(first.fetched.from).toBe('package');
    expect(first.fetched.warnings.map((w) => w.code)).toEqual(['W_VERSION_DRIFT']);
    expect(warned.map((w) => w.code)).toEqual(['W_VERSION_DRIFT']);
    expect(logged).toHaveLength(1);
    // The warning is about what was loaded: the package's manifest, named as such.
    expect(first.fetched.warnings[0]!.message).toContain(`the manifest.json of package ${DRIFT}@1.0.0 says 0.9.0`);
    // A second load in the same process (served from memory) reports its warnings again, once: once per load call.
    const second = await registry.load('tool', 'com.acme.drift');
    expect(second.fetched.warnings.map((w) => w.code)).toEqual(['W_VERSION_DRIFT']);
    expect(warned.map((w) => w.code)).toEqual(['W_VERSION_DRIFT', 'W_VERSION_DRIFT']);
    expect(logged).toHaveLength(2);
    // info() reads the registry folder: that folder's warning, once more, as its result lists it.
    const info = await registry.info('tool', 'com.acme.drift');
    expect(info.warnings.map((w) => w.code)).toEqual(['W_VERSION_DRIFT']);
    expect(info.warnings[0]!.message).toContain('but its manifest.json says 0.9.0');
    expect(warned.slice(2)).toEqual(info.warnings);
  });

  test('a manifest built because neither the folder nor the package has one is reported once, naming the package', async () => {
    const { registry, warned } = await open();
    const loaded = await registry.load('tool', 'com.acme.bare');
    expect(loaded.fetched.manifestSynthesized).toBe(true);
    expect(warned.map((w) => w.code)).toEqual(['W_MANIFEST_SYNTHESIZED']);
    expect(loaded.fetched.warnings).toEqual(warned);
    expect(warned[0]!.message).toContain(`package ${BARE}@1.0.0 has no manifest.json`);
  });
});

describe('code that is not on the package registry', () => {
  test('a package that was never published: E_NOT_FOUND naming the registry that listed it, with hints for that registry', async () => {
    const { registry } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.absent'));
    expect(error.code).toBe('E_NOT_FOUND');
    expect((error as { registry?: string }).registry).toBe('agentos');
    expect(error.message).toContain(
      `${ABSENT}@1.0.0, the code of com.acme.absent listed by registry "agentos", is not on the package registry (${server.url})`,
    );
    expect(error.message).toContain("ask the registry's owner to publish it or fix the entry's version");
    expect(error.message).toContain(`registry.json of ${registryDir}`);
    // Not a registry the user never configured, nor the fields of an npm registry's config.
    expect(error.message).not.toContain("registry 'npm'");
    expect(error.message).not.toContain('`location`');
    expect(error.message).not.toContain('`version`');
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({
      reason: 'no-package',
      entry: 'com.acme.absent',
      listedBy: 'agentos',
      sourceType: 'file',
    });
  });

  test('a version that was never published: E_NOT_FOUND saying which versions exist', async () => {
    const { registry } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.moved'));
    expect(error.code).toBe('E_NOT_FOUND');
    expect((error as { registry?: string }).registry).toBe('agentos');
    expect(error.message).toContain(`${MOVED}@0.2.1, the code of com.acme.moved listed by registry "agentos", is not on the package registry (${server.url})`);
    expect(error.message).toContain('the package is there, but not version 0.2.1 (it has 0.3.1)');
    expect(error.message).toContain("ask the registry's owner to publish it or fix the entry's version");
    expect(error.message).not.toContain("registry 'npm'");
    expect(error.message).not.toContain('Set `version`');
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({ reason: 'no-matching-version', versions: ['0.3.1'] });
  });
});

describe('a package that needs a secret to be built', () => {
  test('without the secret: E_LOAD naming the secret, how to provide it, and details.secrets', async () => {
    const { registry } = await open();
    const error = await rejectionOf(registry.load('tool', 'com.acme.secret'));
    expect(error.code).toBe('E_LOAD');
    expect(error.message).toContain('createExtensionPack of com.acme.secret threw: Acme token not found');
    expect(error.message).toContain('the secret "acme.apiToken"');
    expect(error.message).toContain('extensionContext.getSecret');
    expect(error.message).toContain('options.secrets');
    expect(error.message).toContain('ACME_API_TOKEN');
    // Only the required one: the optional secret is not asked for.
    expect(error.message).not.toContain('acme.region');
    expect((error as { details?: unknown }).details).toEqual({ secrets: [{ id: 'acme.apiToken', env: 'ACME_API_TOKEN' }] });
  });

  test("extensionContext.getSecret provides it to a package that reads options.secrets (AgentOS's convention)", async () => {
    const asked: string[] = [];
    const { registry } = await open({
      extensionContext: {
        getSecret: (id) => {
          asked.push(id);
          return id === 'acme.apiToken' ? 'token-value-1234' : undefined;
        },
      },
    });
    const loaded = await registry.load('tool', 'com.acme.secret');
    if (loaded.type !== 'extension') throw new Error('expected an extension');
    expect(loaded.pack.descriptors[0]!.payload).toEqual({ hasToken: true });
    expect(asked).toContain('acme.apiToken');
  });

  test('the load option options.secrets provides it too; an empty one counts as missing', async () => {
    const { registry } = await open();
    const loaded = await registry.load('tool', 'com.acme.secret', { options: { secrets: { 'acme.apiToken': 'given-token-5678' } } });
    expect(loaded.type).toBe('extension');
    const other = await rejectionOf(registry.load('tool', 'com.acme.secret', { options: { secrets: { 'acme.apiToken': '' } } }));
    expect(other.code).toBe('E_LOAD');
    expect((other as { details?: unknown }).details).toEqual({ secrets: [{ id: 'acme.apiToken', env: 'ACME_API_TOKEN' }] });
  });
});
