#!/usr/bin/env node
// Runs the page's "Air-Gapped Deployment" case end to end on this machine: a copy of examples/registry-template in
// a temp folder plays /opt/agentos/extensions, host.mjs loads every tool from it, and the agentos-registry CLI reads
// the same config to load the persona with --offline. No server is started: nothing here needs a network.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, copyTemplate, hostEnv, runExample, runHost, say, step } from '../shared/harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const HOST = join(HERE, 'host.mjs');
const CLI = join(dirname(createRequire(import.meta.url).resolve('agentos-registry/package.json')), 'bin', 'agentos-registry.mjs');

await runExample('air-gapped', async (defer) => {
  const temp = await mkdtemp(join(tmpdir(), 'agentos-example-air-gapped-'));
  defer(() => rm(temp, { recursive: true, force: true }));

  step('1. The registry folder (a copy of examples/registry-template, standing in for /opt/agentos/extensions)');
  const registryDir = await copyTemplate(join(temp, 'extensions'));
  say(`  ${registryDir}`);
  const env = hostEnv({ AGENTOS_REGISTRY_DIR: registryDir, AGENTOS_REGISTRY_CACHE: join(temp, 'cache') });

  step('2. The host loads every tool');
  const host = await runHost(HOST, { label: 'AGENTOS_REGISTRY_DIR=<copy> node host.mjs', env });
  check(host.code === 0, 'the host failed');
  check(host.stdout.includes('2 of 2 tool entries loaded.'), 'not every tool was loaded');
  check(host.stdout.includes('Loading tools from registry "internal"'), 'the tools did not come from "internal"');

  step('3. The CLI reads the same config and loads the persona, offline');
  const cli = await runHost(CLI, {
    args: ['load', 'com.example.helpful-assistant', '--kind', 'persona', '--offline'],
    label: 'AGENTOS_REGISTRY_DIR=<copy> npx agentos-registry load com.example.helpful-assistant --kind persona --offline',
    cwd: HERE,
    env,
  });
  check(cli.code === 0, 'the CLI failed');
  check(cli.stdout.includes('Helpful Assistant'), 'the CLI did not load the persona');
  say('  Both read the folder in place; offline mode still reads it, because a local folder is not the network.');
});
