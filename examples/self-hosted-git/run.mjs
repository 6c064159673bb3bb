#!/usr/bin/env node
// Runs the page's "Self-Hosted Git" case end to end on this machine: a git smart-HTTP server (git http-backend) on
// 127.0.0.1 serves a copy of examples/registry-template with a `production` branch, and host.mjs reads it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

await runExample('self-hosted-git', async (defer) => {
  const temp = await makeTempDir('agentos-example-git-');
  defer(() => temp.close());

  step('1. A git server with the registry on its production branch');
  const root = join(temp.path, 'repos');
  const repo = await createGitRepo(await copyTemplate(join(temp.path, 'registry')), {
    root,
    name: 'extensions',
    branches: ['production'],
    message: 'Release the example registry',
  });
  defer(() => repo.close());
  // Work in progress on main that is not released: the host must not see it, because the config says `production`.
  const index = JSON.parse(await readFile(join(temp.path, 'registry', 'registry.json'), 'utf8'));
  index.extensions.curated = index.extensions.curated.filter((entry) => entry.id !== 'com.example.calculator');
  await repo.commit('main', { 'registry.json': `${JSON.stringify(index, null, 2)}\n` }, { overlay: true, message: 'WIP: retire the calculator' });
  const production = await repo.revParse('production');
  const main = await repo.revParse('main');
  const server = await startGitHttpServer({ root });
  defer(() => server.close());
  say(`  ${server.repoUrl('extensions')}`);
  say(`  production is at ${production.slice(0, 12)} (two tools); main is at ${main.slice(0, 12)} (work in progress, one tool)`);

  step('2. The host reads the production branch');
  const result = await runHost(HOST, {
    label: `GIT_REGISTRY_URL=${server.repoUrl('extensions')} node host.mjs`,
    env: hostEnv({ GIT_REGISTRY_URL: server.repoUrl('extensions'), AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache') }),
  });
  check(result.code === 0, 'the host failed');
  check(result.stdout.includes('calculator: 6 * 7 = 42'), 'the calculator did not answer');
  check(result.stdout.includes(`commit ${production}`), 'the entries did not come from the production branch');
  check(!result.stdout.includes(main), 'something came from main');
  const fetches = server.requests.filter((r) => r.service === 'upload-pack');
  say(`  Every entry came from production's commit ${production.slice(0, 12)}; main's work in progress was not used.`);
  say(`  The git server answered ${server.requests.length} requests (${fetches.length} of them git upload-pack).`);
});
