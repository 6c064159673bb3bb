#!/usr/bin/env node
// Benchmark (issue: cache): a warm `fetch()` of an entry already on disk, against the floor of reading it yourself —
// `stat` of its folder plus `readFile` and `JSON.parse` of its manifest.json — in the same process, same run.
// Goal: ratio ≤ 1.5. Run with `npm run bench` (builds first) or `node bench/warm-fetch.mjs` after a build.
import { readFile, stat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { copyDirectory, createRegistry, defineSource } from '../packages/core/dist/index.js';

const registryDir = join(import.meta.dirname, '..', 'examples', 'registry-template');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 5000);
const ROUNDS = 7;

// A transport that copies entries (like every network source does), so fetched entries live in the cache store.
const copySource = defineSource({
  type: 'copy',
  create: (config) => ({
    displayLocation: config.location,
    revision: async () => ({
      id: createHash('sha256')
        .update(await readFile(join(config.location, 'registry.json')))
        .digest('hex'),
    }),
    readIndex: async () => readFile(join(config.location, 'registry.json')),
    materialize: async (request, ctx) => copyDirectory(join(config.location, request.path), request.destination, { signal: ctx.signal }),
  }),
});

const cache = await mkdtemp(join(tmpdir(), 'bench-warm-'));
const config = { registries: { default: { type: 'copy', location: registryDir, cacheDuration: 3_600_000 } }, cacheSettings: { directory: cache } };
const registry = await createRegistry(config, { sources: [copySource], env: {} });
const ref = 'com.example.echo';
const first = await registry.fetch('tool', ref);

async function floor() {
  await stat(first.dir);
  JSON.parse(await readFile(join(first.dir, 'manifest.json'), 'utf8'));
}
async function warm() {
  await registry.fetch('tool', ref);
}

async function timePerOp(fn) {
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await fn();
  return ((performance.now() - start) * 1000) / ITERATIONS; // µs
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await timePerOp(floor);
await timePerOp(warm); // warm-up both paths (JIT)
const floors = [];
const ours = [];
for (let round = 0; round < ROUNDS; round++) {
  floors.push(await timePerOp(floor));
  ours.push(await timePerOp(warm));
}

// For information: a new registry instance each time (a new process would see this path: index and entry from disk).
const fresh = [];
for (let i = 0; i < 200; i++) {
  const start = performance.now();
  const r = await createRegistry(config, { sources: [copySource], env: {} });
  await r.fetch('tool', ref);
  fresh.push((performance.now() - start) * 1000);
  await r.close();
}

const f = median(floors);
const o = median(ours);
console.log(`warm fetch (same process):     ${o.toFixed(1)} µs/op`);
console.log(`floor (stat + read + parse):   ${f.toFixed(1)} µs/op`);
console.log(`ratio warm/floor:              ${(o / f).toFixed(2)}x   (goal ≤ 1.5x; ${ITERATIONS} iterations × ${ROUNDS} rounds, medians)`);
console.log(`new instance, from disk:       ${median(fresh).toFixed(1)} µs/op (createRegistry + fetch; for information)`);
await registry.close();
await rm(cache, { recursive: true, force: true });
