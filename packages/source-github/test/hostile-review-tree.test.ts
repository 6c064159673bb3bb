/**
 * Hostile review: git trees `git add` never makes, served by the GitHub REST emulator from a real repository, in
 * per-entry mode (trees and blobs API, blobs written in parallel) and tarball mode (one archive of the repository).
 * Every hostile tree ends in a RegistryError with a stable code, nothing is written outside, nothing read from it.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { commitRawTree, type RawTreeItem, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { registryFiles, TestBed } from './support/registry-repo.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

const FOLDER = 'registry/curated/tool-0';
const files = registryFiles(1);
const manifest: RawTreeItem = { name: 'manifest.json', mode: '100644', content: files[`${FOLDER}/manifest.json`]! };
const filler = (count: number): RawTreeItem[] =>
  Array.from({ length: count }, (_, i) => ({ name: `f${i}.js`, mode: '100644', content: `export const f = ${i};\n` }));

/** `tarball`: what tarball mode gets instead, where `git archive` (the emulator's, as GitHub's) changes the tree. */
const cases: Array<{ name: string; items: RawTreeItem[]; want: string; tarball?: string }> = [
  { name: 'a file name longer than NAME_MAX', items: [manifest, { name: 'n'.repeat(300), mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH' },
  {
    name: 'a symlink target longer than PATH_MAX',
    items: [manifest, { name: 'l', mode: '120000', content: `${'a'.repeat(200)}/`.repeat(30) }],
    want: 'E_UNSAFE_PATH',
  },
  // tar's linkname field ends at the NUL: the archive holds `l` -> `x`, a link inside.
  {
    name: 'a symlink target with a NUL',
    items: [manifest, { name: 'l', mode: '120000', content: 'x\0/../../..' }],
    want: 'E_UNSAFE_PATH',
    tarball: 'resolved',
  },
  // `git archive` refuses the tree ("invalid path '..'") and the body is empty: a damaged archive.
  { name: 'a name ".."', items: [manifest, { name: '..', mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH', tarball: 'E_INTEGRITY' },
  { name: 'a backslash name ..\\..\\x', items: [manifest, { name: '..\\..\\x', mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH' },
  {
    name: 'link then a blob below it, blobs in parallel',
    items: [manifest, { name: 'a', mode: '120000', content: 'OUTSIDE' }, ...filler(6), { name: 'a/x', mode: '100644', content: 'x' }],
    want: 'E_UNSAFE_PATH',
  },
  {
    name: 'a link into a link chain climbing out',
    items: [
      manifest,
      {
        name: 'e',
        mode: '40000',
        items: [
          { name: 'd', mode: '120000', content: '..' },
          { name: 'b', mode: '120000', content: 'd/..' },
        ],
      },
      { name: 'a', mode: '120000', content: 'e/b/x' },
    ],
    want: 'E_UNSAFE_PATH',
  },
  {
    name: 'a loop of links',
    items: [manifest, { name: 'a', mode: '120000', content: 'b' }, { name: 'b', mode: '120000', content: 'a' }],
    want: 'E_UNSAFE_PATH',
  },
  { name: 'manifest.json as a link to the entry root (.)', items: [{ name: 'manifest.json', mode: '120000', content: '.' }], want: 'E_UNSAFE_PATH' },
  {
    name: 'case variants A (link to sub) and a/x',
    items: [
      manifest,
      { name: 'A', mode: '120000', content: 'sub' },
      { name: 'a', mode: '40000', items: [{ name: 'x', mode: '100644', content: 'x' }] },
      { name: 'sub', mode: '40000', items: [{ name: 'y', mode: '100644', content: 'y' }] },
    ],
    want: 'resolved',
  },
];

describe.each(['per-entry', 'tarball'] as const)('hostile GitHub trees (%s)', (mode) => {
  for (const c of cases) {
    const want = mode === 'tarball' ? (c.tarball ?? c.want) : c.want;
    test(`${c.name}: ${want}`, async () => {
      const outside = join(await bed.dir(), 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'secret.txt'), 'TOP-SECRET\n');
      const repo = await bed.repo(files, 'hostile');
      const items = c.items.map((item) => ({ ...item, ...(typeof item.content === 'string' ? { content: item.content.replace('OUTSIDE', outside) } : {}) }));
      await commitRawTree(repo, { folder: FOLDER, items });
      const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path } } }));
      const registry = await bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl, mode });
      const outcome = await registry.fetch('tool', 'com.example.tool-0').then(
        () => 'resolved',
        (error: unknown) => (isRegistryError(error) ? error.code : `raw:${String(error)}`),
      );
      expect(outcome).toBe(want);
      expect(await readdir(outside)).toEqual(['secret.txt']);
    }, 60_000);
  }
});
