#!/usr/bin/env node
// Runs the page's "GitHub (Public)" and "GitHub (Private)" cases end to end on this machine: a GitHub REST emulator
// on 127.0.0.1 serves two copies of examples/registry-template, one public and one private, and host.mjs reads them
// with GITHUB_TOKEN set, then without it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHubEmulator } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, localToken, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

await runExample('private-github', async (defer) => {
  const temp = await makeTempDir('agentos-example-github-');
  defer(() => temp.close());
  const token = localToken('ghp_local_');

  step('1. A local GitHub with a public and a private registry repository');
  const publicRepo = await createGitRepo(await copyTemplate(join(temp.path, 'public')), { name: 'extensions-repo' });
  defer(() => publicRepo.close());
  const privateRepo = await createGitRepo(await copyTemplate(join(temp.path, 'private')), { name: 'private-repo' });
  defer(() => privateRepo.close());
  const github = await startGitHubEmulator({
    repos: {
      'your-org/extensions-repo': { path: publicRepo.path },
      'your-org/private-repo': { path: privateRepo.path, private: true },
    },
    tokens: [token],
  });
  defer(() => github.close());
  say(`  GitHub API emulator at ${github.apiUrl}`);
  say('  your-org/extensions-repo is public; your-org/private-repo is private and needs a token');
  const api = { GITHUB_API_BASE_URL: github.apiUrl };

  step('2. The host with GITHUB_TOKEN set');
  const withToken = await runHost(HOST, {
    label: 'GITHUB_TOKEN=*** node host.mjs',
    env: hostEnv({ ...api, GITHUB_TOKEN: token, AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache-with-token') }),
    secrets: [token],
  });
  check(withToken.code === 0, 'the host fails with a token');
  check(withToken.stdout.includes('"text":"hello from a public repo"'), 'the public tool did not answer');
  check(withToken.stdout.includes('"result":5'), 'the private tool did not answer');
  const tokened = github.requests.filter((r) => r.origin === 'api' && r.authorization).length;
  const archives = github.requests.filter((r) => r.origin === 'archive');
  check(tokened > 0 && archives.every((r) => !r.authorization), 'the token reached the archive host');
  say(`  Both registries work. The token went with ${tokened} API requests; the ${archives.length} archive downloads`);
  say('  carried no Authorization header (like codeload.github.com, the archive host gets a one-time link instead).');

  step('3. The same host without GITHUB_TOKEN');
  const withoutToken = await runHost(HOST, {
    label: 'node host.mjs',
    env: hostEnv({ ...api, AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache-without-token') }),
    secrets: [token],
  });
  check(withoutToken.code !== 0, 'the private registry worked without a token');
  check(withoutToken.stdout.includes('"text":"hello from a public repo"'), 'the public registry needs no token, but failed');
  check(withoutToken.stderr.includes('error [E_NOT_FOUND]'), 'no E_NOT_FOUND for the private repository');
  check(withoutToken.stderr.includes('private repositories need a `token`'), 'the E_NOT_FOUND hint is missing');
  say('  As expected: the public registry still works, and the private one fails with E_NOT_FOUND, because GitHub');
  say('  answers 404 (not 401) for a private repository to anyone without a token. The hint says to set `token`.');
  say('  The token appeared in none of the output above.');
});
