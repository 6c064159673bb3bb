/**
 * Hostile review of core's tree rules (tree writer, link-target, scanTree, extractTarball): real trees on disk and
 * real tarballs, in every order a hostile registry may pick. Each case expects a RegistryError with a stable code,
 * nothing written outside the destination, nothing read from outside.
 */
import { lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { truncate } from 'node:fs/promises';
import { createServer } from 'node:net';
import {
  copyDirectory,
  createRegistry,
  extractTarball,
  type LoadedExtension,
  loadPersona,
  readFileInside,
  RegistryError,
  scanTree,
  TreeWriter,
} from '../src/index.js';
import { readEntryManifest } from '../src/manifest.js';
import { mkfifo, settleOrRelease } from './support/hostile.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';
import { type RawEntry, rawTar } from './support/tar-builder.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : `raw:${(error as NodeJS.ErrnoException)?.code ?? String(error)}`),
  );
}

/** A work folder with `dest` (where trees go) and `outside` (which must stay empty). */
async function work(): Promise<{ dest: string; outside: string; root: string }> {
  const root = await tempDir('review-');
  const dest = join(root, 'dest');
  const outside = join(root, 'outside');
  await mkdir(dest);
  await mkdir(outside);
  return { dest, outside, root };
}

async function untouched(w: { root: string; outside: string }): Promise<void> {
  expect((await readdir(w.root)).sort()).toEqual(['dest', 'outside']);
  expect(await readdir(w.outside)).toEqual([]);
}

type Op = ['file', string, string?] | ['link', string, string] | ['folder', string] | ['hard', string, string];

/** Hands `ops` to a TreeWriter (git/GitHub style: no replaced files) and finishes it; the error code or 'resolved'. */
async function writeOps(dest: string, ops: Op[], replaceFiles = false): Promise<string> {
  return codeOf(
    (async () => {
      const writer = new TreeWriter(dest, { registry: 'acme', replaceFiles });
      await writer.folder('');
      for (const op of ops) {
        if (op[0] === 'file') await writer.file(op[1], Buffer.from(op[2] ?? 'x'));
        else if (op[0] === 'link') writer.symlink(op[1], op[2]);
        else if (op[0] === 'folder') await writer.folder(op[1]);
        else await writer.copyOf(op[1], op[2]);
      }
      await writer.finish();
    })(),
  );
}

async function tarOps(dest: string, entries: RawEntry[]): Promise<string> {
  return codeOf(extractTarball(rawTar(entries, { gzip: true }), dest, { registry: 'acme' }));
}

