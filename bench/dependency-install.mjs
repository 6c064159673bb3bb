#!/usr/bin/env node
// Benchmark (issue 8: runnable extensions): a cold `load()` of a tool whose package.json has npm dependencies, against
// doing the same by hand with npm's engine — same run, same local Verdaccio (no uplinks), fresh npm caches each round.
// Goal: ratio ≤ 1.2. Prints, never asserts.
//
//   npm run bench dependency-install.mjs
//
// By hand: copy the tool's folder, `new Arborist({ ignoreScripts: true, omit: ['dev'] }).reify()` in it, import its
// entry. Through core: createRegistry over a file registry, `load('tool', id)`, which also reads and validates the
// index, stores the entry in the cache by content hash, builds the install folder under a temp name and renames it
// into place, links nothing (no peers here) and calls createExtensionPack. Also reported: a warm `load()` in a new
// registry object on the same cache and install area (nothing installed again), and the npm cache reused.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
for (const pkg of ['core', 'source-npm', 'source-file', 'test-servers']) {
  if (!existsSync(dist(pkg))) {
    console.error(`bench/dependency-install: packages/${pkg}/dist is missing; run \`npm run bench\` (it builds first).`);
    process.exit(1);
  }
}
const { createRegistry } = await import(dist('core'));
const { npmSource } = await import(dist('source-npm'));
const { fileSource } = await import(dist('source-file'));
const { startVerdaccio } = await import(dist('test-servers'));
const Arborist = createRequire(join(root, 'packages', 'source-npm', 'package.json'))('@npmcli/arborist');

const ROUNDS = Number(process.argv[2] ?? 9);
const LIBS = 16; // lib-0 … lib-15: each of the first 8 depends on two of the others, so the tree has depth and sharing

const scratch = await mkdtemp(join(tmpdir(), 'bench-deps-'));
const server = await startVerdaccio({ users: { bench: 'bench-password' } });
try {
  const token = await server.tokenFor('bench', 'bench-password');
  for (let i = LIBS - 1; i >= 0; i--) {
    const dependencies = i < 8 ? { [`bench-lib-${i + 8}`]: '^1.0.0', [`bench-lib-${((i + 1) % 8) + 8}`]: '^1.0.0' } : {};
    const files = {
      'package.json': JSON.stringify({ name: `bench-lib-${i}`, version: '1.0.0', main: 'index.js', dependencies }),
      'index.js': `module.exports = { id: ${i}, text: ${JSON.stringify('x'.repeat(2000))} };\n`,
      'README.md': `bench-lib-${i}\n`,
    };
    await server.publish(files, { token });
  }

  // A file registry in the page's layout with one tool that depends on eight of the libraries.
  const registryDir = join(scratch, 'registry');
  const toolDir = join(registryDir, 'registry', 'curated', 'uses-libs');
  await mkdir(join(toolDir, 'src'), { recursive: true });
  const deps = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`bench-lib-${i}`, '^1.0.0']));
  await writeFile(
    join(registryDir, 'registry.json'),
    JSON.stringify({
      version: '1.0.0',
      extensions: { curated: [{ id: 'com.bench.uses-libs', name: 'Uses libs', version: '1.0.0', path: 'curated/uses-libs' }] },
    }),
  );
  await writeFile(
    join(toolDir, 'manifest.json'),
    JSON.stringify({ id: 'com.bench.uses-libs', name: 'Uses libs', version: '1.0.0', extensions: [{ kind: 'tool', id: 'sum' }] }),
  );
  await writeFile(
    join(toolDir, 'package.json'),
    JSON.stringify({ name: 'uses-libs', version: '1.0.0', type: 'module', main: 'src/index.js', dependencies: deps }),
  );
  const imports = Object.keys(deps)
    .map((name, i) => `import l${i} from '${name}';`)
    .join('\n');
  await writeFile(
    join(toolDir, 'src', 'index.js'),
    `${imports}\nexport const createExtensionPack = () => ({ name: 'uses-libs', descriptors: [{ id: 'sum', kind: 'tool', payload: { sum: ${Object.keys(deps)
      .map((_, i) => `l${i}.id`)
      .join(' + ')} } }] });\n`,
  );
  const expectedSum = 28; // 0 + 1 + … + 7

  let round = 0;
  const fresh = async () => mkdtemp(join(scratch, `round-${round++}-`));

  async function byHand() {
    const dir = await fresh();
    const start = performance.now();
    const work = join(dir, 'tool');
    await cp(toolDir, work, { recursive: true });
    await new Arborist({ path: work, registry: server.url, cache: join(dir, '_cacache'), ignoreScripts: true, omit: ['dev'], audit: false, fund: false }).reify(
      { save: false },
    );
    const mod = await import(pathToFileURL(join(work, 'src', 'index.js')).href);
    const pack = mod.createExtensionPack();
    const ms = performance.now() - start;
    if (pack.descriptors[0].payload.sum !== expectedSum) throw new Error('unexpected result by hand');
    return { ms, dir };
  }

  const open = (dir) =>
    createRegistry(
      {
        registries: { internal: { type: 'file', location: registryDir } },
        defaultRegistries: { tool: 'internal' },
        cacheSettings: { directory: join(dir, 'cache') },
      },
      { sources: [fileSource(), npmSource()], env: {}, baseDir: join(dir, 'host'), packages: { registry: server.url, npmrc: false } },
    );

  async function throughCore() {
    const dir = await fresh();
    await mkdir(join(dir, 'host'), { recursive: true });
    const start = performance.now();
    const registry = await open(dir);
    const loaded = await registry.load('tool', 'com.bench.uses-libs');
    const ms = performance.now() - start;
    await registry.close();
    if (loaded.pack.descriptors[0].payload.sum !== expectedSum || loaded.install.packages.length !== LIBS) throw new Error('unexpected result through core');
    return { ms, dir };
  }

  async function warm(dir) {
    const requests = server.requests.length;
    const start = performance.now();
    const registry = await open(dir);
    const loaded = await registry.load('tool', 'com.bench.uses-libs');
    const ms = performance.now() - start;
    await registry.close();
    if (loaded.pack.descriptors[0].payload.sum !== expectedSum) throw new Error('unexpected warm result');
    if (server.requests.length !== requests) throw new Error(`a warm load() sent ${server.requests.length - requests} request(s) to the npm registry`);
    return ms;
  }

  for (let i = 0; i < 2; i++) {
    await rm((await byHand()).dir, { recursive: true, force: true });
    await rm((await throughCore()).dir, { recursive: true, force: true });
  }
  const hand = [];
  const ours = [];
  const warmRuns = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = await byHand();
    hand.push(a.ms);
    await rm(a.dir, { recursive: true, force: true });
    const b = await throughCore();
    ours.push(b.ms);
    warmRuns.push(await warm(b.dir));
    await rm(b.dir, { recursive: true, force: true });
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const h = median(hand);
  const o = median(ours);
  const w = median(warmRuns);
  console.log(`cold load() through core:         ${o.toFixed(1)} ms   (index, cache, install of ${LIBS} packages, import, createExtensionPack)`);
  console.log(`copy + arborist reify + import:   ${h.toFixed(1)} ms   (fresh npm cache, same registry)`);
  console.log(`ratio core/by hand:               ${(o / h).toFixed(2)}x   (goal ≤ 1.2x; ${ROUNDS} rounds, medians)`);
  console.log(`warm load(), new registry object: ${w.toFixed(1)} ms   (install folder reused: nothing installed, no request)`);
} finally {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
}
