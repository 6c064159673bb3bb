#!/usr/bin/env node
// Runs the page's "Complete Example" end to end on this machine: a token-protected git smart-HTTP server on
// 127.0.0.1 serves agentos-extensions (the tools, and the auth entry of corp-extensions/auth that provides
// authService and subscriptionService) and agentos-personas (the persona), both made from
// examples/registry-template with a `production` branch, and host.mjs builds an AgentOS initialize() config from them.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, localToken, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));
const AUTH_ENTRY = fileURLToPath(new URL('./corp-extensions/auth', import.meta.url));

/** The page's authService and subscriptionService come from corp-extensions: its auth entry, listed in its index. */
async function addAuthEntry(dir) {
  await cp(AUTH_ENTRY, join(dir, 'registry', 'curated', 'auth'), { recursive: true });
  const indexFile = join(dir, 'registry.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8'));
  const manifest = JSON.parse(await readFile(join(AUTH_ENTRY, 'manifest.json'), 'utf8'));
  index.extensions.curated.push({
    id: manifest.id,
    name: manifest.name,
    version: manifest.version,
    path: 'curated/auth',
    description: manifest.description,
    tools: ['check_feature_access'],
    author: manifest.author,
  });
  await writeFile(indexFile, `${JSON.stringify(index, null, 2)}\n`);
}

await runExample('complete', async (defer) => {
  const temp = await makeTempDir('agentos-example-complete-');
  defer(() => temp.close());
  const token = localToken('corp_');
  const jwtSecret = localToken('jwt_');

  step('1. The corp git server: agentos-extensions and agentos-personas, branch production, token required');
  const root = join(temp.path, 'repos');
  for (const [name, only] of [
    ['agentos-extensions', 'extensions'],
    ['agentos-personas', 'personas'],
  ]) {
    const dir = await copyTemplate(join(temp.path, name), { only });
    if (only === 'extensions') await addAuthEntry(dir);
    const repo = await createGitRepo(dir, { root, name, branches: ['production'] });
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
      AUTH_JWT_SECRET: jwtSecret,
    }),
    secrets: [token, jwtSecret],
  });
  check(result.code === 0, 'the host failed');
  const out = result.stdout;
  check(out.includes('registry:corp-extensions:com.example.echo@1.0.0'), 'no echo pack in the manifest');
  check(out.includes('registry:corp-extensions:com.example.calculator@1.0.0'), 'no calculator pack in the manifest');
  check(out.includes('source registry:corp-extensions, verified true'), 'descriptors carry no verified provenance');
  check(out.includes('-> 22 / 7 = 3.14'), 'the calculator did not answer with its pack options');
  check(out.includes("loadPersonaById('com.example.helpful-assistant') -> Helpful Assistant"), 'the persona loader did not find the persona');
  check(out.includes("loadPersonaById('com.example.nobody') -> undefined"), 'an unknown persona was not undefined');
  check(out.includes('registry:corp-extensions:com.example.auth@1.0.0'), 'no auth pack in the manifest');
  check(
    out.includes('check_feature_access({"userId":"user-42","feature":"FEATURE_BASIC_TOOLS"}) -> {"tier":"free","allowed":false}'),
    'the auth tool did not answer',
  );
  check(out.includes('createAuthExtension() of com.example.auth@1.0.0 from corp-extensions (verified true)'), 'the services did not come from corp-extensions');
  check(out.includes("authService.validateToken(generateToken('user-42')) -> user-42 (ada)"), 'authService did not validate its own token');
  check(out.includes('authService.validateToken(a token signed with another secret) -> null'), 'authService accepted a forged token');
  check(out.includes('authService.verifyPassword(right, hash) -> true, (wrong, hash) -> false'), 'authService password hashing is wrong');
  check(
    out.includes("getUserSubscription('user-42') -> free; validateAccess(FEATURE_ADVANCED_SEARCH) -> false, after setUserTier('pro') -> true"),
    'subscriptionService tiers are wrong',
  );
  check(
    out.includes(
      "AgentOS ToolPermissionManager: calculator (needs FEATURE_ADVANCED_SEARCH) for user-42 -> allowed false, after setUserTier('pro') -> allowed true",
    ),
    "AgentOS's ToolPermissionManager did not use the subscription service",
  );
  say('  Every pack was built from corp-extensions (verified), the calculator ran with its pack options');
  say('  (precision 2), authService and subscriptionService came from its auth entry and answered as AgentOS');
  say('  expects (IAuthService, ISubscriptionService), and the persona loader served the persona of corp-personas.');
});
