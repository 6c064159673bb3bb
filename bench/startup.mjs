#!/usr/bin/env node
// Benchmark (issue 17: start-up). Whole processes, timed from outside (start-up included), medians of many runs:
// * `import('@agentos-registry/core')` against a bare `node -e ''`;
// * `import('agentos-registry')` (the umbrella) against the same;
// * the CLI's `list --json` on a warm 3-entry file registry against a process that only reads and parses its
//   registry.json (`node -e "JSON.parse(fs.readFileSync('registry.json'))"`).
// Goals: core ≤ 1.6× of bare node; CLI list ≤ 2× of the JSON.parse process. Prints, never asserts.
// Run with `npm run bench startup.mjs`, or `node bench/startup.mjs` after building.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const coreDist = join(root, 'packages', 'core', 'dist', 'index.js');
const umbrellaDist = join(root, 'packages', 'agentos-registry', 'dist', 'index.js');
const cli = join(root, 'packages', 'agentos-registry', 'bin', 'agentos-registry.mjs');
for (const file of [coreDist, umbrellaDist, cli]) {
  if (!existsSync(file)) {
    console.error(`bench/startup.mjs needs ${file}: build first (node scripts/run.mjs turbo build).`);
    process.exit(1);
  }
}
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
const registry = join(root, 'examples', 'registry-template');
const work = await mkdtemp(join(tmpdir(), 'bench-startup-'));
const config = join(work, 'agentos-registry.config.json');
await writeFile(
  config,
  JSON.stringify({
    registries: { local: { type: 'file', location: registry } },
    defaultRegistries: { tool: 'local', persona: 'local' },
    cacheSettings: { directory: join(work, 'cache') },
  }),
);
const env = { PATH: process.env.PATH ?? '', HOME: work, XDG_CONFIG_HOME: join(work, 'xdg'), AGENTOS_REGISTRY_CACHE: join(work, 'cache') };

const contenders = {
  bare: [process.execPath, '-e', ''],
  core: [process.execPath, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(coreDist).href)})`],
  umbrella: [process.execPath, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(umbrellaDist).href)})`],
  parse: [process.execPath, '-e', `JSON.parse(require('fs').readFileSync(${JSON.stringify(join(registry, 'registry.json'))}, 'utf8'))`],
  list: [process.execPath, cli, 'list', '--json', '--config', config],
};
function run([command, ...args]) {
  const start = performance.now();
  const result = spawnSync(command, args, { cwd: work, env, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}
run(contenders.list); // warms the cache (the registry's index is read once and stored)
const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
for (let i = 0; i < RUNS; i++) for (const [name, argv] of Object.entries(contenders)) times[name].push(run(argv));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)]));
const row = (label, value, note = '') => console.log(`${label.padEnd(58)} ${value.toFixed(1).padStart(7)} ms${note ? `   ${note}` : ''}`);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
console.log(`whole processes, timed from outside; medians of ${RUNS} runs`);
row("node -e ''", ms.bare);
row("import('@agentos-registry/core')", ms.core, `${ratio(ms.core, ms.bare)} of bare node   (goal ≤ 1.6x)`);
row("import('agentos-registry')", ms.umbrella, `${ratio(ms.umbrella, ms.bare)} of bare node   (goal: only the sources a config uses)`);
row('node -e "JSON.parse(readFileSync(registry.json))"', ms.parse);
row('agentos-registry list --json (warm file registry)', ms.list, `${ratio(ms.list, ms.parse)} of the JSON.parse process   (goal ≤ 2x)`);
await rm(work, { recursive: true, force: true });
