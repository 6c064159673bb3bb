/**
 * Hostile review of the file source, a registry folder on this machine served in place: a FIFO, socket, device or
 * folder in every place a file is read, huge (sparse) files where a small one is expected, symlinked roots and entry
 * folders, and an entry folder swapped for a link after core has located it.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, realpath, rename, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createRegistry, isRegistryError, type Registry } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { fileSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

const open: Registry[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((registry) => registry.close()));
  for (const server of servers.splice(0)) server.close();
});

async function registryAt(location: string, extra: Record<string, unknown> = {}): Promise<Registry> {
  const registry = await createRegistry(
    { registries: { local: { type: 'file', location, ...extra } }, defaultRegistries: { tool: 'local', persona: 'local' }, cacheSettings: { enabled: false } },
    { sources: [fileSource()], env: {} },
  );
  open.push(registry);
  return registry;
}

const json = (value: unknown) => `${JSON.stringify(value)}\n`;

/** A registry with one tool (`curated/t`, module index.js) and one persona (`curated/p`, SOUL.md). */
async function registryFolder(): Promise<string> {
  const root = await realpath(await tempDir('review-registry'));
  await writeFile(
    join(root, 'registry.json'),
    json({
      version: '1.0.0',
      extensions: { curated: [{ id: 'com.evil.t', name: 'T', version: '1.0.0', path: 'curated/t', kinds: ['tool'] }] },
      personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/p' }] },
    }),
  );
  await mkdir(join(root, 'registry/curated/t'), { recursive: true });
  await mkdir(join(root, 'registry/curated/p'), { recursive: true });
  await writeFile(join(root, 'registry/curated/t/manifest.json'), json({ id: 'com.evil.t', name: 'T', version: '1.0.0', entry: 'index.js' }));
  await writeFile(join(root, 'registry/curated/t/index.js'), "export default { name: 't', descriptors: [{ id: 't', kind: 'tool' }] };\n");
  await writeFile(join(root, 'registry/curated/p/manifest.json'), json({ id: 'com.evil.p', name: 'P', version: '1.0.0' }));
  await writeFile(join(root, 'registry/curated/p/SOUL.md'), '---\nid: com.evil.p\n---\nbenign\n');
  return root;
}

/** How a promise ended within 3 s, or 'hung' (then a writer is opened on `fifo` until it settles). */
async function settle(promise: Promise<unknown>, fifo: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      () => 'resolved',
      (error: unknown) => (isRegistryError(error) ? error.code : `raw:${String(error)}`),
    ),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve('hung'), 3000);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    let settled = false;
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 200 && !settled; i++) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting right now
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return outcome;
}

type Maker = (path: string) => Promise<void>;
const specials: Array<[string, Maker]> = [
  ['a FIFO', async (path) => void execFileSync('mkfifo', [path])],
  [
    'a socket',
    async (path) => {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(path, resolve));
    },
  ],
  ['a character device', async (path) => (process.getuid?.() === 0 ? void execFileSync('mknod', [path, 'c', '1', '5']) : symlink('/dev/zero', path))],
  ['a folder', async (path) => void (await mkdir(path))],
];

/** Where each file is read, and the call that reads it. */
const places: Array<[string, string, (registry: Registry) => Promise<unknown>]> = [
  ['registry.json', 'registry.json', (r) => r.list()],
  ['manifest.json of a tool', 'registry/curated/t/manifest.json', (r) => r.fetch('tool', 'com.evil.t')],
  ['package.json of a tool', 'registry/curated/t/package.json', (r) => r.fetch('tool', 'com.evil.t')],
  ['the entry module of a tool (index.js)', 'registry/curated/t/index.js', (r) => r.load('tool', 'com.evil.t')],
  ['persona.json', 'registry/curated/p/persona.json', (r) => r.load('persona', 'com.evil.p')],
  ['SOUL.md', 'registry/curated/p/SOUL.md', (r) => r.load('persona', 'com.evil.p')],
];

