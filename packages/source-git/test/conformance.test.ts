import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONFORMANCE_TOKEN, type ConformanceFixture, runSourceConformance, type SourceHarness } from '@agentos-registry/source-testkit';
import { createGitRepo, makeTempDir, type ServerAuth, startGitHttpServer } from '@agentos-registry/test-servers';
import { gitSource } from '../src/index.js';

/**
 * Publishing is committing the fixture folder to a repository served by `git http-backend`, privately: the server
 * demands the kit's token, so every check also proves the token reaches the server (and nothing else). An update
 * is a new commit of the edited folder on the default branch.
 */
function harness(engine: 'native' | 'isomorphic', auth: ServerAuth): SourceHarness {
  return {
    name: `git (${engine}, smart HTTP, ${auth.type} auth)`,
    adapter: [gitSource({ engine, ...(auth.type === 'bearer' ? { authScheme: 'bearer' as const } : {}) })],
    async setup(fixture: ConformanceFixture) {
      const tmp = await makeTempDir('git-conformance-');
      const repo = await createGitRepo(fixture.dir, { root: tmp.path, name: 'registry' });
      const server = await startGitHttpServer({ root: tmp.path, auth, privateRepos: ['registry'] });
      return {
        config: { type: 'git', location: server.repoUrl('registry'), token: CONFORMANCE_TOKEN },
        update: async (mutate) => {
          await mutate(fixture.dir);
          await repo.commit(repo.defaultBranch, fixture.dir);
        },
        teardown: async () => {
          await server.close();
          await repo.close();
          await tmp.close();
        },
      };
    },
  };
}

const runner = { describe, test, expect, beforeAll, afterAll };
runSourceConformance(runner, harness('native', { type: 'bearer', token: CONFORMANCE_TOKEN }));
runSourceConformance(runner, harness('isomorphic', { type: 'basic', username: 'x-access-token', password: CONFORMANCE_TOKEN }));
