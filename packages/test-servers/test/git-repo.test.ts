import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, createGitRepo, makeTempDir, runGit } from '../src/index.js';

const cleanup = new Cleanup();
let tmp: string;
let home: string;
const git = async (repoPath: string, ...args: string[]) => (await runGit(['--git-dir', repoPath, ...args], { home })).stdout.trim();

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  home = path.join(tmp, 'home');
  await mkdir(home);
});
afterAll(() => cleanup.run());

describe('createGitRepo', () => {
  it('gives the same shas for the same content on every run', async () => {
    const files = { 'registry.json': '{"version":"1.0.0"}\n', 'registry/curated/tool/manifest.json': '{}\n' };
    const a = await cleanup.add(createGitRepo(files, { name: 'a' }));
    const b = await cleanup.add(createGitRepo(files, { name: 'b' }));
    expect(a.initialCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(b.initialCommit).toBe(a.initialCommit);
    expect(await git(a.path, 'show', 'main:registry.json')).toBe('{"version":"1.0.0"}');
    expect(await git(a.path, 'log', '-1', '--format=%an <%ae> %aI')).toBe('AgentOS Registry Tests <tests@agentos-registry.invalid> 2024-01-01T00:00:00+00:00');
    // A later commit on either repo must also agree, since dates advance by a fixed step.
    expect(await a.commit('main', { x: '1' })).toBe(await b.commit('main', { x: '1' }));
  });

  it('copies a folder into the first commit and skips its .git', async () => {
    const source = path.join(tmp, 'source');
    await mkdir(path.join(source, 'registry', 'curated', 'tool'), { recursive: true });
    await mkdir(path.join(source, '.git'));
    await writeFile(path.join(source, '.git', 'HEAD'), 'ref: refs/heads/nope\n');
    await writeFile(path.join(source, 'registry.json'), '{}\n');
    await writeFile(path.join(source, 'registry', 'curated', 'tool', 'index.js'), 'export {};\n');
    const root = path.join(tmp, 'served');
    const repo = await cleanup.add(createGitRepo(source, { root, name: 'from-dir.git' }));
    expect(repo.path).toBe(path.join(root, 'from-dir.git'));
    const listed = (await git(repo.path, 'ls-tree', '-r', '--name-only', 'main')).split('\n');
    expect(listed.sort()).toEqual(['registry.json', 'registry/curated/tool/index.js']);
  });

  it('adds branches, tags, overlay commits and force-pushes', async () => {
    const repo = await cleanup.add(createGitRepo({ 'a.txt': 'a', 'b.txt': 'b' }, { branches: ['production', 'stable'], tags: ['v1.0.0'] }));
    const refs = await repo.refs();
    expect(refs['refs/heads/production']).toBe(repo.initialCommit);
    expect(refs['refs/heads/stable']).toBe(repo.initialCommit);
    expect(refs['refs/tags/v1.0.0']).toBe(repo.initialCommit);

    const second = await repo.commit('production', { 'b.txt': 'B', 'a.txt': null, 'c/d.txt': 'd' }, { overlay: true });
    expect(await git(repo.path, 'rev-parse', `${second}^`)).toBe(repo.initialCommit);
    expect((await git(repo.path, 'ls-tree', '-r', '--name-only', second)).split('\n')).toEqual(['b.txt', 'c/d.txt']);
    expect(await repo.revParse('main')).toBe(repo.initialCommit);

    const replaced = await repo.commit('main', { 'only.txt': 'x' });
    expect(await git(repo.path, 'ls-tree', '-r', '--name-only', replaced)).toBe('only.txt');

    const tagged = await repo.tag('v2.0.0', { ref: 'production', message: 'release 2' });
    expect(tagged).toBe(second);
    expect(await git(repo.path, 'cat-file', '-t', 'refs/tags/v2.0.0')).toBe('tag');

    const rewritten = await repo.forcePush('production', { 'b.txt': 'rewritten' }, { overlay: true });
    expect(rewritten).not.toBe(second);
    expect(await repo.revParse('production')).toBe(rewritten);
    expect(await git(repo.path, 'rev-parse', `${rewritten}^`)).toBe(repo.initialCommit);
    expect(await git(repo.path, 'show', `${rewritten}:b.txt`)).toBe('rewritten');
    expect(await git(repo.path, 'show', `${rewritten}:c/d.txt`)).toBe('d');
    // The old tip is no longer in the branch's history: exactly what a force push does.
    await expect(git(repo.path, 'merge-base', '--is-ancestor', second, rewritten)).rejects.toThrow();

    await repo.close();
    await expect(access(repo.path)).rejects.toThrow();
  });

  it('refuses file paths that leave the repository', async () => {
    await expect(createGitRepo({ '../evil': 'x' })).rejects.toThrow(/leaves the repository/);
  });
});