describe('a special file in every place a file is read: E_UNSAFE_PATH at once', () => {
  for (const [place, path, act] of places) {
    for (const [what, make] of specials) {
      test(`${place} as ${what}`, async () => {
        const root = await registryFolder();
        await rename(join(root, path), join(root, `${path}.moved`)).catch(() => undefined);
        await make(join(root, path));
        expect(await settle(act(await registryAt(root)), join(root, path))).toBe('E_UNSAFE_PATH');
      });
    }
  }
});

describe('huge files where a small one is expected', () => {
  test('a 10 GiB sparse registry.json: E_UNSAFE_PATH (the limit), not E_UNREACHABLE from a raw RangeError', async () => {
    const root = await registryFolder();
    await truncate(join(root, 'registry.json'), 10 * 1024 ** 3);
    const error = await (await registryAt(root)).list().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { limit: 'maxBytes' } });
  });

  test('a 100 MiB sparse SOUL.md: E_UNSAFE_PATH at the 64 MiB read limit, not read whole into memory', async () => {
    const root = await registryFolder();
    // Past the limit is enough; scanTree hashes the whole entry first (it streams), so a larger file only costs time.
    await truncate(join(root, 'registry/curated/p/SOUL.md'), 100 * 1024 ** 2);
    const error = await (await registryAt(root)).load('persona', 'com.evil.p').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { limit: 'maxBytes' } });
  }, 60_000);
});

describe('symlinked roots and entry folders', () => {
  test('a symlinked registry root is served (the comparison is against its real path)', async () => {
    const root = await registryFolder();
    const alias = join(await tempDir('alias'), 'reg');
    await symlink(root, alias);
    expect(JSON.stringify(await (await registryAt(alias)).load('persona', 'com.evil.p'))).toContain('benign');
  });

  test('registry/ itself a link out of the root: E_UNSAFE_PATH', async () => {
    const root = await registryFolder();
    const elsewhere = await realpath(await tempDir('elsewhere'));
    await rename(join(root, 'registry'), join(elsewhere, 'registry'));
    await symlink(join(elsewhere, 'registry'), join(root, 'registry'));
    const error = await (await registryAt(root)).load('persona', 'com.evil.p').catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
  });

  test('an entry folder that is a link to .. of the registry root: E_UNSAFE_PATH', async () => {
    const root = await registryFolder();
    await symlink('../../..', join(root, 'registry/curated/up'));
    await writeFile(
      join(root, 'registry.json'),
      json({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/up' }] } }),
    );
    const error = await (await registryAt(root)).fetch('persona', 'com.evil.p').catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
  });

  test('an entry path with Windows separators (curated\\p) is the same entry; curated\\..\\..\\.. is E_UNSAFE_PATH', async () => {
    const root = await registryFolder();
    await writeFile(
      join(root, 'registry.json'),
      json({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated\\p' }] } }),
    );
    expect(JSON.stringify(await (await registryAt(root)).load('persona', 'com.evil.p'))).toContain('benign');
    await writeFile(
      join(root, 'registry.json'),
      json({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated\\..\\..\\..' }] } }),
    );
    const error = await (await registryAt(root)).load('persona', 'com.evil.p').catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
  });

  // Core remembers an in-place entry until the next revalidation; it checks that the folder has not become a link
  // before serving it again (core's entry-service.ts, stillInPlace).
  test("a second load('persona') after the entry folder became a link to an outside folder is refused, never the outside SOUL.md", async () => {
    const root = await registryFolder();
    const outside = await realpath(await tempDir('outside'));
    await writeFile(join(outside, 'SOUL.md'), '---\nid: com.evil.p\nname: P\nversion: 1.0.0\n---\nTOP-SECRET\n');
    const registry = await registryAt(root, { cacheDuration: 60_000 });
    expect(JSON.stringify(await registry.load('persona', 'com.evil.p'))).toContain('benign');
    const entry = join(root, 'registry/curated/p');
    await rename(entry, `${entry}-moved`);
    await symlink(outside, entry);
    const outcome = await registry.load('persona', 'com.evil.p').then(
      (loaded) => JSON.stringify(loaded),
      (error: unknown) => error,
    );
    expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
    expect(isRegistryError(outcome) && outcome.code).toBe('E_UNSAFE_PATH');
  });
});
