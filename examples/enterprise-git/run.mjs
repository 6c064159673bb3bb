#!/usr/bin/env node
// Runs the page's "Enterprise with Private Git" case end to end on this machine: a token-protected git smart-HTTP
// server on 127.0.0.1 serves two repositories made from examples/registry-template (tools in agentos-extensions,
// the persona in agentos-personas, both on `stable`). host.mjs reads them with the right token, then a wrong one.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, localToken, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

await runExample('enterprise-git', async (defer) => {
  const temp = await makeTempDir('agentos-example-enterprise-');
  defer(() => temp.close());
  const token = localToken('corp_');
  const wrongToken = localToken('corp_wrong_');

  step('1. The company git server: two private repositories, branch stable');
  const root = join(temp.path, 'repos');
  for (const [name, only] of [
    ['agentos-extensions', 'extensions'],
    ['agentos-personas', 'personas'],
  ]) {
    const repo = await createGitRepo(await copyTemplate(join(temp.path, name), { only }), { root, name, branches: ['stable'] });
    defer(() => repo.close());
  }
  // Every repository needs the token; git sends it as HTTP Basic (user x-access-token), as to GitHub or Gitea.
  const server = await startGitHttpServer({ root, auth: { type: 'bearer', token } });
  defer(() => server.close());
  say(`  ${server.repoUrl('agentos-extensions')}  (the tools)`);
  say(`  ${server.repoUrl('agentos-personas')}  (the persona)`);
  const urls = {
    CORP_EXTENSIONS_GIT_URL: server.repoUrl('agentos-extensions'),
    CORP_PERSONAS_GIT_URL: server.repoUrl('agentos-personas'),
  };

  step('2. The host with the right CORP_GIT_TOKEN');
  const good = await runHost(HOST, {
    label: 'CORP_GIT_TOKEN=*** node host.mjs',
    env: hostEnv({ ...urls, CORP_GIT_TOKEN: token, AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache-right-token') }),
    secrets: [token],
  });
  check(good.code === 0, 'the host failed with the right token');
  check(good.stdout.includes('from "enterprise-extensions": 84 / 2 = 42'), 'the tool did not come from enterprise-extensions');
  check(good.stdout.includes('from "enterprise-personas": Helpful Assistant'), 'the persona did not come from enterprise-personas');
  say('  The tool came from enterprise-extensions and the persona from enterprise-personas, as defaultRegistries says.');

  step('3. The host with a wrong CORP_GIT_TOKEN');
  const before = server.requests.length;
  const bad = await runHost(HOST, {
    label: 'CORP_GIT_TOKEN=<wrong> node host.mjs',
    env: hostEnv({ ...urls, CORP_GIT_TOKEN: wrongToken, AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache-wrong-token') }),
    secrets: [token, wrongToken],
  });
  check(bad.code !== 0, 'the host worked with a wrong token');
  check(bad.stderr.includes('error [E_AUTH]'), 'a wrong token did not give E_AUTH');
  const refused = server.requests.slice(before).filter((r) => r.status === 401).length;
  check(refused > 0, 'the server refused nothing');
  say(`  As expected: the server answered 401 (${refused}x), the host stopped with E_AUTH naming the registry,`);
  say('  and neither token appears anywhere in the output.');
});
