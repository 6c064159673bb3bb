#!/usr/bin/env node
// Benchmark (issue 4: source-git), against the git smart-HTTP test server (`git http-backend`) on 127.0.0.1:
// 1. a cold fetch() of one entry of a 300-entry registry, native and isomorphic engines, against
//    `git clone --depth 1` of the same repository (goal: native ≤ 1.2×; isomorphic reported);
// 2. bytes received to fetch one entry of a 5,000-entry registry with partial clone + sparse extraction, against a
//    full shallow clone (`git clone --depth 1`), both from the server's request log (bytesSent);
// 3. requests made by a revalidation of an unchanged registry (goal: one round trip).
// Prints figures and ratios from one run; never asserts. Run with `npm run bench git-fetch.mjs`, or
// `node bench/git-fetch.mjs` after `npx turbo run build --filter=@agentos-registry/source-git...`.
// BENCH_ROUNDS (default 7) sets the rounds of the timed part; BENCH_PARTS=cold,bytes,revalidate picks parts.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { registryFiles } from './support/registry-files.mjs';

const root = join(import.meta.dirname, '..');
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
for (const pkg of ['core', 'source-git', 'test-servers']) {
  if (!existsSync(dist(pkg))) {
    console.error(`bench/git-fetch.mjs needs packages/${pkg}/dist: build it first (npx turbo run build --filter=@agentos-registry/source-git...).`);
    process.exit(1);
  }
}
const { createRegistry, silentLogger } = await import(dist('core'));
const { gitSource } = await import(dist('source-git'));
const { Cleanup, createGitRepo, makeTempDir, runGit, startGitHttpServer } = await import(dist('test-servers'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'cold,bytes,revalidate').split(','));
const cleanup = new Cleanup();
const tmp = (await cleanup.add(makeTempDir('bench-git-'))).path;
const home = join(tmp, 'home');
await mkdir(home);
const repos = join(tmp, 'repos');

let counter = 0;
const freshDir = (label) => join(tmp, `${label}-${++counter}`);

async function openRegistry(location, cacheDir, extra = {}) {
  return createRegistry(
    { registries: { custom: { type: 'git', location, ...extra } }, defaultRegistries: { tool: 'custom' }, cacheSettings: { directory: cacheDir } },
    { sources: [gitSource()], env: {}, logger: silentLogger },
  );
}

/** The server's requests made while `work` runs, and the body bytes it sent. */
async function logged(server, work) {
  const from = server.requests.length;
  await work();
  const requests = server.requests.slice(from);
  return { requests: requests.length, bytes: requests.reduce((sum, r) => sum + r.bytesSent, 0), list: requests };
}

