#!/usr/bin/env node
// Runs the page's "Complete Example" end to end on this machine: a token-protected git smart-HTTP server on
// 127.0.0.1 serves agentos-extensions (the tools) and agentos-personas (the persona), both made from
// examples/registry-template with a `production` branch, and host.mjs builds an AgentOS initialize() config from them.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, localToken, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));

await runExample('complete', async (defer) => {
  const temp = await makeTempDir('agentos-example-complete-');
  defer(() => temp.close());
  const token = localToken('corp_');

  step('1. The corp git server: agentos-extensions and agentos-personas, branch production, token required');
  const root = join(temp.path, 'repos');
  for (const [name, only] of [
    ['agentos-extensions', 'extensions'],
    ['agentos-personas', 'personas'],
  ]) {
    const repo = await createGitRepo(await copyTemplate(join(temp.path, name), { only }), { root, name, branches: ['production'] });
    defer(() => repo.close());
  }
  const server = await startGitHttpServer({ root, auth: { type: 'bearer', token } });
  defer(() => server.close());
  say(`  ${server.repoUrl('agentos-extensions')}`);
  say(`  ${server.repoUrl('agentos-personas')}`);
  const cacheDir = join(temp.path, 'agentos-cache');
  say(`  cache directory (instead of /var/cache/agentos): ${cacheDir}`);

  step('2. The host');
  const result = await runHost(HOST, {
    label: 'GIT_TOKEN=*** node host.mjs',
    env: hostEnv({
      CORP_EXTENSIONS_GIT_URL: server.repoUrl('agentos-extensions'),
      CORP_PERSONAS_GIT_URL: server.repoUrl('agentos-personas'),
      GIT_TOKEN: token,
      AGENTOS_CACHE_DIR: cacheDir,
    }),
    secrets: [token],
  });
  check(result.code === 0, 'the host failed');
  const out = result.stdout;
  check(out.includes('registry:corp-extensions:com.example.echo@1.0.0'), 'no echo pack in the manifest');
  check(out.includes('registry:corp-extensions:com.example.calculator@1.0.0'), 'no calculator pack in the manifest');
  check(out.includes('source registry:corp-extensions, verified true'), 'descriptors carry no verified provenance');
  check(out.includes('-> 22 / 7 = 3.14'), 'the calculator did not answer with its pack options');
  check(out.includes("loadPersonaById('com.example.helpful-assistant') -> Helpful Assistant"), 'the persona loader did not find the persona');
  check(out.includes("loadPersonaById('com.example.nobody') -> undefined"), 'an unknown persona was not undefined');
  say('  Both packs were built from corp-extensions (verified), the calculator ran with its pack options');
  say('  (precision 2), and the persona loader served the persona of corp-personas.');
});
