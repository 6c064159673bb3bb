#!/usr/bin/env node
// Benchmark (issue 7: source-npm): a cold fetch of a registry package through the npm source, against
// `pacote.extract` of the same spec into a temp folder — same run, same local Verdaccio (no uplinks), fresh caches
// every round. Goal: ratio ≤ 1.1. Prints, never asserts.
//
//   node bench/npm-cold-fetch.mjs      (after building core, source-npm and test-servers: `npx tsup` in each)
//
// The registry package is the real AgentOS extensions registry (../shared/fixtures/agentos-extensions: registry.json
// plus 230 manifests), published as `@framers/agentos-extensions`. "Cold fetch through the source" is what core asks
// of the source the first time: `revision()` (the packument) and `readIndex()` (download, verify, extract, read
// registry.json). For information the bench also times the same through core (`createRegistry` + `list()` + `fetch()`
// of one entry: index validation, cache writes, the entry copied and hashed), which does more than pacote.extract.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
for (const pkg of ['core', 'source-npm', 'test-servers']) {
  if (!existsSync(dist(pkg))) {
    console.error(`bench/npm-cold-fetch: packages/${pkg}/dist is missing; run \`npx tsup\` in packages/${pkg} first.`);
    process.exit(1);
  }
}
const { createRegistry, readSource, silentLogger } = await import(dist('core'));
const { npmSource } = await import(dist('source-npm'));
const { startVerdaccio } = await import(dist('test-servers'));
const pacote = createRequire(join(root, 'packages', 'source-npm', 'package.json'))('pacote');

const ROUNDS = Number(process.argv[2] ?? 15); // `node bench/npm-cold-fetch.mjs 31` for more rounds
const NAME = '@framers/agentos-extensions';
const fixture = join(root, '..', 'shared', 'fixtures', 'agentos-extensions');

const scratch = await mkdtemp(join(tmpdir(), 'bench-npm-'));
const server = await startVerdaccio({ users: { bench: 'bench-password' } });
try {
  const pkgDir = join(scratch, 'package');
  await cp(fixture, pkgDir, { recursive: true });
  await writeFile(join(pkgDir, 'package.json'), JSON.stringify({ name: NAME, version: '1.0.0', license: 'Apache-2.0' }));
  await server.publish(pkgDir, { token: await server.tokenFor('bench', 'bench-password') });
  const spec = `${NAME}@latest`;
  const source = npmSource().create(
    { type: 'npm', location: NAME, registry: server.url, npmrc: false },
    { registry: 'bench', baseDir: scratch, logger: silentLogger, env: {} },
  );

  let round = 0;
  const fresh = async () => mkdtemp(join(scratch, `round-${round++}-`));

  // The floor: what any npm client must do — packument, tarball, verify, extract.
  async function pacoteExtract() {
    const dir = await fresh();
    const start = performance.now();
    await pacote.extract(spec, join(dir, 'out'), { registry: server.url, cache: join(dir, '_cacache') });
    const ms = performance.now() - start;
    await rm(dir, { recursive: true, force: true });
    return ms;
  }

  // The source, as core calls it on a cold cache: a fresh work folder (pacote cache and extracted tree inside).
  async function throughSource() {
    const dir = await fresh();
    const ctx = { registry: 'bench', signal: new AbortController().signal, logger: silentLogger, workDir: dir };
    const start = performance.now();
    const revision = await source.revision(ctx);
    // The registry package is a snapshot: core's reader extracts it (as a registry does) and reads registry.json.
    const index = await readSource(source, 'bench').readIndex(revision, ctx);
    const ms = performance.now() - start;
    if (JSON.parse(Buffer.from(index).toString('utf8')).extensions.curated.length !== 114) throw new Error('unexpected index');
    await rm(dir, { recursive: true, force: true });
    return ms;
  }

  // For information: the whole cold path through core, down to one entry on disk.
  async function throughCore() {
    const dir = await fresh();
    const start = performance.now();
    const registry = await createRegistry(
      { registries: { official: { type: 'npm', location: NAME, registry: server.url, npmrc: false } }, cacheSettings: { directory: dir } },
      { sources: [npmSource()], env: {}, baseDir: dir },
    );
    await registry.list();
    await registry.fetch('tool', 'official:com.framers.research.web-search');
    const ms = performance.now() - start;
    await registry.close();
    await rm(dir, { recursive: true, force: true });
    return ms;
  }

  // Warm up both paths (module loading, JIT, Verdaccio's own first-request work), then alternate.
  for (let i = 0; i < 2; i++) {
    await pacoteExtract();
    await throughSource();
    await throughCore();
  }
  const floors = [];
  const ours = [];
  const core = [];
  for (let i = 0; i < ROUNDS; i++) {
    floors.push(await pacoteExtract());
    ours.push(await throughSource());
    core.push(await throughCore());
  }
  await source.close?.();

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = median(floors);
  const o = median(ours);
  const c = median(core);
  console.log(`cold fetch through the source:   ${o.toFixed(1)} ms   (revision + readIndex, fresh work folder)`);
  console.log(`pacote.extract of the same spec: ${f.toFixed(1)} ms   (fresh cache)`);
  console.log(`ratio source/pacote:             ${(o / f).toFixed(2)}x   (goal ≤ 1.1x; ${ROUNDS} rounds, medians)`);
  console.log(`through core, for information:   ${c.toFixed(1)} ms   (createRegistry + list + fetch of one entry; ${(c / f).toFixed(2)}x pacote)`);
} finally {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
}
