#!/usr/bin/env node
// Runs the page's "Caching" case end to end on this machine and proves it with the request log of a local GitHub
// emulator: the first run downloads, a second run within cacheDuration sends no request at all, --refresh costs one
// conditional request answered 304, a stopped server is answered from the cache with a W_STALE warning, and offline
// mode works from the cache alone.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHubEmulator } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

await runExample('caching', async (defer) => {
  const temp = await makeTempDir('agentos-example-caching-');
  defer(() => temp.close());
  const cacheDir = join(temp.path, 'agentos-cache');

  step('1. A local GitHub with your-org/extensions');
  const repo = await createGitRepo(await copyTemplate(join(temp.path, 'registry')), { name: 'extensions' });
  defer(() => repo.close());
  const github = await startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path } } });
  defer(() => github.close());
  say(`  GitHub API emulator at ${github.apiUrl}; cache directory ${cacheDir}`);
  const env = hostEnv({ GITHUB_API_BASE_URL: github.apiUrl, AGENTOS_CACHE_DIR: cacheDir });

  /** Runs the host and returns what it printed and the requests GitHub saw meanwhile. */
  const run = async (args, expectation) => {
    const seen = github.requests.length;
    const result = await runHost(HOST, { args, env });
    check(result.code === 0, `node host.mjs ${args.join(' ')} failed`);
    check(result.stdout.includes('calculator: 50 - 8 = 42'), 'the calculator did not answer');
    const requests = github.requests.slice(seen);
    for (const r of requests) say(`  GitHub saw: ${r.method} ${r.path} -> ${r.status}${r.conditional ? ' (conditional)' : ''}`);
    say(`  ${requests.length} request${requests.length === 1 ? '' : 's'}: ${expectation}`);
    return { ...result, requests };
  };

  step('2. First run: nothing is cached yet');
  const first = await run([], 'the repository (for its default branch), the commit, the tarball link, the tarball.');
  check(first.requests.length > 0, 'the first run sent no request');
  check(first.stdout.includes(', downloaded\n'), 'the first run did not download');

  step('3. Second run, within cacheDuration (1 hour)');
  const second = await run([], 'the index and the entry came from the cache on disk.');
  check(second.requests.length === 0, 'the second run asked GitHub');
  check(second.stdout.includes(', from the cache\n'), 'the second run did not use the cache');

  step('4. --refresh: ask GitHub whether anything changed');
  const refreshed = await run(['--refresh'], 'one conditional request, answered 304 Not Modified; nothing downloaded.');
  check(refreshed.requests.length === 1, 'a refresh sent more than one request');
  check(refreshed.requests[0].status === 304 && refreshed.requests[0].conditional, 'the refresh was not a 304');
  check(refreshed.stdout.includes(', from the cache\n'), 'the refresh downloaded something');

  step('5. GitHub is down: --refresh again');
  // Dead, but keeping its ports (connections are reset) until the end, so no other program's server answers instead.
  github.kill();
  say('  (the GitHub emulator is stopped)');
  const stale = await runHost(HOST, { args: ['--refresh'], env });
  check(stale.code === 0, 'the host failed with GitHub down');
  check(stale.stderr.includes('warning [W_STALE]'), 'no W_STALE warning');
  check(stale.stdout.includes('from the cache (a stale copy'), 'the result was not marked stale');
  check(stale.stdout.includes('calculator: 50 - 8 = 42'), 'the calculator did not answer');
  say('  The cached index (younger than maxAge, 24 hours) was served, marked stale, with a W_STALE warning.');

  step('6. --offline: never touch the network');
  const offline = await runHost(HOST, { args: ['--offline'], env });
  check(offline.code === 0, 'offline mode failed');
  check(!offline.stderr.includes('warning'), 'offline mode warned');
  check(offline.stdout.includes('calculator: 50 - 8 = 42'), 'the calculator did not answer offline');
  say('  Served from the cache alone, without trying the network and without a warning.');
});
