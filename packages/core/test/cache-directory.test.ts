/**
 * A cache folder that cannot be used is a setting to fix (issue 11): a file where the folder should be gave
 * E_INTERNAL with a raw ENOTDIR. It is E_CONFIG naming the folder, the setting that chose it and what to do.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheStore, createRegistry, type RegistryConfig, RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

async function listWith(cacheSettings: RegistryConfig['cacheSettings'], env: Record<string, string> = {}): Promise<RegistryError> {
  const registry = await createRegistry(
    { registries: { corp: { type: 'dir', location: await writeTree(pageRegistry()) } }, ...(cacheSettings ? { cacheSettings } : {}) },
    { sources: [countingSource('dir').adapter], env },
  );
  const error = await registry.list().then(
    () => undefined,
    (e: unknown) => e,
  );
  await registry.close();
  expect(error, 'expected a RegistryError').toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

async function aFile(): Promise<string> {
  const file = join(await tempDir(), 'not-a-folder');
  await writeFile(file, 'x');
  return file;
}

describe('an unusable cache folder is E_CONFIG saying what to change', () => {
  it('cacheSettings.directory names a file', async () => {
    const file = await aFile();
    const error = await listWith({ directory: file });
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(
      `The cache folder ${file} cannot be used: it is a file, not a folder. Point cacheSettings.directory at a folder this process can write, or turn the cache off with cacheSettings.enabled: false.`,
    );
    expect(error.details).toEqual({ field: 'cacheSettings.directory', directory: file });
  });

  it('cacheSettings.directory lies below a file: the message names the file in the way', async () => {
    const file = await aFile();
    const error = await listWith({ directory: join(file, 'cache') });
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`The cache folder ${join(file, 'cache')} cannot be used: ${file} is a file, not a folder.`);
    expect(error.message).toContain('or remove what is in the way');
  });

  it('a file inside the cache folder where its layout needs a folder', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'v1'), 'x');
    const error = await listWith({ directory: dir });
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`${join(dir, 'v1')} is a file, not a folder`);
  });

  it('AGENTOS_REGISTRY_CACHE names a file: the message names the variable', async () => {
    const file = await aFile();
    const error = await listWith({ directory: await tempDir() }, { AGENTOS_REGISTRY_CACHE: file });
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('Point AGENTOS_REGISTRY_CACHE (which overrides cacheSettings.directory) at a folder');
    expect(error.details).toMatchObject({ field: 'AGENTOS_REGISTRY_CACHE' });
  });

  it('cache clean of such a folder: the same E_CONFIG', async () => {
    const file = await aFile();
    const error = await new CacheStore(join(file, 'cache')).clean().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('E_CONFIG');
  });

  // Root writes through any mode bits, so chmod cannot make a folder unwritable for it: the case runs as a user only.
  it.skipIf(process.getuid?.() === 0)('a folder this process may not write', async () => {
    const dir = join(await tempDir(), 'locked');
    await mkdir(dir);
    await chmod(dir, 0o500);
    try {
      const error = await listWith({ directory: dir });
      expect(error.code).toBe('E_CONFIG');
      expect(error.message).toContain('cannot be written by this process (permission denied)');
    } finally {
      await chmod(dir, 0o700);
    }
  });
});
