import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, commitRawTree, createGitRepo, makeTempDir, runGit } from '../src/index.js';

const cleanup = new Cleanup();
let home: string;
const git = async (repoPath: string, ...args: string[]) => (await runGit(['--git-dir', repoPath, ...args], { home })).stdout;

beforeAll(async () => {
  home = path.join((await cleanup.add(makeTempDir())).path, 'home');
  await mkdir(home);
});
afterAll(() => cleanup.run());

describe('commitRawTree', () => {
  it('commits names git add never makes, in the order given, and keeps the rest of the commit', async () => {
    const repo = await cleanup.add(createGitRepo({ 'registry.json': '{}\n', 'registry/curated/tool/old.js': 'old\n', 'other/keep.txt': 'keep\n' }));
    const sha = await commitRawTree(repo, {
      folder: 'registry/curated/tool',
      items: [
        { name: 'a', mode: '120000', content: '/tmp/outside' },
        { name: 'a/.bashrc', mode: '100644', content: 'x\n' },
        { name: 'dup.js', mode: '100644', content: '1' },
        { name: 'dup.js', mode: '100755', content: '2' },
        { name: 'd', mode: '40000', items: [{ name: 'l', mode: '120000', content: '..' }] },
      ],
    });
    expect(await git(repo.path, 'rev-parse', 'main')).toBe(`${sha}\n`);
    const listed = (await git(repo.path, 'ls-tree', '-r', '-t', '--name-only', 'main')).trim().split('\n');
    // Git's order: `registry.json` sorts before the folder `registry` (compared as `registry/`).
    expect(listed).toEqual([
      'other',
      'other/keep.txt',
      'registry.json',
      'registry',
      'registry/curated',
      'registry/curated/tool',
      'registry/curated/tool/a',
      'registry/curated/tool/a/.bashrc',
      'registry/curated/tool/dup.js',
      'registry/curated/tool/dup.js',
      'registry/curated/tool/d',
      'registry/curated/tool/d/l',
    ]);
    expect(await git(repo.path, 'cat-file', 'blob', 'main:registry/curated/tool/d/l')).toBe('..');
    expect(await git(repo.path, 'rev-parse', 'main^')).toBe(`${repo.initialCommit}\n`);
  });
});
