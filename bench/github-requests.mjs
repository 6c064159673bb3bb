#!/usr/bin/env node
// Benchmark (issue 5: source-github). Counts the requests each operation costs, from the GitHub emulator's log (both
// origins: the REST API and the archive host behind the tarball redirect), and times a cold fetch of a 300-entry
// registry against `git clone --depth 1` of the same repository from the git smart-HTTP test server.
// Goals: a cold registry with 20 entries fetched → 2 API requests (+ the archive download they redirect to);
// revalidating an unchanged branch → 1 request, answered 304. Prints, never asserts.
// Run with `npm run bench github-requests.mjs` or `node bench/github-requests.mjs` after building core,
// source-github and test-servers.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { registryFiles } from './support/registry-files.mjs';

const root = join(import.meta.dirname, '..');
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
for (const pkg of ['core', 'source-github', 'test-servers']) {
  if (!existsSync(dist(pkg))) {
    console.error(`bench/github-requests.mjs needs packages/${pkg}/dist: build it first (e.g. npx turbo run build --filter=@agentos-registry/${pkg}).`);
    process.exit(1);
  }
}
const { createRegistry, silentLogger } = await import(dist('core'));
const { githubSource } = await import(dist('source-github'));
const { Cleanup, createGitRepo, makeTempDir, runGit, startGitHttpServer, startGitHubEmulator } = await import(dist('test-servers'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const cleanup = new Cleanup();
const tmp = (await cleanup.add(makeTempDir('bench-github-'))).path;
const home = join(tmp, 'home');
await mkdir(home);

const repos = join(tmp, 'repos');
const small = await cleanup.add(createGitRepo(registryFiles(20), { root: repos, name: 'extensions' }));
const large = await cleanup.add(createGitRepo(registryFiles(300), { root: repos, name: 'large' }));
const emulator = await cleanup.add(
  startGitHubEmulator({ repos: { 'your-org/extensions': { path: small.path }, 'your-org/large': { path: large.path } }, rateLimit: { limit: 1_000_000 } }),
);
const gitServer = await cleanup.add(startGitHttpServer({ root: repos }));

let cacheCounter = 0;
async function openRegistry(location, extra = {}, cacheDir = join(tmp, `cache-${++cacheCounter}`)) {
  const registry = await createRegistry(
    {
      registries: { custom: { type: 'github', location, baseUrl: emulator.apiUrl, ...extra } },
      defaultRegistries: { tool: 'custom' },
      cacheSettings: { directory: cacheDir },
    },
    { sources: [githubSource()], env: {}, logger: silentLogger },
  );
  return { registry, cacheDir };
}

function counts() {
  const api = emulator.requests.filter((r) => r.origin === 'api');
  const archive = emulator.requests.filter((r) => r.origin === 'archive');
  const statuses = api.map((r) => r.status).join(', ');
  return { api: api.length, archive: archive.length, statuses };
}

// ── requests per operation ─────────────────────────────────────────────────────────────────────────────────────
emulator.clearRequests();
const cold = await openRegistry('your-org/extensions', { branch: 'main' });
const rows = await cold.registry.list();
await Promise.all(rows.map((row) => cold.registry.fetch('tool', row.id)));
const coldCounts = counts();
await cold.registry.close();

emulator.clearRequests();
// cacheDuration 0 is not part of the cache key: the same cached index, now due for revalidation at once.
const again = await openRegistry('your-org/extensions', { branch: 'main', cacheDuration: 0 }, cold.cacheDir);
await again.registry.list();
const revalidation = counts();
await again.registry.close();

emulator.clearRequests();
const noBranch = await openRegistry('your-org/extensions');
const noBranchRows = await noBranch.registry.list();
await Promise.all(noBranchRows.map((row) => noBranch.registry.fetch('tool', row.id)));
const noBranchCounts = counts();
await noBranch.registry.close();

emulator.clearRequests();
const perEntry = await openRegistry('your-org/extensions', { branch: 'main', mode: 'per-entry' });
await perEntry.registry.fetch('tool', 'com.example.tool-7');
const perEntryCounts = counts();
await perEntry.registry.close();

console.log(
  `cold registry, ${rows.length} entries listed and fetched (branch: main): ${coldCounts.api} API requests [${coldCounts.statuses}] + ${coldCounts.archive} archive-host download   (goal: 2 API requests)`,
);
console.log(
  `revalidation of the unchanged branch (new instance, same cache):   ${revalidation.api} API request  [${revalidation.statuses}] + ${revalidation.archive} archive   (goal: 1 request, 304)`,
);
console.log(
  `same cold fetch without \`branch\` (default branch asked once):        ${noBranchCounts.api} API requests [${noBranchCounts.statuses}] + ${noBranchCounts.archive} archive-host download   (for information)`,
);
console.log(
  `per-entry mode, cold, one entry of 3 files:                          ${perEntryCounts.api} API requests + ${perEntryCounts.archive} archive   (for information)`,
);

// ── cold fetch of a 300-entry registry against git clone --depth 1 ─────────────────────────────────────────────
async function coldFetch() {
  const { registry, cacheDir } = await openRegistry('your-org/large', { branch: 'main' });
  const start = performance.now();
  await registry.fetch('tool', 'com.example.tool-150');
  const ms = performance.now() - start;
  await registry.close();
  await rm(cacheDir, { recursive: true, force: true });
  return ms;
}
async function coldFetchAll() {
  const { registry, cacheDir } = await openRegistry('your-org/large', { branch: 'main' });
  const start = performance.now();
  const all = await registry.list();
  await Promise.all(all.map((row) => registry.fetch('tool', row.id)));
  const ms = performance.now() - start;
  await registry.close();
  await rm(cacheDir, { recursive: true, force: true });
  return ms;
}
let cloneCounter = 0;
async function shallowClone() {
  const dir = join(tmp, `clone-${++cloneCounter}`);
  const start = performance.now();
  await runGit(['clone', '--quiet', '--depth', '1', gitServer.repoUrl('large'), dir], { home, timeoutMs: 120_000 });
  const ms = performance.now() - start;
  await rm(dir, { recursive: true, force: true });
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await coldFetch();
await shallowClone(); // warm-up of both paths (JIT, page cache)
const fetches = [];
const clones = [];
const alls = [];
for (let round = 0; round < ROUNDS; round++) {
  fetches.push(await coldFetch());
  clones.push(await shallowClone());
  alls.push(await coldFetchAll());
}
const f = median(fetches);
const c = median(clones);
console.log(`cold fetch of one entry of a 300-entry registry:  ${f.toFixed(0)} ms (revision + tarball + safe extraction + copy, fresh cache)`);
console.log(`git clone --depth 1 of the same repository:        ${c.toFixed(0)} ms (git smart HTTP test server)`);
console.log(`ratio cold fetch / shallow clone:                  ${(f / c).toFixed(2)}x   (medians of ${ROUNDS} rounds)`);
console.log(`cold list + fetch of all 300 entries:              ${median(alls).toFixed(0)} ms (for information)`);
await cleanup.run();
