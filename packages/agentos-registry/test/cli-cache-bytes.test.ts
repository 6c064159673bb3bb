/**
 * `cache ls`, `cache clean <registry>` and `cache prune` measured against the bytes really on disk (issue 16): two
 * git registries over HTTP serve the same repository, so each has a mirror in `v1/work` and both reference the same
 * stored content. Sizes are checked with a recursive lstat walk written here, independent of the store's own.
 * Runs the built CLI: `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cleanup, createGitRepo, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

/** Apparent bytes of every file, folder and link under `path` (as `du -sb`), each inode once. */
async function walk(path: string, seen = new Set<string>()): Promise<number> {
  const s = await lstat(path).catch(() => undefined);
  if (!s || seen.has(`${s.dev}:${s.ino}`)) return 0;
  seen.add(`${s.dev}:${s.ino}`);
  if (!s.isDirectory()) return s.size;
  let total = s.size;
  for (const name of await readdir(path)) total += await walk(join(path, name), seen);
  return total;
}

const run = promisify(execFile);
const BIG = 300 * 1024;
let root: string;
let gitUrl: string;
const servers = new Cleanup();
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  // The template registry with an incompressible 300 KiB file in the echo tool, so content dominates the sizes.
  const source = join(root, 'source');
  await cp(templateRegistry, source, { recursive: true });
  await writeFile(join(source, 'registry/curated/echo/blob.bin'), randomBytes(BIG));
  const repos = join(root, 'repos');
  await createGitRepo(source, { root: repos, name: 'extensions' });
  const server = await servers.add(startGitHttpServer({ root: repos }));
  gitUrl = server.repoUrl('extensions');
}, 60_000);
afterAll(async () => {
  await servers.run();
  await cleanup();
});

async function project(name: string, maxAge?: number): Promise<{ dir: string; cache: string }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const cache = join(dir, 'cache');
  const registry = { type: 'git', location: gitUrl, branch: 'main' };
  await writeFile(
    join(dir, 'agentos-registry.config.json'),
    JSON.stringify({ registries: { a: registry, b: registry }, cacheSettings: { directory: cache, ...(maxAge ? { maxAge } : {}) } }),
  );
  return { dir, cache };
}

async function ok(argv: string[], cwd: string) {
  const result = await runBuilt(argv, { cwd });
  expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
}

describe('cache sizes are the bytes on disk', () => {
  it('ls counts every byte (work folders too) and shared content once; clean <registry> frees what it says; the last user frees the content', async () => {
    const { dir, cache } = await project('sizes');
    await ok(['fetch', 'a:com.example.echo'], dir);
    await ok(['fetch', 'b:com.example.echo'], dir);

    const ls = JSON.parse((await ok(['cache', 'ls', '--json'], dir)).stdout);
    const onDisk = await walk(cache);
    expect(ls.bytes).toBe(onDisk);
    // The yardstick: GNU du's apparent size of the folder, within 5 %.
    const du = Number((await run('du', ['-sb', cache])).stdout.split('\t')[0]);
    expect(Math.abs(ls.bytes - du) / du).toBeLessThan(0.05);
    const rows = ls.registries as Array<{ registry: string; bytes: number; workBytes: number; sharedBytes: number }>;
    expect(rows.map((r) => r.registry).sort()).toEqual(['a', 'b']);
    for (const row of rows) {
      // Each registry's git mirror is in v1/work and counted; the echo content both reference is shared, not its own.
      expect(row.workBytes).toBeGreaterThan(BIG);
      expect(row.sharedBytes).toBeGreaterThan(BIG);
    }
    // The shared content is counted once: the rows, the shared bytes and the rest add up to the folder.
    expect(ls.sharedBytes).toBeGreaterThan(BIG);
    expect(ls.sharedBytes).toBeLessThan(2 * BIG);
    expect(rows.reduce((n, r) => n + r.bytes, 0) + ls.sharedBytes + ls.otherBytes).toBe(onDisk);
    const text = (await ok(['cache', 'ls'], dir)).stdout;
    expect(text).toContain('shared by several registries:');
    expect(text).toContain(`in ${cache}`);

    const contentDirs = async () => readdir(join(cache, 'v1', 'content')).catch(() => []);
    expect(await contentDirs()).toHaveLength(1);

    const cleanA = JSON.parse((await ok(['cache', 'clean', 'a', '--json'], dir)).stdout);
    const afterA = await walk(cache);
    expect(cleanA.freedBytes).toBe(onDisk - afterA);
    expect(cleanA.freedBytes).toBeGreaterThan(BIG); // a's mirror
    expect(await contentDirs()).toHaveLength(1); // b still references the content

    const cleanB = JSON.parse((await ok(['cache', 'clean', 'b', '--json'], dir)).stdout);
    const afterB = await walk(cache);
    expect(cleanB.freedBytes).toBe(afterA - afterB);
    expect(cleanB.freedBytes).toBeGreaterThan(2 * BIG); // b's mirror and the content nobody references now
    expect(await contentDirs()).toEqual([]);
    expect(await walk(join(cache, 'v1', 'work'))).toBeLessThan(8192);
    const text2 = (await ok(['cache', 'clean', 'b'], dir)).stdout;
    expect(text2).toBe('nothing cached for "b"\n');
  }, 120_000);

  it('prune removes content and work folders nothing references', async () => {
    const { dir, cache } = await project('prune', 1);
    await ok(['fetch', 'a:com.example.echo'], dir);
    // What an older `cache clean a` left behind: the index and refs gone, the content and mirror still there.
    await rm(join(cache, 'v1', 'indexes'), { recursive: true });
    await rm(join(cache, 'v1', 'refs'), { recursive: true });
    const before = await walk(cache);
    expect(before).toBeGreaterThan(2 * BIG);
    const pruned = JSON.parse((await ok(['cache', 'prune', '--json'], dir)).stdout);
    expect(pruned.removed).toMatchObject({ contents: 1, work: 1 });
    expect(await readdir(join(cache, 'v1', 'content'))).toEqual([]);
    expect(await readdir(join(cache, 'v1', 'work'))).toEqual([]);
    expect(await walk(cache)).toBeLessThan(before - 2 * BIG);
  }, 120_000);
});
