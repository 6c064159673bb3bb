/**
 * Issue 11: a registry folder on this machine that is hostile (or damaged): a FIFO as `registry.json`, a persona
 * whose `SOUL.md` climbs out through links of its own folder, an entry folder that is a loop of links. Every one is
 * `E_UNSAFE_PATH`, at once, with no byte of an outside file read.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, isRegistryError, type Registry } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { fileSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

const open: Registry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((registry) => registry.close()));
});

async function registryAt(location: string): Promise<Registry> {
  const registry = await createRegistry(
    { registries: { local: { type: 'file', location } }, defaultRegistries: { tool: 'local', persona: 'local' }, cacheSettings: { enabled: false } },
    { sources: [fileSource()], env: {} },
  );
  open.push(registry);
  return registry;
}

const json = (value: unknown) => `${JSON.stringify(value)}\n`;

async function personaRegistry(): Promise<string> {
  const root = await tempDir('hostile-registry');
  await writeFile(
    join(root, 'registry.json'),
    json({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/p' }] } }),
  );
  await mkdir(join(root, 'registry/curated/p/d'), { recursive: true });
  await writeFile(join(root, 'registry/curated/p/manifest.json'), json({ id: 'com.evil.p', name: 'P', version: '1.0.0' }));
  return root;
}

/** How a promise ended within 3 s, or `'hung'`, after which a writer is opened on `fifo` so the stuck reader returns. */
async function settleOrRelease(promise: Promise<unknown>, fifo: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      () => 'resolved',
      (error: unknown) => error,
    ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('hung'), 3000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'hung') await releaseReaders(promise, fifo);
  return outcome;
}

describe('hostile registry folders', () => {
  test('a FIFO as registry.json is E_UNSAFE_PATH at once instead of hanging the process', async () => {
    const root = await tempDir('fifo-registry');
    const fifo = join(root, 'registry.json');
    execFileSync('mkfifo', [fifo]);
    const outcome = await settleOrRelease((await registryAt(root)).list(), fifo);
    expect(isRegistryError(outcome) && outcome.code).toBe('E_UNSAFE_PATH');
    expect(String((outcome as Error).message)).toContain('not a regular file');
  });

  test('registry.json that links out of the folder is E_UNSAFE_PATH', async () => {
    const root = await tempDir('linked-registry');
    const elsewhere = join(await tempDir('elsewhere'), 'registry.json');
    await writeFile(elsewhere, json({ version: '1.0.0', extensions: { curated: [] } }));
    await symlink(elsewhere, join(root, 'registry.json'));
    const error = await (await registryAt(root)).list().catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
  });

  test("load('persona') in place: SOUL.md -> d/l/d/l/…/../../… with d/l -> .. is E_UNSAFE_PATH, never the outside file", async () => {
    const root = await personaRegistry();
    const secret = join(await realpath(await tempDir('outside')), 'secret.txt');
    await writeFile(secret, 'TOP-SECRET\n');
    const entry = join(root, 'registry/curated/p');
    await symlink('..', join(entry, 'd/l'));
    await symlink(`${'d/l/'.repeat(20)}${'../'.repeat(40)}${secret.slice(1)}`, join(entry, 'SOUL.md'));
    const outcome = await (await registryAt(root)).load('persona', 'com.evil.p').then(
      (loaded) => loaded,
      (error: unknown) => error,
    );
    expect(isRegistryError(outcome) && outcome.code).toBe('E_UNSAFE_PATH');
    expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
  });

  test('an entry folder that is a loop of symlinks is E_UNSAFE_PATH (core decides containment)', async () => {
    const root = await personaRegistry();
    await symlink('q', join(root, 'registry/curated/loop'));
    await symlink('loop', join(root, 'registry/curated/q'));
    await writeFile(
      join(root, 'registry.json'),
      json({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/loop' }] } }),
    );
    const error = await (await registryAt(root)).fetch('persona', 'com.evil.p').catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
  });
});

/**
 * Opens and closes a writer on `fifo` until `promise` settles: a reader blocked opening a FIFO returns once a writer
 * opens it and reads EOF when it closes. Repeated, since the code under test may open the FIFO again.
 */
async function releaseReaders(promise: Promise<unknown>, fifo: string): Promise<void> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting right now.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
