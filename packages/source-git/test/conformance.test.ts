import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONFORMANCE_TOKEN, type ConformanceFixture, type ConformanceTls, runSourceConformance, type SourceHarness } from '@agentos-registry/source-testkit';
import { createGitRepo, makeTempDir, type ServerAuth, startGitHttpServer, startTlsFront } from '@agentos-registry/test-servers';
import { gitSource } from '../src/index.js';

/**
 * Publishing is committing the fixture folder to a repository served by `git http-backend`, privately: the server
 * demands the kit's token, so every check also proves the token reaches the server (and nothing else). An update
 * is a new commit of the edited folder on the default branch.
 */
function harness(engine: 'native' | 'isomorphic', auth: ServerAuth): SourceHarness {
  // With `tls`, the same server behind an HTTPS front: smart HTTP answers carry no absolute URLs, so only the
  // location changes.
  const publish = async (fixture: ConformanceFixture, tls?: ConformanceTls) => {
    const tmp = await makeTempDir('git-conformance-');
    const repo = await createGitRepo(fixture.dir, { root: tmp.path, name: 'registry' });
    const server = await startGitHttpServer({ root: tmp.path, auth, privateRepos: ['registry'] });
    const front = tls ? await startTlsFront(server.url, tls) : undefined;
    const location = front ? `${front.url}${new URL(server.repoUrl('registry')).pathname}` : server.repoUrl('registry');
    return {
      config: { type: 'git', location, token: CONFORMANCE_TOKEN },
      update: async (mutate: (dir: string) => Promise<void>) => {
        await mutate(fixture.dir);
        await repo.commit(repo.defaultBranch, fixture.dir);
      },
      teardown: async () => {
        await front?.close();
        await server.close();
        await repo.close();
        await tmp.close();
      },
    };
  };
  return {
    name: `git (${engine}, smart HTTP, ${auth.type} auth)`,
    adapter: [gitSource({ engine, ...(auth.type === 'bearer' ? { authScheme: 'bearer' as const } : {}) })],
    setup: (fixture) => publish(fixture),
    // The native engine runs git, whose TLS is curl's: it trusts http.sslCAInfo / GIT_SSL_CAINFO, and the registry's
    // `ca` (PEM text or a file) is not turned into either (the source warns that it does not apply it), so the
    // transport checks would only show that. They run for the isomorphic engine, which uses core's HTTP client.
    ...(engine === 'isomorphic' ? { https: (fixture: ConformanceFixture, tls: ConformanceTls) => publish(fixture, tls) } : {}),
  };
}

const runner = { describe, test, expect, beforeAll, afterAll };
runSourceConformance(runner, harness('native', { type: 'bearer', token: CONFORMANCE_TOKEN }));
runSourceConformance(runner, harness('isomorphic', { type: 'basic', username: 'x-access-token', password: CONFORMANCE_TOKEN }));
