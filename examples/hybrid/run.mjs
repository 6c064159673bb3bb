#!/usr/bin/env node
// Runs the page's "Hybrid (Official + Custom)" case end to end on this machine: a local Verdaccio (no uplinks) holds
// the official registry as the npm package @framers/agentos-extensions, a local GitHub emulator holds the custom
// repository your-org/custom-extensions, and host.mjs runs in a project folder whose .npmrc points @framers at
// Verdaccio.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGitRepo, makeTempDir, startGitHubEmulator, startVerdaccio, VERDACCIO_PUBLISHER } from '@agentos-registry/test-servers';
import { check, copyTemplate, hostEnv, runExample, runHost, say, step } from '../shared/harness.mjs';

const HOST = fileURLToPath(new URL('./host.mjs', import.meta.url));
const OFFICIAL = '@framers/agentos-extensions';

await runExample('hybrid', async (defer) => {
  const temp = await makeTempDir('agentos-example-hybrid-');
  defer(() => temp.close());

  step(`1. The official registry: the npm package ${OFFICIAL} on a local Verdaccio`);
  const verdaccio = await startVerdaccio();
  defer(() => verdaccio.close());
  const packageDir = await copyTemplate(join(temp.path, 'official'));
  const packageJson = { name: OFFICIAL, version: '1.0.0', description: 'The official AgentOS registry (example copy).' };
  await writeFile(join(packageDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  const publishToken = await verdaccio.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  const published = await verdaccio.publish(packageDir, { token: publishToken });
  say(`  published ${published.name}@${published.version} to ${verdaccio.url} (tools and the persona)`);

  step('2. The custom registry: your-org/custom-extensions on a local GitHub');
  const repo = await createGitRepo(await copyTemplate(join(temp.path, 'custom'), { only: 'extensions' }), { name: 'custom-extensions' });
  defer(() => repo.close());
  const github = await startGitHubEmulator({ repos: { 'your-org/custom-extensions': { path: repo.path } } });
  defer(() => github.close());
  say(`  GitHub API emulator at ${github.apiUrl} (tools only)`);

  step("3. The host's project folder, with its .npmrc");
  const project = join(temp.path, 'my-agent-host');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'my-agent-host', private: true }, null, 2)}\n`);
  await writeFile(join(project, '.npmrc'), `@framers:registry=${verdaccio.url}\n`);
  // Anything npm would fetch that .npmrc does not route goes to a closed local port, never to the internet.
  const userNpmrc = join(temp.path, 'user.npmrc');
  await writeFile(userNpmrc, 'registry=http://127.0.0.1:9/\n');
  say(`  ${project}/.npmrc:  @framers:registry=${verdaccio.url}`);

  step('4. The host');
  const before = verdaccio.requests.length;
  const result = await runHost(HOST, {
    label: 'node host.mjs   (working directory: my-agent-host)',
    cwd: project,
    env: hostEnv({ GITHUB_API_BASE_URL: github.apiUrl, AGENTOS_REGISTRY_CACHE: join(temp.path, 'cache'), npm_config_userconfig: userNpmrc }),
  });
  check(result.code === 0, 'the host failed');
  check(result.stdout.includes("resolver('tool') -> custom"), 'tools are not resolved to custom');
  check(result.stdout.includes("resolver('persona') -> official"), 'personas are not resolved to official');
  check(result.stdout.includes('tool com.example.echo from "custom" (github'), 'the tool did not come from custom');
  check(result.stdout.includes('echo -> TOOLS COME FROM CUSTOM'), 'the tool did not answer');
  check(result.stdout.includes('persona com.example.helpful-assistant from "official" (npm'), 'the persona did not come from official');
  const npmRequests = verdaccio.requests.slice(before);
  check(
    npmRequests.some((r) => r.path.includes('agentos-extensions')),
    'Verdaccio was not asked',
  );
  say(`  The tool came from GitHub (custom), the persona from the npm package (official), as the resolver says.`);
  say(`  Verdaccio answered ${npmRequests.length} requests for ${OFFICIAL} (the package document and its tarball).`);
});
