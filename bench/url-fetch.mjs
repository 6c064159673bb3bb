#!/usr/bin/env node
// Benchmark (issue 6: source-url). A static site of 200 entries (made by `packRegistry`, served by the static test
// server on 127.0.0.1) fetched cold over keep-alive, against fetching the same 200 tarball URLs with bare
// `undici.request` in the same run. Then: revalidating an unchanged registry, counted in the server's log.
// Goal: ≤ 1.2× for the download path; revalidation = 1 request, answered 304. Prints, never asserts.
// Run with `npm run bench url-fetch.mjs`, or `node bench/url-fetch.mjs` after building core, source-url and
// test-servers.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const dist = (pkg) => join(root, 'packages', pkg, 'dist', 'index.js');
for (const pkg of ['core', 'source-url', 'test-servers']) {
  if (!existsSync(dist(pkg))) {
    console.error(`bench/url-fetch.mjs needs packages/${pkg}/dist: build it first (e.g. npx turbo run build --filter=./packages/${pkg}).`);
    process.exit(1);
  }
}
const { createHttpClient, createRegistry, extractTarball, readSource, silentLogger } = await import(dist('core'));
const { packRegistry, urlSource } = await import(dist('source-url'));
const { startStaticServer } = await import(dist('test-servers'));
// The undici core's HTTP client is built on, so both sides use the same HTTP implementation.
const undici = await import(pathToFileURL(createRequire(join(root, 'packages', 'core', 'package.json')).resolve('undici')).href);
// node-tar, the library core's extractor parses with: extracting with it alone is the floor that core's code adds to.
const tar = await import(pathToFileURL(createRequire(join(root, 'packages', 'core', 'package.json')).resolve('tar')).href);

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const work = await mkdtemp(join(tmpdir(), 'bench-url-'));

// ── a registry of ENTRIES small tools (manifest, package.json, ~8 KB of code), packed into a site ──────────────────
const registryDir = join(work, 'registry');
const index = { version: '1.0.0', extensions: { curated: [], community: [] } };
for (let i = 0; i < ENTRIES; i++) {
  const id = `com.bench.tool-${String(i).padStart(3, '0')}`;
  const dir = join(registryDir, 'registry', 'curated', `tool-${i}`);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify({ id, name: `Tool ${i}`, version: '1.0.0', extensions: [{ kind: 'tool', id: `t${i}`, entry: './src/index.js' }] }, null, 2),
  );
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `@bench/tool-${i}`, version: '1.0.0', type: 'module', main: 'src/index.js' }, null, 2));
  const lines = Array.from({ length: 160 }, (_, n) => `export const value${n} = ${JSON.stringify(`${id}:${n}:${(i * 7919 + n * 104729).toString(36)}`)};`);
  await writeFile(join(dir, 'src', 'index.js'), `${lines.join('\n')}\nexport function createExtensionPack() { return { name: '${id}', descriptors: [] }; }\n`);
  index.extensions.curated.push({ id, name: `Tool ${i}`, version: '1.0.0', path: `curated/tool-${i}` });
}
await writeFile(join(registryDir, 'registry.json'), JSON.stringify(index, null, 2));
const siteDir = join(work, 'site');
const packed = await packRegistry(registryDir, siteDir);
const server = await startStaticServer({ root: siteDir });
const tarballUrls = packed.entries.map((entry) => new URL(entry.tarball, server.url).href);

// ── the contenders ────────────────────────────────────────────────────────────────────────────────────────────────
/** Bare undici: one keep-alive Agent, GET each tarball, read the body. */
async function bare() {
  const agent = new undici.Agent();
  for (const url of tarballUrls) {
    const { statusCode, body } = await undici.request(url, { dispatcher: agent });
    if (statusCode !== 200) throw new Error(`bare GET ${url}: ${statusCode}`);
    await body.arrayBuffer();
  }
  await agent.close();
}

/** Bare undici, then the same extraction the source does: the floor for `materialize`. */
async function bareExtract() {
  const agent = new undici.Agent();
  const out = await mkdtemp(join(work, 'bare-'));
  for (const [i, url] of tarballUrls.entries()) {
    const { statusCode, body } = await undici.request(url, { dispatcher: agent });
    if (statusCode !== 200) throw new Error(`bare GET ${url}: ${statusCode}`);
    await extractTarball(new Uint8Array(await body.arrayBuffer()), join(out, String(i)), { strip: 1 });
  }
  await agent.close();
  await rm(out, { recursive: true, force: true });
}

/**
 * Bare undici, then node-tar's own extractor: a floor that does not depend on core's code, so a change to core's
 * extractor shows in the ratio instead of moving the floor with it.
 */
async function bareTar() {
  const agent = new undici.Agent();
  const out = await mkdtemp(join(work, 'bare-tar-'));
  for (const [i, url] of tarballUrls.entries()) {
    const { statusCode, body } = await undici.request(url, { dispatcher: agent });
    if (statusCode !== 200) throw new Error(`bare GET ${url}: ${statusCode}`);
    const bytes = Buffer.from(await body.arrayBuffer());
    const destination = join(out, String(i));
    await mkdir(destination, { recursive: true });
    await pipeline(Readable.from([bytes]), (tar.x ? tar : tar.default).x({ cwd: destination, strip: 1 }));
  }
  await agent.close();
  await rm(out, { recursive: true, force: true });
}

