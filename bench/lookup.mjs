#!/usr/bin/env node
// Benchmark (issue 17: lookups that do not grow with the index). A `file` registry of N entries (1,000, 10,000 and
// 100,000; only registry.json is written, as no entry is fetched), read through core with a fresh cache:
// * one `resolve()` of a known id, per call (median of many), against the same at N = 1,000 (goal: constant in N,
//   under 50 µs at 100,000);
// * a cold `list()` (createRegistry, read and check the index, list every entry) against JSON.parse of the same
//   registry.json (goal: linear) and the heap it keeps per entry (goal under 1 KiB);
// * a `search()` over every entry: the first (which builds the lower-case text it looks in, once per index) and the
//   median of 7 more (goal under 50 ms at 100,000).
// Prints, never asserts. `node bench/lookup.mjs` after building core and source-file; run with --expose-gc for the
// memory figure (npm run bench passes it).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const { createRegistry } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
const { fileSource } = await import(join(root, 'packages', 'source-file', 'dist', 'index.js'));
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const work = await mkdtemp(join(tmpdir(), 'bench-lookup-'));
const gc = globalThis.gc ?? (() => {});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const n of SIZES) {
  const dir = join(work, String(n));
  const curated = Array.from({ length: n }, (_, i) => ({
    id: `com.bench.tool-${i}`,
    name: `Tool ${i}`,
    version: '1.0.0',
    path: `curated/tool-${i}`,
    package: `@bench/tool-${i}`,
    description: `Bench tool number ${i}, for lookups`,
    keywords: ['bench', `k${i % 97}`],
  }));
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'registry.json'), JSON.stringify({ version: '1.0.0', extensions: { curated } }));

  // The floor of a cold list: reading and parsing the file.
  let start = performance.now();
  const parsed = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8'));
  const parseMs = performance.now() - start;
  if (parsed.extensions.curated.length !== n) throw new Error('parse');

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  start = performance.now();
  const registry = await createRegistry(
    { registries: { local: { type: 'file', location: dir } }, defaultRegistries: { tool: 'local' }, cacheSettings: { directory: join(work, `cache-${n}`) } },
    { sources: [fileSource()], env: {} },
  );
  const listed = await registry.list();
  const listMs = performance.now() - start;
  if (listed.length !== n) throw new Error(`listed ${listed.length}`);
  gc();
  const perEntry = (process.memoryUsage().heapUsed - heapBefore) / n;

  const target = `com.bench.tool-${Math.floor(n / 2)}`;
  await registry.resolve('tool', target); // builds the lookup once
  const perCall = [];
  for (let round = 0; round < 7; round++) {
    const calls = 2000;
    start = performance.now();
    for (let i = 0; i < calls; i++) await registry.resolve('tool', target);
    perCall.push(((performance.now() - start) / calls) * 1000);
  }
  start = performance.now();
  const found = await registry.search('k42');
  const firstSearchMs = performance.now() - start;
  if (found.length === 0) throw new Error('search');
  const searches = [];
  for (let round = 0; round < 7; round++) {
    start = performance.now();
    await registry.search(`tool ${round}`);
    searches.push(performance.now() - start);
  }
  const searchMs = median(searches);
  await registry.close();
  rows.push({ n, parseMs, listMs, perEntry, resolveUs: median(perCall), firstSearchMs, searchMs });
}

const base = rows[0];
console.log('file registry of N entries, fresh cache; resolve() per call is the median of 7 rounds of 2,000 calls');
console.log(
  'N'.padStart(8),
  'JSON.parse ms'.padStart(14),
  'cold list ms'.padStart(13),
  'list/parse'.padStart(11),
  'heap B/entry'.padStart(13),
  'resolve µs'.padStart(11),
  `vs N=${base.n}`.padStart(10),
  '1st search'.padStart(11),
  'search ms'.padStart(10),
);
for (const r of rows) {
  console.log(
    String(r.n).padStart(8),
    r.parseMs.toFixed(1).padStart(14),
    r.listMs.toFixed(1).padStart(13),
    `${(r.listMs / r.parseMs).toFixed(1)}x`.padStart(11),
    (globalThis.gc ? r.perEntry.toFixed(0) : 'n/a').padStart(13),
    r.resolveUs.toFixed(1).padStart(11),
    `${(r.resolveUs / base.resolveUs).toFixed(2)}x`.padStart(10),
    r.firstSearchMs.toFixed(1).padStart(11),
    r.searchMs.toFixed(1).padStart(10),
  );
}
console.log('goals: resolve constant in N and under 50 µs at 100,000; cold list linear; under 1 KiB of heap per entry; search under 50 ms at 100,000');
await rm(work, { recursive: true, force: true });
