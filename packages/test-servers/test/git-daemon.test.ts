import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, createGitRepo, type GitDaemon, type GitRepo, makeTempDir, runGit, startGitDaemon } from '../src/index.js';

const cleanup = new Cleanup();
let tmp: string;
let home: string;
let repo: GitRepo;
let daemon: GitDaemon;
const git = (...args: string[]) => runGit(args, { home, timeoutMs: 15_000 });

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  home = path.join(tmp, 'home');
  await mkdir(home);
  repo = await cleanup.add(createGitRepo({ 'registry.json': '{"version":"1.0.0"}\n' }, { root: path.join(tmp, 'root'), name: 'registry', tags: ['v1'] }));
  await repo.commit('stable', { 'registry.json': '{"version":"1.1.0"}\n' });
  daemon = await cleanup.add(startGitDaemon({ root: repo.root }));
});
afterAll(() => cleanup.run());

describe('startGitDaemon', () => {
  it('answers git ls-remote over git:// with the repository refs', async () => {
    expect(daemon.url).toBe(`git://127.0.0.1:${daemon.port}/`);
    const { stdout } = await git('ls-remote', daemon.repoUrl('registry'));
    const remote = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t').reverse()),
    );
    const local = await repo.refs();
    expect(remote['refs/heads/main']).toBe(local['refs/heads/main']);
    expect(remote['refs/heads/stable']).toBe(local['refs/heads/stable']);
    expect(remote['refs/tags/v1']).toBe(repo.initialCommit);
    expect(remote['refs/heads/stable']).not.toBe(repo.initialCommit);
    // The daemon logs asynchronously on stderr; give it a moment to arrive.
    await expect.poll(() => daemon.requests).toContainEqual({ service: 'upload-pack', path: '/registry.git' });
  });

  it('serves a partial clone', async () => {
    const dir = path.join(tmp, 'clone');
    await git('clone', '--filter=blob:none', '--branch', 'stable', daemon.repoUrl('registry'), dir);
    expect(await readFile(path.join(dir, 'registry.json'), 'utf8')).toBe('{"version":"1.1.0"}\n');
    expect((await git('-C', dir, 'config', 'remote.origin.promisor')).stdout.trim()).toBe('true');
  });

  it('stops serving on close', async () => {
    const other = await startGitDaemon({ root: repo.root });
    await git('ls-remote', other.repoUrl('registry'));
    await other.close();
    // Whatever may listen on the freed port later, it is not this daemon serving the repository.
    await expect(git('ls-remote', other.repoUrl('registry'))).rejects.toThrow();
  });
});