/** The source's download path: core's client (one keep-alive pool), the bytes, the sha512 integrity check. */
async function download() {
  const http = createHttpClient({ registry: 'bench', env: {} });
  for (const [i, url] of tarballUrls.entries()) {
    const response = await http.request(url);
    const bytes = await response.bytes();
    if (`sha512-${createHash('sha512').update(bytes).digest('base64')}` !== packed.entries[i].integrity) throw new Error('integrity');
  }
  await http.close();
}

/** The source itself: revision (which brings the index), then every entry (download, verify, extract). */
async function source() {
  const src = urlSource().create({ type: 'url', location: server.url }, { registry: 'bench', baseDir: work, logger: silentLogger, env: {} });
  const ctx = { registry: 'bench', signal: new AbortController().signal, logger: silentLogger, workDir: work };
  // revision() brings the index; each entry is answered with its tarball, which core's reader extracts and checks.
  const revision = await src.revision(ctx);
  const index = JSON.parse(Buffer.from(revision.index).toString('utf8'));
  const raw = new Map(
    Object.values(index.extensions)
      .flat()
      .map((entry) => [entry.id, entry]),
  );
  const read = readSource(src, 'bench');
  const out = await mkdtemp(join(work, 'materialize-'));
  for (const [i, entry] of packed.entries.entries()) {
    const destination = join(out, String(i));
    await mkdir(destination, { recursive: true });
    await read.materialize({ path: entry.path, entry: raw.get(entry.id), revision, destination }, ctx);
  }
  await src.close();
  await rm(out, { recursive: true, force: true });
}

/** Everything, through core: a cold cache, list, then fetch() of every entry (check, hash, store). */
async function throughCore() {
  const cache = await mkdtemp(join(work, 'cache-'));
  const registry = await createRegistry(
    { registries: { hosted: { type: 'url', location: server.url } }, defaultRegistries: { tool: 'hosted' }, cacheSettings: { directory: cache } },
    { sources: [urlSource()], env: {} },
  );
  await registry.list();
  for (const entry of packed.entries) await registry.fetch('tool', entry.id);
  await registry.close();
  await rm(cache, { recursive: true, force: true });
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const contenders = { bare, download, bareExtract, bareTar, source, throughCore };
for (const fn of Object.values(contenders)) await fn(); // warm-up (JIT, page cache)
const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
const order = Object.entries(contenders);
for (let round = 0; round < ROUNDS; round++) {
  // A different contender goes first each round: disk write-back of one round's files then burdens each in turn.
  for (let k = 0; k < order.length; k++) {
    const [name, fn] = order[(round + k) % order.length];
    times[name].push(await time(fn));
  }
}
const ms = Object.fromEntries(Object.entries(times).map(([name, xs]) => [name, median(xs)]));

// ── revalidation of an unchanged registry ────────────────────────────────────────────────────────────────────────
const cache = await mkdtemp(join(work, 'cache-reval-'));
const config = { registries: { hosted: { type: 'url', location: server.url } }, defaultRegistries: { tool: 'hosted' }, cacheSettings: { directory: cache } };
const first = await createRegistry(config, { sources: [urlSource()], env: {} });
await first.list();
await first.close();
const before = server.requests.length;
const again = await createRegistry(config, { sources: [urlSource()], env: {}, refresh: true });
await again.list();
await again.close();
const revalidation = server.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`);

const kib = (packed.bytes / 1024).toFixed(0);
const row = (label, value, note = '') => console.log(`${label.padEnd(54)} ${value.toFixed(1).padStart(8)} ms${note ? `   ${note}` : ''}`);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
console.log(`site: ${ENTRIES} entries, ${kib} KiB of tarballs; static server on 127.0.0.1; keep-alive; medians of ${ROUNDS} rounds`);
row(`bare undici.request of the ${ENTRIES} tarball URLs`, ms.bare);
row("core's client + sha512 check (the source's download)", ms.download, `${ratio(ms.download, ms.bare)} of bare   (goal ≤ 1.2x)`);
row('bare undici.request + extractTarball', ms.bareExtract, 'for information: the floor of materialize');
row('bare undici.request + node-tar x()', ms.bareTar, "a floor independent of core's extractor");
row(
  `source: revision, ${ENTRIES} × materialize`,
  ms.source,
  `${ratio(ms.source, ms.bareExtract)} of bare + extract, ${ratio(ms.source, ms.bareTar)} of bare + node-tar, ${ratio(ms.source, ms.bare)} of bare`,
);
row(
  `core: cold list + ${ENTRIES} × fetch() into the cache`,
  ms.throughCore,
  `${ratio(ms.throughCore, ms.bareExtract)} of bare + extract (adds tree check, hash, atomic store)`,
);
console.log(`revalidation of an unchanged registry: ${revalidation.length} request(s): ${revalidation.join(', ')}   (goal: 1 request, 304)`);

await server.close();
await rm(work, { recursive: true, force: true });
