/**
 * Hostile review: a local registry folder the attacker can change while the host reads it. The swaps happen at the
 * exact moment between core's check and its read (a hook on `node:fs/promises`), so each race is won every time;
 * an attacker racing for real needs only patience. Expected: E_UNSAFE_PATH, and not one byte of the outside file.
 */
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyDirectory, createRegistry, defineSource, readFileInside, realPathInside, RegistryError } from '../src/index.js';
import { tempDir } from './helpers.js';

/** Called after the real fs call, with its path: where a test swaps a folder for a link. */
const hooks: { realpath?: (path: string) => void; readdir?: (path: string) => void; open?: (path: string) => void } = {};
afterEach(() => {
  delete hooks.realpath;
  delete hooks.readdir;
  delete hooks.open;
});

vi.mock('node:fs/promises', async (original) => {
  const actual = await original<typeof import('node:fs/promises')>();
  const call =
    (fn: (...args: never[]) => Promise<unknown>, hook: 'realpath' | 'readdir' | 'open', when: 'before' | 'after') =>
    async (...args: never[]) => {
      if (when === 'before') hooks[hook]?.(String(args[0]));
      const result = await fn(...args);
      if (when === 'after') hooks[hook]?.(String(args[0]));
      return result;
    };
  return {
    ...actual,
    realpath: call(actual.realpath as never, 'realpath', 'after'),
    readdir: call(actual.readdir as never, 'readdir', 'before'),
    open: call(actual.open as never, 'open', 'after'),
  };
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    (value) => `resolved:${String(value)}`,
    (error: unknown) => (error instanceof RegistryError ? error.code : `raw:${String(error)}`),
  );
}

/** Swaps the folder `folder` for a link to `target` (the attacker's move), once. */
function swap(folder: string, target: string): void {
  renameSync(folder, `${folder}-moved`);
  symlinkSync(target, folder);
}

async function outsideWith(files: Record<string, string>): Promise<string> {
  const outside = await tempDir('outside-');
  for (const [name, content] of Object.entries(files)) await writeFile(join(outside, name), content);
  return outside;
}

describe('readFileInside: a folder on the way swapped for a link between the check and the open', () => {
  it('readFileInside(entry/sub, SOUL.md) with sub swapped after its real path was checked: E_UNSAFE_PATH, no outside byte', async () => {
    const outside = await outsideWith({ 'SOUL.md': 'TOP-SECRET' });
    const root = await realpath(await tempDir('reg-'));
    mkdirSync(join(root, 'sub'));
    await writeFile(join(root, 'sub/SOUL.md'), 'fine');
    hooks.realpath = (path) => {
      if (!path.endsWith('sub/SOUL.md')) return;
      delete hooks.realpath;
      swap(join(root, 'sub'), outside);
    };
    const got = await codeOf(readFileInside(root, 'sub/SOUL.md', { registry: 'local' }).then((bytes) => bytes?.toString()));
    expect(got).toBe('E_UNSAFE_PATH');
  });
});

describe('copyDirectory: a folder swapped for a link after it was listed as a folder', () => {
  it('copies nothing from outside: E_UNSAFE_PATH', async () => {
    const outside = await outsideWith({ id_rsa: 'TOP-SECRET' });
    const from = await realpath(await tempDir('reg-'));
    mkdirSync(join(from, 'sub'));
    await writeFile(join(from, 'sub/id_rsa'), 'fine');
    const to = join(await tempDir('copy-'), 'out');
    hooks.readdir = (path) => {
      if (!path.endsWith('/sub')) return;
      delete hooks.readdir;
      swap(join(from, 'sub'), outside);
    };
    const code = await codeOf(copyDirectory(from, to, { registry: 'local' }));
    const copied = await readFile(join(to, 'sub/id_rsa'), 'utf8').catch(() => 'not copied');
    expect({ code, copied }).toEqual({ code: 'E_UNSAFE_PATH', copied: 'not copied' });
  });
});

