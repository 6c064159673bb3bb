import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { type TreeFile, writeTree } from '../src/tree-writer.js';
import { tempDir } from './support/temp.js';

const context = { registry: 'corp', signal: new AbortController().signal, path: 'registry/curated/tool' };
const blobs: Record<string, string> = { o1: 'export {};\n', o2: '#!/bin/sh\necho hi\n', o3: 'src/index.js', o4: '{}' };
const read = async (oids: string[]) => new Map(oids.map((oid) => [oid, Buffer.from(blobs[oid] ?? '')]));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : String(error)),
  );
}

describe('writeTree', () => {
  test('writes files with git modes, symlinks as symlinks and submodules as empty folders', async () => {
    const dir = await tempDir('tree');
    const files: TreeFile[] = [
      { mode: '120000', path: 'main.js', oid: 'o3' },
      { mode: '100644', path: 'src/index.js', oid: 'o1' },
      { mode: '100755', path: 'bin/run', oid: 'o2' },
      { mode: '160000', path: 'vendor/lib', oid: 'c'.repeat(40) },
    ];
    await writeTree(dir, files, read, context);
    expect(await readFile(join(dir, 'src/index.js'), 'utf8')).toBe('export {};\n');
    expect((await stat(join(dir, 'bin/run'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'src/index.js'))).mode & 0o777).toBe(0o644);
    expect(await readlink(join(dir, 'main.js'))).toBe('src/index.js');
    expect((await lstat(join(dir, 'vendor/lib'))).isDirectory()).toBe(true);
  });

  test.each([
    ['a path that leaves the folder', [{ mode: '100644', path: '../escape.js', oid: 'o1' }], 'E_UNSAFE_PATH'],
    ['an absolute path', [{ mode: '100644', path: '/etc/x', oid: 'o1' }], 'E_UNSAFE_PATH'],
    [
      'a file below a symlink of the same tree',
      [
        { mode: '120000', path: 'lib', oid: 'o3' },
        { mode: '100644', path: 'lib/x.js', oid: 'o1' },
      ],
      'E_UNSAFE_PATH',
    ],
    [
      'the same path twice',
      [
        { mode: '100644', path: 'a.js', oid: 'o1' },
        { mode: '100644', path: 'a.js', oid: 'o4' },
      ],
      'E_UNSAFE_PATH',
    ],
  ])('refuses %s', async (_what, files, code) => {
    expect(await codeOf(writeTree(await tempDir('tree'), files as TreeFile[], read, context))).toBe(code);
  });
});

describe('writeTree judges symlinks by where they really lead', () => {
  test('refuses a symlink that leaves through another symlink of the same tree, and creates no link at all', async () => {
    const dir = await tempDir('tree');
    const targets: Record<string, string> = { up: '..', climb: 'd/l/../outside', ok: 'x.js' };
    const readLinks = async (oids: string[]) => new Map(oids.map((oid) => [oid, Buffer.from(targets[oid] ?? blobs[oid] ?? '')]));
    const files: TreeFile[] = [
      { mode: '120000', path: 'd/l', oid: 'up' },
      { mode: '120000', path: 'evil', oid: 'climb' },
      { mode: '120000', path: 'fine', oid: 'ok' },
      { mode: '100644', path: 'x.js', oid: 'o1' },
    ];
    const error = await writeTree(dir, files, readLinks, context).catch((e: unknown) => e);
    expect(isRegistryError(error) && error.code).toBe('E_UNSAFE_PATH');
    expect(String((error as Error).message)).toContain('"evil"');
    expect(await readdir(dir)).toEqual(['x.js']);
  });
});
