import { chmod, cp, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CreateRegistryOptions, createRegistry, isRegistryError, type Registry, type SourceConfig } from '@agentos-registry/core';
import { Cleanup } from '@agentos-registry/test-servers';
import { afterEach } from 'vitest';
import { urlSource } from '../../src/index.js';

export const templateRegistry = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/registry-template');

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Registers anything closable (a server, a registry) to be closed after the current test. */
export function track<T extends { close(): Promise<void> | void }>(item: T | Promise<T>): Promise<T> {
  return cleanup.add(item);
}

/** A temp folder removed after the current test. */
export async function tempDir(label = 'source-url'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  cleanup.defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A writable copy of the example registry (the repository's copy may be read-only). */
export async function templateCopy(): Promise<string> {
  const dir = join(await tempDir('template'), 'registry');
  await cp(templateRegistry, dir, { recursive: true, verbatimSymlinks: true });
  const walk = async (path: string): Promise<void> => {
    await chmod(path, 0o755);
    for (const name of await readdir(path)) {
      const child = join(path, name);
      if ((await lstat(child)).isDirectory()) await walk(child);
      else await chmod(child, 0o644);
    }
  };
  await walk(dir);
  return dir;
}

/**
 * A registry through core with one `url` registry named `hosted` used for every kind, caching into `cacheDir`, and
 * an empty environment unless one is given (so the machine's proxies never leak into a test).
 */
export async function openRegistry(
  config: Partial<SourceConfig> & { location: string },
  cacheDir: string,
  options: CreateRegistryOptions = {},
): Promise<Registry> {
  const registry = await createRegistry(
    {
      registries: { hosted: { type: 'url', ...config } },
      defaultRegistries: { tool: 'hosted', persona: 'hosted' },
      cacheSettings: { enabled: true, directory: cacheDir },
    },
    { sources: [urlSource()], env: {}, ...options },
  );
  return track(registry);
}

/** The error code a promise rejects with, `resolved` when it does not. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : `not a RegistryError: ${String(error)}`),
  );
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function errorOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to fail, and it resolved');
}

/** Files under `dir` (recursively), relative, sorted; for checking that nothing half-made was left in a cache. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string, rel: string): Promise<void> => {
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) {
      const child = join(path, name);
      const childRel = rel ? `${rel}/${name}` : name;
      if ((await lstat(child)).isDirectory()) await walk(child, childRel);
      else out.push(childRel);
    }
  };
  await walk(dir, '');
  return out.sort();
}