/** A local source served in place, as the file source is: `locate` returns the entry's real path, checked inside. */
function inPlaceSource() {
  return defineSource({
    type: 'local-dir',
    options: [],
    create(config) {
      const root = config.location as string;
      return {
        flags: { local: true },
        displayLocation: root,
        async revision() {
          return { id: 'fixed' };
        },
        async readIndex() {
          return readFile(join(root, 'registry.json'));
        },
        async materialize() {
          throw new Error('served in place');
        },
        async locate(path) {
          const real = await realPathInside(root, path);
          if (!real) throw new RegistryError('E_NOT_FOUND', path);
          return real;
        },
      };
    },
  });
}

describe('an in-place entry folder swapped for a link after core located and scanned it', () => {
  // readFileInside takes its `root` as given, and core remembers an in-place entry's folder until the next
  // revalidation (1 s by default for a local source, `cacheDuration` when set). Turning that folder (or one above it)
  // into a link would move every later read into the link's target, so core checks that the remembered real path is
  // still the folder's real path before it serves it again (entry-service.ts, stillInPlace).
  it("a second load('persona') right after the entry folder became a link to an outside folder is E_UNSAFE_PATH, never the outside SOUL.md", async () => {
    const outside = await outsideWith({ 'SOUL.md': '---\nid: com.evil.p\nname: P\nversion: 1.0.0\n---\nTOP-SECRET' });
    const root = await realpath(await tempDir('reg-'));
    await writeFile(
      join(root, 'registry.json'),
      JSON.stringify({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/p' }] } }),
    );
    const entry = join(root, 'registry/curated/p');
    await mkdir(entry, { recursive: true });
    await writeFile(join(entry, 'manifest.json'), JSON.stringify({ id: 'com.evil.p', name: 'P', version: '1.0.0' }));
    await writeFile(join(entry, 'SOUL.md'), '---\nid: com.evil.p\n---\nbenign');
    const registry = await createRegistry(
      {
        registries: { local: { type: 'local-dir', location: root, cacheDuration: 60_000 } },
        defaultRegistries: { persona: 'local' },
        cacheSettings: { enabled: false },
      },
      { sources: [inPlaceSource()], env: {} },
    );
    try {
      expect(JSON.stringify(await registry.load('persona', 'com.evil.p'))).toContain('benign');
      swap(entry, outside);
      const outcome = await registry.load('persona', 'com.evil.p').then(
        (loaded) => JSON.stringify(loaded),
        (error: unknown) => error,
      );
      expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
      expect(outcome).toMatchObject({ code: 'E_UNSAFE_PATH' });
    } finally {
      await registry.close();
    }
  });

  it('a swap while core scans the entry folder is caught (the file open in it is no longer inside)', async () => {
    const outside = await outsideWith({ 'SOUL.md': '---\nid: com.evil.p\nname: P\nversion: 1.0.0\n---\nTOP-SECRET', 'pad.bin': 'pad' });
    const root = await realpath(await tempDir('reg-'));
    await writeFile(
      join(root, 'registry.json'),
      JSON.stringify({ version: '1.0.0', personas: { curated: [{ id: 'com.evil.p', name: 'P', version: '1.0.0', path: 'curated/p' }] } }),
    );
    const entry = join(root, 'registry/curated/p');
    await mkdir(entry, { recursive: true });
    await writeFile(join(entry, 'SOUL.md'), '---\nid: com.evil.p\n---\nbenign');
    await writeFile(join(entry, 'manifest.json'), JSON.stringify({ id: 'com.evil.p', name: 'P', version: '1.0.0' }));
    await writeFile(join(entry, 'pad.bin'), 'pad');
    const registry = await createRegistry(
      { registries: { local: { type: 'local-dir', location: root } }, defaultRegistries: { persona: 'local' }, cacheSettings: { enabled: false } },
      { sources: [inPlaceSource()], env: {} },
    );
    hooks.open = (path) => {
      if (!path.endsWith('p/manifest.json') || !hooks.open) return;
      delete hooks.open;
      swap(entry, outside);
    };
    try {
      const outcome = await registry.load('persona', 'com.evil.p').then(
        (loaded) => JSON.stringify(loaded),
        (error: unknown) => error,
      );
      expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
      expect(outcome).toMatchObject({ code: 'E_UNSAFE_PATH' });
    } finally {
      await registry.close();
    }
  });
});
