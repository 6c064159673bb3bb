import { pathToFileURL } from 'node:url';
import { isRegistryError } from '@agentos-registry/core';
import {
  Cleanup,
  createGitRepo,
  type GitDaemon,
  type GitHttpServer,
  type GitRepo,
  makeTempDir,
  runGit,
  startGitDaemon,
  startGitHttpServer,
} from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRegistry, pageRegistry, TOKEN, TOOL_ID, toolCode } from './support/registry.js';

// One set of repositories for the file: `extensions` (public) with the page's `production` and `stable` branches and
// two tags, `private` behind a token, served over smart HTTP with Basic and with Bearer auth, by git daemon, and read
// from disk. Every check goes through core's createRegistry, like an application would.
const cleanup = new Cleanup();
let root: string;
let extensions: GitRepo;
let basic: GitHttpServer;
let bearer: GitHttpServer;
let daemon: GitDaemon;
const sha: Record<string, string> = {};

beforeAll(async () => {
  root = (await cleanup.add(makeTempDir('git-remote-'))).path;
  extensions = await cleanup.add(createGitRepo(pageRegistry('main'), { root, name: 'extensions', branches: ['production', 'stable'], tags: ['v1.0.0'] }));
  sha.main = extensions.initialCommit;
  sha.production = await extensions.commit('production', pageRegistry('production'));
  sha.stable = await extensions.commit('stable', pageRegistry('stable'));
  await extensions.tag('v2.0.0', { ref: 'production', message: 'Release 2.0.0' });
  await cleanup.add(createGitRepo(pageRegistry('private'), { root, name: 'private', branches: ['stable'] }));
  basic = await cleanup.add(startGitHttpServer({ root, auth: { type: 'basic', username: 'x-access-token', password: TOKEN }, privateRepos: ['private'] }));
  bearer = await cleanup.add(startGitHttpServer({ root, auth: { type: 'bearer', token: TOKEN }, privateRepos: ['private'] }));
  daemon = await cleanup.add(startGitDaemon({ root }));
});

afterAll(() => cleanup.run());

async function fetchTool(config: Record<string, unknown>): Promise<{ code: string; revision: string }> {
  const { registry } = await openRegistry(config as { location: string });
  try {
    const fetched = await registry.fetch('tool', TOOL_ID);
    return { code: await toolCode(fetched.dir), revision: fetched.revision };
  } finally {
    await registry.close();
  }
}

async function failure(config: Record<string, unknown>) {
  const { registry } = await openRegistry(config as { location: string });
  try {
    await registry.fetch('tool', TOOL_ID);
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  } finally {
    await registry.close();
  }
  throw new Error('the fetch succeeded');
}

describe.each(['native', 'isomorphic'] as const)('%s engine over smart HTTP', (engine) => {
  test("a public repository, at the remote's HEAD", async () => {
    expect(await fetchTool({ engine, location: basic.repoUrl('extensions') })).toEqual({ code: expect.stringContaining('// main'), revision: sha.main });
  });

  test("the page's `branch: 'production'` and `branch: 'stable'`", async () => {
    expect(await fetchTool({ engine, location: basic.repoUrl('extensions'), branch: 'production' })).toEqual({
      code: expect.stringContaining('// production'),
      revision: sha.production,
    });
    expect(await fetchTool({ engine, location: basic.repoUrl('extensions'), branch: 'stable' })).toEqual({
      code: expect.stringContaining('// stable'),
      revision: sha.stable,
    });
  });

  test('a lightweight tag, an annotated tag (peeled to its commit) and a full commit sha', async () => {
    expect((await fetchTool({ engine, location: basic.repoUrl('extensions'), branch: 'v1.0.0' })).revision).toBe(sha.main);
    expect(await fetchTool({ engine, location: basic.repoUrl('extensions'), branch: 'v2.0.0' })).toEqual({
      code: expect.stringContaining('// production'),
      revision: sha.production,
    });
    expect(await fetchTool({ engine, location: basic.repoUrl('extensions'), branch: sha.stable })).toEqual({
      code: expect.stringContaining('// stable'),
      revision: sha.stable,
    });
  });

  test('a private repository with a token: Basic (default user name) and Bearer', async () => {
    expect((await fetchTool({ engine, location: basic.repoUrl('private'), branch: 'stable', token: TOKEN })).code).toContain('// private');
    expect((await fetchTool({ engine, location: bearer.repoUrl('private'), token: TOKEN, authScheme: 'bearer' })).code).toContain('// private');
  });

  test('an unknown branch is E_NOT_FOUND naming the registry and listing branches', async () => {
    const error = await failure({ engine, location: basic.repoUrl('extensions'), branch: 'prod' });
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain("'corp'");
    expect(error.message).toMatch(/branches: 'main', 'production', 'stable'/);
  });

  test('a force-pushed branch gives a new revision and the new content', async () => {
    const repo = await createGitRepo(pageRegistry('before'), { root, name: `moving-${engine}` });
    try {
      const { registry, cacheDir } = await openRegistry({ engine, location: basic.repoUrl(`moving-${engine}`) });
      const before = await registry.fetch('tool', TOOL_ID);
      await registry.close();
      const rewritten = await repo.forcePush('main', pageRegistry('rewritten'));
      const again = await openRegistry({ engine, location: basic.repoUrl(`moving-${engine}`) }, { cacheDir, refresh: true });
      const after = await again.registry.fetch('tool', TOOL_ID);
      await again.registry.close();
      expect(before.revision).toBe(repo.initialCommit);
      expect(after.revision).toBe(rewritten);
      expect(await toolCode(after.dir)).toContain('// rewritten');
    } finally {
      await repo.close();
    }
  });

  test('a repository on this machine: a bare repository path, a file:// URL and a work tree', async () => {
    expect((await fetchTool({ engine, location: extensions.path, branch: 'stable' })).code).toContain('// stable');
    expect((await fetchTool({ engine, location: pathToFileURL(extensions.path).href, branch: 'v2.0.0' })).revision).toBe(sha.production);
    const work = (await cleanup.add(makeTempDir('git-worktree-'))).path;
    await runGit(['clone', '--quiet', '--branch', 'production', extensions.path, `${work}/checkout`], { home: work });
    expect(await fetchTool({ engine, location: `${work}/checkout` })).toEqual({ code: expect.stringContaining('// production'), revision: sha.production });
  });

  test('with caching off the mirror lives in a temp folder for the life of the registry', async () => {
    const { registry } = await openRegistry({ engine, location: basic.repoUrl('extensions'), branch: 'stable' }, { cache: false });
    const fetched = await registry.fetch('tool', TOOL_ID);
    expect(await toolCode(fetched.dir)).toContain('// stable');
    await registry.close();
  });
});

describe('git daemon (git://)', () => {
  test('the native engine fetches over the git protocol', async () => {
    expect(await fetchTool({ engine: 'native', location: daemon.repoUrl('extensions'), branch: 'production' })).toEqual({
      code: expect.stringContaining('// production'),
      revision: sha.production,
    });
  });

  test('the isomorphic engine refuses git:// up front (E_CONFIG), auto picks native', async () => {
    await expect(openRegistry({ engine: 'isomorphic', location: daemon.repoUrl('extensions') })).rejects.toSatisfy((error: unknown) =>
      isRegistryError(error, 'E_CONFIG'),
    );
    expect((await fetchTool({ location: daemon.repoUrl('extensions') })).revision).toBe(sha.main);
  });
});
