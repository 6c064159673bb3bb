import { CONFORMANCE_TOKEN, type ConformanceFixture, type ConformanceTls, runSourceConformance, type SourceHarness } from '@agentos-registry/source-testkit';
import { Cleanup, createGitRepo, startGitHubEmulator, startTlsFront } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type GitHubFetchMode, githubSource } from '../src/index.js';

/**
 * Publishing on GitHub is a commit: the fixture folder becomes the first commit of a bare repository that the
 * emulator serves as `conformance/registry`, and an update is a new commit of the edited folder on `main`.
 */
function harness(name: string, options: { private?: boolean; mode?: GitHubFetchMode }): SourceHarness {
  // With `tls`, the API is reached through an HTTPS front (a GitHub Enterprise behind a private CA). The tarball's
  // archive origin, where the API redirects, stays the emulator's plain-HTTP loopback one.
  const publish = async (fixture: ConformanceFixture, tls?: ConformanceTls) => {
    const cleanup = new Cleanup();
    try {
      const repo = await cleanup.add(createGitRepo(fixture.dir, { name: 'conformance' }));
      const emulator = await cleanup.add(
        startGitHubEmulator({ repos: { 'conformance/registry': { path: repo.path, private: options.private ?? false } }, tokens: [CONFORMANCE_TOKEN] }),
      );
      const baseUrl = tls ? (await cleanup.add(startTlsFront(emulator.apiUrl, tls))).url : emulator.apiUrl;
      return {
        config: {
          type: 'github',
          location: 'conformance/registry',
          branch: 'main',
          baseUrl,
          ...(options.private ? { token: CONFORMANCE_TOKEN } : {}),
          ...(options.mode ? { mode: options.mode } : {}),
        },
        update: async (mutate: (dir: string) => Promise<void>) => {
          await mutate(fixture.dir);
          await repo.commit('main', fixture.dir);
        },
        teardown: () => cleanup.run(),
      };
    } catch (error) {
      await cleanup.run();
      throw error;
    }
  };
  return { name, adapter: [githubSource()], setup: (fixture) => publish(fixture), https: (fixture, tls) => publish(fixture, tls) };
}

const runner = { describe, test, expect, beforeAll, afterAll };
runSourceConformance(runner, harness('github (public, tarball)', {}), { timeout: 60_000 });
runSourceConformance(runner, harness('github (private with a token, tarball)', { private: true }), { timeout: 60_000 });
runSourceConformance(runner, harness('github (public, per-entry)', { mode: 'per-entry' }), { timeout: 60_000 });