// Folders written by timed work are removed only at the end: on some disks (ext4 with online discard) deleting
// thousands of files slows the writes that follow, which would tax whichever side runs next.
async function shallowClone(url, extra = []) {
  const dir = freshDir('clone');
  const start = performance.now();
  await runGit(['clone', '--quiet', '--depth', '1', ...extra, url, dir], { home, timeoutMs: 300_000 });
  return performance.now() - start;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

// ── 1. cold fetch of one entry of a 300-entry registry against git clone --depth 1 ─────────────────────────────
if (PARTS.has('cold')) {
  await cleanup.add(createGitRepo(registryFiles(300), { root: repos, name: 'large' }));
  const server = await cleanup.add(startGitHttpServer({ root: repos }));
  const url = server.repoUrl('large');

  async function coldFetch(extra) {
    const cacheDir = freshDir('cache');
    const start = performance.now();
    const registry = await openRegistry(url, cacheDir, extra);
    await registry.fetch('tool', 'com.example.tool-150');
    const ms = performance.now() - start;
    await registry.close();
    return ms;
  }
  async function coldFetchAll(extra) {
    const cacheDir = freshDir('cache');
    const start = performance.now();
    const registry = await openRegistry(url, cacheDir, extra);
    const rows = await registry.list();
    await Promise.all(rows.map((row) => registry.fetch('tool', row.id)));
    const ms = performance.now() - start;
    await registry.close();
    return ms;
  }

  const variants = {
    native: { engine: 'native' },
    isomorphic: { engine: 'isomorphic' },
    nativeWhole: { engine: 'native', sparse: false },
  };
  // Warm-up of every path (JIT, page cache, git's own first-run costs).
  for (const extra of Object.values(variants)) await coldFetch(extra);
  await shallowClone(url);
  const times = { clone: [], bare: [], native: [], isomorphic: [], nativeWhole: [] };
  for (let round = 0; round < ROUNDS; round++) {
    times.clone.push(await shallowClone(url));
    for (const [name, extra] of Object.entries(variants)) times[name].push(await coldFetch(extra));
    times.bare.push(await shallowClone(url, ['--no-checkout']));
  }
  const clone = median(times.clone);
  const row = (label, ms, note = '') => console.log(`${label.padEnd(52)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / clone).toFixed(2)}x${note}`);
  console.log(`cold fetch() of one entry of a 300-entry registry (createRegistry + revision + index + entry, fresh cache), medians of ${ROUNDS} rounds:`);
  console.log(`${'git clone --depth 1 of the same repository'.padEnd(52)} ${clone.toFixed(0).padStart(5)} ms  1.00x  (baseline)`);
  row('native engine (partial clone + sparse, the default)', median(times.native), '  (goal ≤ 1.2x)');
  row('isomorphic engine (depth 1, whole commit)', median(times.isomorphic));
  row('native engine, sparse: false (depth 1, whole commit)', median(times.nativeWhole), '  (for information)');
  row('git clone --depth 1 --no-checkout (transfer only)', median(times.bare), '  (for information)');

  const all = { native: [], isomorphic: [], nativeWhole: [] };
  for (let round = 0; round < 3; round++) for (const [name, extra] of Object.entries(variants)) all[name].push(await coldFetchAll(extra));
  console.log('cold list() + fetch() of all 300 entries, concurrently (for information, medians of 3):');
  for (const [name, label] of [
    ['native', 'native engine, sparse'],
    ['isomorphic', 'isomorphic engine'],
    ['nativeWhole', 'native engine, sparse: false'],
  ]) {
    row(`  ${label}`, median(all[name]));
  }
}

// ── 2. bytes to fetch one entry of a 5,000-entry registry: partial + sparse against a full shallow clone ─────────
if (PARTS.has('bytes')) {
  await cleanup.add(createGitRepo(registryFiles(5000), { root: repos, name: 'huge' }));
  const server = await cleanup.add(startGitHttpServer({ root: repos }));
  const url = server.repoUrl('huge');
  const measure = async (extra) => {
    const cacheDir = freshDir('cache');
    const result = await logged(server, async () => {
      const registry = await openRegistry(url, cacheDir, extra);
      await registry.fetch('tool', 'com.example.tool-2500');
      await registry.close();
    });
    await rm(cacheDir, { recursive: true, force: true });
    return result;
  };
  const sparse = await measure({ engine: 'native' });
  const whole = await measure({ engine: 'native', sparse: false });
  const isomorphic = await measure({ engine: 'isomorphic' });
  const clone = await logged(server, () => shallowClone(url));
  const sparseClone = await logged(server, () => shallowClone(url, ['--filter=blob:none', '--sparse']));
  const line = (label, r, note = '') =>
    console.log(`${label.padEnd(60)} ${kb(r.bytes).padStart(11)} in ${String(r.requests).padStart(2)} requests  ${(r.bytes / clone.bytes).toFixed(3)}x${note}`);
  console.log('bytes the server sent to fetch() one entry of a 5,000-entry registry (cold cache), from its request log:');
  line('git clone --depth 1 (full shallow clone)', clone, '  (baseline)');
  line('native engine: partial clone + sparse (the default)', sparse, '  (the comparison asked for)');
  line('native engine, sparse: false (depth 1, whole commit)', whole, '  (for information)');
  line('isomorphic engine (depth 1, whole commit)', isomorphic, '  (for information)');
  line('git clone --depth 1 --filter=blob:none --sparse', sparseClone, '  (for information)');
}

// ── 3. a revalidation of an unchanged registry: one round trip ───────────────────────────────────────────────────
if (PARTS.has('revalidate')) {
  await cleanup.add(createGitRepo(registryFiles(20), { root: repos, name: 'small', branches: ['production'] }));
  const server = await cleanup.add(startGitHttpServer({ root: repos }));
  const url = server.repoUrl('small');
  for (const engine of ['native', 'isomorphic']) {
    const cacheDir = freshDir('cache');
    const first = await openRegistry(url, cacheDir, { engine, branch: 'production' });
    await first.fetch('tool', 'com.example.tool-3');
    await first.close();
    // cacheDuration 0 is not part of the cache key: the same cached index, due for revalidation at once.
    const again = await openRegistry(url, cacheDir, { engine, branch: 'production', cacheDuration: 0 });
    const result = await logged(server, async () => {
      await again.fetch('tool', 'com.example.tool-3');
    });
    await again.close();
    const what = result.list.map((r) => `${r.method} ${r.url.split('?')[0].replace(/^\/small\.git/, '')}`).join(', ');
    console.log(
      `revalidation of an unchanged branch, ${engine} engine (new instance, same cache, warm entry): ${result.requests} request(s), ${kb(result.bytes)} [${what}]  (goal: 1 round trip)`,
    );
  }
}

await cleanup.run();