describe('tree writer: write-through-link in every order', () => {
  const cases: Array<{ name: string; ops: Op[]; replace?: boolean; want: string }> = [
    {
      name: 'link then file below it',
      ops: [
        ['link', 'l', 'd'],
        ['folder', 'd'],
        ['file', 'l/x'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'file below, then the link above it',
      ops: [
        ['file', 'l/x'],
        ['link', 'l', 'd'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'file then link of the same name (git)',
      ops: [
        ['file', 'a'],
        ['link', 'a', 'b'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'link then file of the same name (tar)',
      ops: [
        ['link', 'a', 'b'],
        ['file', 'a'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'link then folder of the same name',
      ops: [
        ['link', 'a', 'b'],
        ['folder', 'a'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'folder then link of the same name',
      ops: [
        ['folder', 'a'],
        ['link', 'a', 'b'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'link then link of the same name (tar)',
      ops: [
        ['link', 'a', 'b'],
        ['link', 'a', '../..'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a link to a link to a folder, file below the first',
      ops: [
        ['folder', 'c'],
        ['link', 'b', 'c'],
        ['link', 'a', 'b'],
        ['file', 'a/x'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a link made early that points at a folder listed later',
      ops: [
        ['link', 'l', 'later'],
        ['file', 'later/x'],
      ],
      want: 'resolved',
    },
    {
      name: 'a link to a link that climbs out (b -> d/.., d -> ..)',
      ops: [
        ['folder', 'e'],
        ['link', 'e/d', '..'],
        ['link', 'e/b', 'd/..'],
        ['link', 'a', 'e/b/x'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'case variants A (link) and a/x (Linux: two names)',
      ops: [
        ['link', 'A', 'sub'],
        ['folder', 'sub'],
        ['file', 'a/x'],
      ],
      want: 'resolved',
    },
    // On a case-insensitive (macOS, Windows) or normalization-insensitive (APFS) file system `d/A` IS the link
    // `d/a` -> `..`, so `d/A/../x` climbs out of the root; the writer must judge it the way those kernels follow it.
    {
      name: 'a case variant of a link on the way (d/a -> .., l -> d/A/../x)',
      ops: [
        ['link', 'd/a', '..'],
        ['link', 'l', 'd/A/../x'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a Unicode-normalization variant of a link on the way (NFC d/\u00e9 -> .., l -> NFD d/e\u0301/../x)',
      ops: [
        ['link', 'd/\u00e9', '..'],
        ['link', 'l', 'd/e\u0301/../x'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a backslash name ..\\x', ops: [['file', '..\\x']], want: 'E_UNSAFE_PATH' },
    {
      name: 'a backslash name a\\b next to a/b',
      ops: [
        ['file', 'a\\b'],
        ['file', 'a/b'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a link with a backslash target ..\\..\\x', ops: [['link', 'd/l', '..\\..\\x']], want: 'E_UNSAFE_PATH' },
    { name: 'dot and empty segments ./a//b/./c', ops: [['file', './a//b/./c']], want: 'resolved' },
    { name: 'a/./../b', ops: [['file', 'a/./../b']], want: 'E_UNSAFE_PATH' },
    { name: 'the root itself as a file', ops: [['file', '.']], want: 'E_UNSAFE_PATH' },
    { name: 'the root itself as a link', ops: [['link', './', 'x']], want: 'E_UNSAFE_PATH' },
    { name: 'an empty path', ops: [['file', '']], want: 'E_UNSAFE_PATH' },
    {
      name: 'a chain of 40 links',
      ops: [['file', 't'], ...Array.from({ length: 40 }, (_, i): Op => ['link', `l${i}`, i === 39 ? 't' : `l${i + 1}`])],
      want: 'resolved',
    },
    // 41 links are 40 hops to follow from the first: inside all the way (the kernel says ELOOP on use; nothing escapes).
    {
      name: 'a chain of 41 links',
      ops: [['file', 't'], ...Array.from({ length: 41 }, (_, i): Op => ['link', `l${i}`, i === 40 ? 't' : `l${i + 1}`])],
      want: 'resolved',
    },
    {
      name: 'a chain of 42 links',
      ops: [['file', 't'], ...Array.from({ length: 42 }, (_, i): Op => ['link', `l${i}`, i === 41 ? 't' : `l${i + 1}`])],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a loop of two links',
      ops: [
        ['link', 'a', 'b'],
        ['link', 'b', 'a'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a self loop', ops: [['link', 'a', 'a']], want: 'E_UNSAFE_PATH' },
    {
      name: 'a loop through a folder (a -> d/a2, d/a2 -> ../a)',
      ops: [
        ['link', 'a', 'd/a2'],
        ['link', 'd/a2', '../a'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    // Each link doubles the path still to follow: the hop limit ends it, long before 2^45 steps.
    {
      name: 'a doubling chain of 45 (a_i -> a_{i+1}/a_{i+1})',
      ops: Array.from({ length: 45 }, (_, i): Op => ['link', `a${i}`, `a${i + 1}/a${i + 1}`]),
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a link to the entry root (d/l -> ..)',
      ops: [
        ['link', 'd/l', '..'],
        ['link', 'l', '.'],
      ],
      want: 'resolved',
    },
    { name: 'a link to .. at the root', ops: [['link', 'l', '..']], want: 'E_UNSAFE_PATH' },
    { name: 'a link to ./.. at the root', ops: [['link', 'l', './..']], want: 'E_UNSAFE_PATH' },
    {
      name: 'a link via the root link climbing (l -> ., m -> l/..)',
      ops: [
        ['link', 'l', '.'],
        ['link', 'm', 'l/..'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'an absolute target', ops: [['link', 'l', '/etc']], want: 'E_UNSAFE_PATH' },
    { name: 'a UNC target', ops: [['link', 'l', '\\\\server\\share']], want: 'E_UNSAFE_PATH' },
    { name: 'a drive-relative target C:x', ops: [['link', 'l', 'C:x']], want: 'E_UNSAFE_PATH' },
    { name: 'a target with a NUL', ops: [['link', 'l', 'a\0/../../x']], want: 'E_UNSAFE_PATH' },
    { name: 'a path with a NUL', ops: [['file', 'a\0b']], want: 'E_UNSAFE_PATH' },
    { name: 'an empty target', ops: [['link', 'l', '']], want: 'E_UNSAFE_PATH' },
    {
      name: 'a hard link to a symlink',
      ops: [
        ['file', 't'],
        ['link', 'l', 't'],
        ['hard', 'h', 'l'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a hard link to a folder',
      ops: [
        ['folder', 'd'],
        ['hard', 'h', 'd'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a hard link through a symlink',
      ops: [
        ['file', 'd/t'],
        ['link', 'l', 'd'],
        ['hard', 'h', 'l/t'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a hard link to a file that later became a link (tar)',
      ops: [
        ['file', 't'],
        ['link', 't', 'u'],
        ['hard', 'h', 't'],
      ],
      replace: true,
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a link past a file (f/..)',
      ops: [
        ['file', 'f'],
        ['link', 'l', 'f/../..'],
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a link past a missing name (m/../..)', ops: [['link', 'd/l', 'm/../../..']], want: 'E_UNSAFE_PATH' },
  ];
  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.want}`, async () => {
      const w = await work();
      expect(await writeOps(w.dest, testCase.ops, testCase.replace)).toBe(testCase.want);
      await untouched(w);
      if (testCase.want === 'resolved') await scanTree(w.dest);
    });
  }
});

describe('tarballs: the same attacks, as real archives', () => {
  const cases: Array<{ name: string; entries: RawEntry[]; want: string }> = [
    {
      name: 'symlink then file below it',
      entries: [
        { path: 'l', type: 'SymbolicLink', linkpath: 'd' },
        { path: 'd/', type: 'Directory' },
        { path: 'l/x', data: 'x' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'file then symlink of the same name, out',
      entries: [
        { path: 'a', data: 'x' },
        { path: 'a', type: 'SymbolicLink', linkpath: '../outside' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'file then symlink of the same name, inside',
      entries: [
        { path: 'b', data: 'b' },
        { path: 'a', data: 'x' },
        { path: 'a', type: 'SymbolicLink', linkpath: 'b' },
      ],
      want: 'resolved',
    },
    {
      name: 'hard link to a symlink',
      entries: [
        { path: 't', data: 't' },
        { path: 'l', type: 'SymbolicLink', linkpath: 't' },
        { path: 'h', type: 'Link', linkpath: 'l' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'hard link to itself',
      entries: [
        { path: 'a', data: 'x' },
        { path: 'a', type: 'Link', linkpath: 'a' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'hard link to a folder',
      entries: [
        { path: 'd/', type: 'Directory' },
        { path: 'h', type: 'Link', linkpath: 'd' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a link to a link to .. chain',
      entries: [
        { path: 'e/d', type: 'SymbolicLink', linkpath: '..' },
        { path: 'e/b', type: 'SymbolicLink', linkpath: 'd/..' },
        { path: 'a', type: 'SymbolicLink', linkpath: 'e/b' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a symlink whose target is longer than PATH_MAX',
      entries: [{ path: 'l', type: 'SymbolicLink', linkpath: `${'a'.repeat(200)}/`.repeat(30) }],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a file name longer than NAME_MAX', entries: [{ path: 'n'.repeat(300), data: 'x' }], want: 'E_UNSAFE_PATH' },
    {
      name: 'a file then a folder of the same name',
      entries: [
        { path: 'a', data: 'x' },
        { path: 'a/', type: 'Directory' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a folder then a file of the same name',
      entries: [
        { path: 'a/', type: 'Directory' },
        { path: 'a', data: 'x' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a hard link through a symlink',
      entries: [
        { path: 'd/t', data: 't' },
        { path: 'l', type: 'SymbolicLink', linkpath: 'd' },
        { path: 'h', type: 'Link', linkpath: 'l/t' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    {
      name: 'a hard link to a file that a later entry replaced by a symlink',
      entries: [
        { path: 't', data: 't' },
        { path: 't', type: 'SymbolicLink', linkpath: 'u' },
        { path: 'h', type: 'Link', linkpath: 't' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    // tar's parser ends the linkpath at the NUL: the link written is `x`, inside.
    {
      name: 'a symlink with a NUL in its pax linkpath (read as x)',
      entries: [{ path: 'l', type: 'SymbolicLink', linkpath: `x\0${'/..'.repeat(60)}` }],
      want: 'resolved',
    },
    {
      name: 'a case variant of a link on the way (d/a -> .., l -> d/A/../x)',
      entries: [
        { path: 'd/a', type: 'SymbolicLink', linkpath: '..' },
        { path: 'l', type: 'SymbolicLink', linkpath: 'd/A/../x' },
      ],
      want: 'E_UNSAFE_PATH',
    },
    { name: 'a windows path with backslashes', entries: [{ path: 'dir\\sub\\file.txt', data: 'x' }], want: 'resolved' },
  ];
  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.want}`, async () => {
      const w = await work();
      expect(await tarOps(w.dest, testCase.entries)).toBe(testCase.want);
      await untouched(w);
    });
  }

  it('hard link to itself keeps the file or refuses it, never loses it silently', async () => {
    const w = await work();
    const code = await tarOps(w.dest, [
      { path: 'a', data: 'x' },
      { path: 'a', type: 'Link', linkpath: 'a' },
    ]);
    if (code === 'resolved') expect(await readFile(join(w.dest, 'a'), 'utf8')).toBe('x');
    else expect(code).toBe('E_UNSAFE_PATH');
  });
});

describe('copyDirectory of a hostile folder', () => {
  it('a folder with a FIFO, socket-like and links in every shape copies only what stays inside', async () => {
    const w = await work();
    const from = await writeTree({ 'a.txt': 'a', 'sub/b.txt': 'b' });
    await symlink('..', join(from, 'sub/up'));
    await symlink('sub/up/a.txt', join(from, 'via'));
    expect(await codeOf(copyDirectory(from, w.dest))).toBe('resolved');
    expect(await readlink(join(w.dest, 'via'))).toBe('sub/up/a.txt');
    await untouched(w);
  });

  it('a link from the source folder that leaves it is refused', async () => {
    const w = await work();
    const from = await writeTree({ 'a.txt': 'a' });
    await mkdir(join(from, 'd'));
    await symlink('..', join(from, 'd/l'));
    await symlink(`d/l/d/l/../../../outside`, join(from, 'out'));
    expect(await codeOf(copyDirectory(from, w.dest))).toBe('E_UNSAFE_PATH');
    await untouched(w);
  });

  it("a symlinked source root is followed (it is the caller's folder)", async () => {
    const w = await work();
    const real = await writeTree({ 'a.txt': 'a' });
    const alias = join(await tempDir(), 'alias');
    await symlink(real, alias);
    expect(await codeOf(copyDirectory(alias, w.dest))).toBe('resolved');
    expect((await lstat(join(w.dest, 'a.txt'))).isFile()).toBe(true);
  });

  it('planted links in the destination are never written through', async () => {
    const w = await work();
    await symlink(w.outside, join(w.dest, 'sub'));
    const from = await writeTree({ 'sub/x.txt': 'x' });
    expect(await codeOf(copyDirectory(from, w.dest))).toBe('E_UNSAFE_PATH');
    expect(await readdir(w.outside)).toEqual([]);
  });

  it("a link as the destination root itself is the caller's folder: written where it leads (core always makes a fresh one)", async () => {
    const root = await tempDir('review-');
    const outside = join(root, 'outside');
    await mkdir(outside);
    await symlink(outside, join(root, 'dest'));
    const from = await writeTree({ 'x.txt': 'x' });
    expect(await codeOf(copyDirectory(from, join(root, 'dest')))).toBe('resolved');
    expect(await readdir(outside)).toEqual(['x.txt']);
  });
});

describe('readFileInside: only small regular files, in every place a file is read', () => {
  const specials: Array<[string, (path: string) => Promise<() => void>]> = [
    [
      'a FIFO',
      async (path) => {
        mkfifo(path);
        return () => undefined;
      },
    ],
    [
      'a socket',
      async (path) => {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(path, resolve));
        return () => server.close();
      },
    ],
    [
      'a character device (/dev/zero)',
      async (path) => {
        // mknod needs root; elsewhere a link to the device is what an attacker can make, and that is a link out.
        if (process.getuid?.() === 0) execFileSync('mknod', [path, 'c', '1', '5']);
        else await symlink('/dev/zero', path);
        return () => undefined;
      },
    ],
    [
      'a folder',
      async (path) => {
        await mkdir(path);
        return () => undefined;
      },
    ],
  ];
  for (const name of ['registry.json', 'manifest.json', 'persona.json', 'SOUL.md', 'package.json']) {
    for (const [what, make] of specials) {
      it(`${name} as ${what}: E_UNSAFE_PATH at once`, async () => {
        const dir = await writeTree({ 'other.txt': 'x' });
        const release = await make(join(dir, name));
        try {
          const outcome = await settleOrRelease(readFileInside(dir, name, { registry: 'acme' }), join(dir, name));
          expect(outcome).toMatchObject({ hung: false, error: { code: 'E_UNSAFE_PATH' } });
        } finally {
          release();
        }
      });
    }
  }

  it('a 10 GiB sparse manifest.json is refused without reading it (E_UNSAFE_PATH naming the limit)', async () => {
    const dir = await writeTree({});
    await writeFile(join(dir, 'manifest.json'), '');
    await truncate(join(dir, 'manifest.json'), 10 * 1024 ** 3);
    const error = await readFileInside(dir, 'manifest.json', { registry: 'acme' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { limit: 'maxBytes' } });
  });

  it("a 1 GiB sparse manifest.json (under Node's 2 GiB readFile cap) is not read whole into memory", async () => {
    const dir = await writeTree({});
    await writeFile(join(dir, 'manifest.json'), '');
    await truncate(join(dir, 'manifest.json'), 1024 ** 3);
    const entry = { id: 'x', name: 'X', version: '1.0.0', path: 'curated/x', section: 'extensions', kinds: ['tool'], raw: {} } as never;
    const error = await readEntryManifest(dir, entry, 'acme').catch((e: unknown) => e);
    // The size limit refused it (read whole, it would have parsed or failed as JSON instead).
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { limit: 'maxBytes' } });
  });

  it('maxBytes can be lowered, and a file exactly at the limit is read', async () => {
    const dir = await writeTree({ 'a.json': '12345' });
    expect((await readFileInside(dir, 'a.json', { maxBytes: 5 }))?.toString()).toBe('12345');
    expect(await codeOf(readFileInside(dir, 'a.json', { maxBytes: 4 }))).toBe('E_UNSAFE_PATH');
  });

  it('loadPersona with a 3 GiB sparse SOUL.md: E_UNSAFE_PATH, not a RangeError', async () => {
    const dir = await writeTree({ 'manifest.json': { id: 'p', name: 'P', version: '1.0.0' } });
    await writeFile(join(dir, 'SOUL.md'), '');
    await truncate(join(dir, 'SOUL.md'), 3 * 1024 ** 3);
    const persona = {
      dir,
      registry: 'acme',
      entry: { path: 'personas/p' },
      manifest: { id: 'p', name: 'P', version: '1.0.0' },
      manifestSynthesized: false,
    } as never;
    expect(await codeOf(loadPersona(persona))).toBe('E_UNSAFE_PATH');
  });
});

describe('the install area and the cache with planted links', () => {
  const PEER = '@framers/agentos-like';

  async function hostApp(): Promise<string> {
    const host = await tempDir('host-');
    const peer = join(host, 'node_modules', PEER);
    await mkdir(peer, { recursive: true });
    await writeFile(join(peer, 'package.json'), JSON.stringify({ name: PEER, version: '0.4.1', type: 'module', exports: { '.': './index.js' } }));
    await writeFile(join(peer, 'index.js'), 'export const runtime = {};\n');
    return host;
  }

  async function registryOf(files: Record<string, string | object>, prepare: (dir: string) => Promise<void>, host?: string, cache?: string) {
    const dir = await writeTree(files);
    await prepare(dir);
    return createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: cache ?? (await tempDir()) } },
      { sources: [countingSource('dir').adapter], env: {}, ...(host ? { baseDir: host } : {}) },
    );
  }

  function toolWithPeer(): Record<string, string | object> {
    const files = pageRegistry();
    files['registry/curated/echo/package.json'] = {
      name: 'echo-tool',
      version: '1.0.0',
      type: 'module',
      main: './src/index.js',
      peerDependencies: { [PEER]: '^0.4.0' },
    };
    return files;
  }

  it("an extension's node_modules that is a link inside the entry: the peer is linked inside the install copy, nothing written elsewhere", async () => {
    const outside = await tempDir('outside-');
    const registry = await registryOf(
      toolWithPeer(),
      async (dir) => {
        await mkdir(join(dir, 'registry/curated/echo/lib'));
        await symlink('lib', join(dir, 'registry/curated/echo/node_modules'));
      },
      await hostApp(),
    );
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    const folder = join(loaded.entryFile, '..', '..');
    expect((await lstat(join(folder, 'lib', PEER))).isSymbolicLink()).toBe(true);
    expect(await readdir(outside)).toEqual([]);
  });

  it("an extension's node_modules that climbs out through a link: E_UNSAFE_PATH before anything is installed", async () => {
    const outside = await tempDir('outside-');
    const registry = await registryOf(
      toolWithPeer(),
      async (dir) => {
        const entry = join(dir, 'registry/curated/echo');
        await mkdir(join(entry, 'd'));
        await symlink('..', join(entry, 'd/l'));
        await symlink(`d/l/d/l/${'../'.repeat(12)}${outside.slice(1)}`, join(entry, 'node_modules'));
      },
      await hostApp(),
    );
    expect(await codeOf(registry.load('tool', 'com.test.echo'))).toBe('E_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([]);
  });

  it('a recorded file of a cached entry replaced by a link out: the entry is fetched again, never read through the link', async () => {
    const cache = await tempDir('cache-');
    const secret = join(await tempDir('outside-'), 'persona.json');
    await writeFile(secret, JSON.stringify({ id: 'com.test.helper', name: 'Helper', version: '1.0.0', baseSystemPrompt: 'TOP-SECRET' }));
    const location = await writeTree(pageRegistry());
    const open = () =>
      createRegistry(
        { registries: { default: { type: 'dir', location } }, cacheSettings: { directory: cache } },
        { sources: [countingSource('dir').adapter], env: {} },
      );
    const first = await open();
    const loaded = (await first.load('persona', 'com.test.helper')) as { fetched: { dir: string } };
    await first.close();
    const planted = join(loaded.fetched.dir, 'persona.json');
    await rm(planted);
    await symlink(secret, planted);
    const second = await open();
    try {
      const outcome = await second.load('persona', 'com.test.helper').then(
        (value) => JSON.stringify(value),
        (error: unknown) => error,
      );
      expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
      expect(String(outcome)).toContain('You help.');
    } finally {
      await second.close();
    }
  });
});
