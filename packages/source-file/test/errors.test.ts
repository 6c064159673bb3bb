import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, isRegistryError, type Logger, type Registry, silentLogger } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { fileSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

const open: Registry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((registry) => registry.close()));
});

async function registryAt(location: string, extra: Record<string, unknown> = {}, logger: Logger = silentLogger) {
  const registry = await createRegistry(
    { registries: { local: { type: 'file', location, ...extra } }, defaultRegistries: { tool: 'local' }, cacheSettings: { enabled: false } },
    { sources: [fileSource()], logger },
  );
  open.push(registry);
  return registry;
}

/** The RegistryError a promise rejects with (fails the test if it resolves or throws something else). */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRegistryError(error)) throw new Error(`expected a RegistryError, got ${String(error)}`);
  return error;
}

/** A minimal registry folder with one tool, optionally without its entry folder. */
async function smallRegistry(options: { withEntry?: boolean } = {}): Promise<string> {
  const root = await tempDir('small-registry');
  const index = {
    version: '1.0.0',
    extensions: { curated: [{ id: 'com.example.tool', name: 'Tool', version: '1.0.0', path: 'curated/tool' }] },
  };
  await writeFile(join(root, 'registry.json'), JSON.stringify(index));
  if (options.withEntry !== false) {
    await mkdir(join(root, 'registry/curated/tool'), { recursive: true });
    await writeFile(join(root, 'registry/curated/tool/manifest.json'), JSON.stringify({ id: 'com.example.tool', name: 'Tool', version: '1.0.0' }));
  }
  return root;
}

describe('file source errors', () => {
  test('a missing folder is E_NOT_FOUND naming the path', async () => {
    const missing = join(await tempDir(), 'nowhere');
    const error = await failure((await registryAt(missing)).list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.registry).toBe('local');
    expect(error.message).toContain(missing);
  });

  test('a location that is a file is E_CONFIG', async () => {
    const file = join(await tempDir(), 'registry.json');
    await writeFile(file, '{}');
    const error = await failure((await registryAt(file)).list());
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(file);
  });

  test('a folder without registry.json is E_NOT_FOUND saying what to check', async () => {
    const root = await tempDir();
    const error = await failure((await registryAt(root)).list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('has no registry.json');
    expect(error.message).toContain(root);
  });

  test('pointing at the registry/ sub-folder suggests the repository root', async () => {
    const root = await smallRegistry();
    const error = await failure((await registryAt(join(root, 'registry'))).list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain(`${root} has one`);
  });

  test('an entry listed but missing on disk is E_NOT_FOUND', async () => {
    const root = await smallRegistry({ withEntry: false });
    const error = await failure((await registryAt(root)).fetch('tool', 'com.example.tool'));
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('curated/tool');
  });

  test('an entry folder that is a symlink out of the registry is E_UNSAFE_PATH', async () => {
    const root = await smallRegistry({ withEntry: false });
    const elsewhere = await tempDir('elsewhere');
    await writeFile(join(elsewhere, 'manifest.json'), JSON.stringify({ id: 'com.example.tool', name: 'Tool', version: '1.0.0' }));
    await mkdir(join(root, 'registry/curated'), { recursive: true });
    await symlink(elsewhere, join(root, 'registry/curated/tool'));
    const error = await failure((await registryAt(root)).fetch('tool', 'com.example.tool'));
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  test('a registry folder reached through a symlink is fine', async () => {
    const root = await smallRegistry();
    const link = join(await tempDir('link'), 'registry-link');
    await symlink(root, link);
    const fetched = await (await registryAt(link)).fetch('tool', 'com.example.tool');
    expect(fetched.manifest.id).toBe('com.example.tool');
  });

  test('a URL location is refused with E_CONFIG', async () => {
    const error = await failure(registryAt('https://registry.example.com'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('location');
  });

  test('an option that file registries do not have is E_CONFIG', async () => {
    const error = await failure(registryAt('/tmp', { depth: 1 }));
    expect(error.code).toBe('E_CONFIG');
  });

  test('branch is ignored with a warning', async () => {
    const root = await smallRegistry();
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
    const registry = await registryAt(root, { branch: 'main' }, logger);
    expect(await registry.list()).toHaveLength(1);
    expect(warnings.some((w) => w.includes('`branch` is ignored'))).toBe(true);
  });

  test('a file: URL location works', async () => {
    const root = await smallRegistry();
    expect(await (await registryAt(new URL(`file://${root}`).href)).list()).toHaveLength(1);
  });
});
