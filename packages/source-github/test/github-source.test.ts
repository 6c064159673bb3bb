import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type GitHubEmulator, type GitHubEmulatorOptions, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { failure, registryFiles, TestBed } from './support/registry-repo.js';

const TOKEN = 'ghp_sourceGithubTestToken0123456789';
let bed: TestBed;
let served = 0;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

/** A repository with `entries` tools served by a fresh emulator as `your-org/extensions`. */
async function serve(entries = 2, options: Partial<GitHubEmulatorOptions> & { private?: boolean } = {}) {
  const repo = await bed.repo(registryFiles(entries), `extensions-${++served}`, ['production']);
  const { private: isPrivate, ...rest } = options;
  const emulator = await bed.cleanup.add(
    startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: isPrivate ?? false } }, tokens: [TOKEN], ...rest }),
  );
  return { repo, emulator };
}

const api = (emulator: GitHubEmulator) => emulator.requests.filter((r) => r.origin === 'api');
const archive = (emulator: GitHubEmulator) => emulator.requests.filter((r) => r.origin === 'archive');
const summary = (emulator: GitHubEmulator) => emulator.requests.map((r) => `${r.origin} ${r.status} ${r.path.replace(/^\/api\/v3/, '')}`);

describe('github source through core', () => {
  test("the page's public config: list and fetch, one tarball for the index and every entry", async () => {
    const { repo, emulator } = await serve(3);
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl });
    expect((await registry.list()).map((row) => row.id).sort()).toEqual(['com.example.tool-0', 'com.example.tool-1', 'com.example.tool-2']);
    const fetched = await Promise.all([0, 1, 2].map((i) => registry.fetch('tool', `com.example.tool-${i}`)));
    expect(await readFile(join(fetched[2]!.dir, 'src/index.js'), 'utf8')).toBe("export const version = '1.0.0';\nexport const index = 2;\n");
    expect(fetched[0]!.provenance).toMatchObject({ revision: repo.initialCommit });
    expect(summary(emulator)).toEqual([
      'api 200 /repos/your-org/extensions/commits/main',
      'api 302 /repos/your-org/extensions/tarball/' + repo.initialCommit,
      `archive 200 /your-org/extensions/legacy.tar.gz/${repo.initialCommit}`,
    ]);
  });

  test('the default branch is asked once when no branch is configured, and remembered for revalidation', async () => {
    const { emulator } = await serve(1);
    const cacheDir = join(await bed.dir(), 'shared-cache');
    const first = await bed
      .registry({ location: 'https://github.com/your-org/extensions', baseUrl: emulator.apiUrl, cacheDuration: 0 }, { cacheDir })
      .catch((e) => e);
    // A github.com URL with a baseUrl of another server is a contradiction, reported up front.
    expect((first as { code?: string }).code).toBe('E_CONFIG');

    const registry = await bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl, cacheDuration: 0 }, { cacheDir });
    await registry.fetch('tool', 'com.example.tool-0');
    expect(summary(emulator).slice(0, 2)).toEqual(['api 200 /repos/your-org/extensions', 'api 200 /repos/your-org/extensions/commits/main']);
    emulator.clearRequests();
    // A new instance (a new process, in effect) revalidates with one conditional request, default branch included.
    const again = await bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl, cacheDuration: 0 }, { cacheDir });
    await again.list();
    expect(summary(emulator)).toEqual(['api 304 /repos/your-org/extensions/commits/main']);
  });

  test('an unchanged branch revalidates with exactly one 304, and a new commit is seen', async () => {
    const { repo, emulator } = await serve(2);
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl, cacheDuration: 0 });
    await registry.fetch('tool', 'com.example.tool-0');
    const remaining = emulator.rateLimit().remaining;
    emulator.clearRequests();

    expect(await registry.list()).toHaveLength(2);
    expect(emulator.requests).toHaveLength(1);
    expect(emulator.requests.filter((r) => r.status === 304)).toEqual([
      expect.objectContaining({ origin: 'api', method: 'GET', path: '/repos/your-org/extensions/commits/main', conditional: true }),
    ]);
    // A 304 is free on GitHub.
    expect(emulator.rateLimit().remaining).toBe(remaining);

    const next = await repo.commit('main', registryFiles(3, { version: '1.1.0' }));
    emulator.clearRequests();
    expect(await registry.list()).toHaveLength(3);
    const fetched = await registry.fetch('tool', 'com.example.tool-2');
    expect(fetched.version).toBe('1.1.0');
    expect(fetched.provenance).toMatchObject({ revision: next });
    expect(summary(emulator)).toEqual([
      'api 200 /repos/your-org/extensions/commits/main',
      `api 302 /repos/your-org/extensions/tarball/${next}`,
      `archive 200 /your-org/extensions/legacy.tar.gz/${next}`,
      // cacheDuration 0: the fetch revalidates again, and the branch has not moved since.
      'api 304 /repos/your-org/extensions/commits/main',
    ]);
  });

  test('branch and sha: a branch serves its own tip, a sha serves that commit', async () => {
    const { repo, emulator } = await serve(1);
    const production = await repo.commit('production', registryFiles(2, { version: '2.0.0' }));
    const onProduction = await bed.registry({ location: 'your-org/extensions', branch: 'production', baseUrl: emulator.apiUrl });
    expect((await onProduction.fetch('tool', 'com.example.tool-1')).version).toBe('2.0.0');
    const pinned = await bed.registry({ location: 'your-org/extensions', branch: repo.initialCommit, baseUrl: emulator.apiUrl });
    const rows = await pinned.list();
    expect(rows.map((row) => `${row.id}@${row.version}`)).toEqual(['com.example.tool-0@1.0.0']);
    expect((await pinned.fetch('tool', 'com.example.tool-0')).provenance).toMatchObject({ revision: repo.initialCommit });
    expect(production).not.toBe(repo.initialCommit);

    const missing = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'nope', baseUrl: emulator.apiUrl })).list());
    expect(missing.code).toBe('E_NOT_FOUND');
    expect(missing.message).toContain("no branch, tag or commit 'nope'");
  });

  test("the page's private config: 404 without a token says private repositories need one; with it everything works", async () => {
    const { emulator } = await serve(2, { private: true });
    const anonymous = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl })).list());
    expect(anonymous.code).toBe('E_NOT_FOUND');
    expect(anonymous.registry).toBe('custom');
    expect(anonymous.message).toContain('private repositories need a `token`');

    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', token: TOKEN, baseUrl: emulator.apiUrl });
    expect((await registry.fetch('tool', 'com.example.tool-1')).manifest.id).toBe('com.example.tool-1');
  });

  test('the token reaches the API origin only: no request to the archive origin carries an Authorization header', async () => {
    const { emulator } = await serve(2, { private: true });
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', token: TOKEN, baseUrl: emulator.apiUrl, cacheDuration: 0 });
    await registry.fetch('tool', 'com.example.tool-0');
    await registry.fetch('tool', 'com.example.tool-1');
    await registry.list();
    expect(api(emulator).length).toBeGreaterThan(0);
    expect(api(emulator).every((r) => r.authorization)).toBe(true);
    expect(archive(emulator)).toHaveLength(1);
    expect(archive(emulator).map((r) => ({ authorization: r.authorization, status: r.status }))).toEqual([{ authorization: false, status: 200 }]);
  });

  test('a wrong token is E_AUTH, and the token shows in no message', async () => {
    const { emulator } = await serve(1);
    const error = await failure(
      (await bed.registry({ location: 'your-org/extensions', token: 'ghp_wrongToken000000000000', baseUrl: emulator.apiUrl })).list(),
    );
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('Check that the token is valid');
    expect(JSON.stringify(error.toJSON())).not.toContain('ghp_wrongToken000000000000');
  });

  test('an exhausted rate limit is E_RATE_LIMIT saying when it resets and that a token raises it; a 403 is not retried', async () => {
    const reset = new Date(Date.now() + 25 * 60_000);
    const { emulator } = await serve(1, { rateLimit: { remaining: 0, reset } });
    const error = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl })).list());
    expect(error.code).toBe('E_RATE_LIMIT');
    expect(error.message).toContain(new Date(Math.floor(reset.getTime() / 1000) * 1000).toISOString());
    expect(error.message).toContain('Configure a `token`');
    expect(error.message).toContain('from 60 to 5,000 requests per hour');
    expect(emulator.requests).toHaveLength(1);

    const with429 = await serve(1, { rateLimit: { remaining: 0 }, rateLimitStatus: 429 });
    const limited = await failure(
      (await bed.registry({ location: 'your-org/extensions', branch: 'main', token: TOKEN, baseUrl: with429.emulator.apiUrl })).list(),
    );
    expect(limited.code).toBe('E_RATE_LIMIT');
    expect(limited.message).toContain('belongs to the token');
    // Bounded: core's client re-sends a 429 within its retry budget (2) before the source sees it. It could skip those
    // when `x-ratelimit-remaining` is 0 without `retry-after`; that is core's call (requested), not the source's.
    expect(with429.emulator.requests.length).toBeLessThanOrEqual(3);
  });

  test('a secondary rate limit is waited out (bounded), and a long or endless one fails without looping', async () => {
    const { emulator } = await serve(1);
    emulator.injectSecondaryRateLimit({ times: 1, retryAfter: 0 });
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl });
    expect(await registry.list()).toHaveLength(1);
    expect(summary(emulator).slice(0, 2)).toEqual(['api 403 /repos/your-org/extensions/commits/main', 'api 200 /repos/your-org/extensions/commits/main']);

    emulator.clearRequests();
    emulator.injectSecondaryRateLimit({ times: 1000, retryAfter: 0, status: 429 });
    const endless = await failure(
      (await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl }, { adapter: { retries: 2 } })).list(),
    );
    expect(endless.code).toBe('E_RATE_LIMIT');
    expect(endless.message).toContain('secondary rate limit');
    expect(emulator.requests.length).toBeLessThanOrEqual(3);

    emulator.clearRequests();
    emulator.injectSecondaryRateLimit({ times: 1, retryAfter: 3600 });
    const long = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl })).list());
    expect(long.code).toBe('E_RATE_LIMIT');
    expect(long.message).toContain('3600 s');
    expect(emulator.requests).toHaveLength(1);
  });

  test('a cached index is served stale when GitHub is rate limited', async () => {
    const { emulator } = await serve(1);
    const warnings: string[] = [];
    const registry = await bed.registry(
      { location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl, cacheDuration: 0 },
      { logger: { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) } },
    );
    await registry.list();
    emulator.setRateLimit({ remaining: 0 });
    const rows = await registry.list();
    expect(rows).toHaveLength(1);
    expect(warnings.some((w) => w.includes('E_RATE_LIMIT'))).toBe(true);
  });

  test('GitHub Enterprise Server: baseUrl with /api/v3, or derived from a URL location on the GHES host', async () => {
    const repo = await bed.repo(registryFiles(2));
    const ghes = await bed.cleanup.add(
      startGitHubEmulator({ repos: { 'corp/agentos-extensions': { path: repo.path, private: true } }, tokens: [TOKEN], apiPrefix: '/api/v3' }),
    );
    const explicit = await bed.registry({ location: 'corp/agentos-extensions', branch: 'main', token: TOKEN, baseUrl: `${ghes.webUrl}/api/v3` });
    expect(await explicit.list()).toHaveLength(2);
    const derived = await bed.registry({ location: `${ghes.webUrl}/corp/agentos-extensions`, token: TOKEN });
    expect((await derived.fetch('tool', 'com.example.tool-1')).manifest.id).toBe('com.example.tool-1');
    const apiPaths = api(ghes).map((r) => r.path);
    expect(apiPaths.every((path) => path.startsWith('/api/v3/repos/corp/agentos-extensions'))).toBe(true);
    expect(archive(ghes).every((r) => !r.authorization)).toBe(true);
  });

  test('a …/tree/<branch>/<folder> location reads the registry from that folder', async () => {
    const repo = await bed.repo({ 'README.md': '# monorepo\n', ...registryFiles(2, { prefix: 'agentos/registry-root' }) }, 'monorepo', ['stable']);
    const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/monorepo': { path: repo.path } } }));
    const registry = await bed.registry({ location: `${emulator.webUrl}/your-org/monorepo/tree/stable/agentos/registry-root`, baseUrl: emulator.apiUrl });
    const fetched = await registry.fetch('tool', 'com.example.tool-1');
    expect(await readFile(join(fetched.dir, 'manifest.json'), 'utf8')).toContain('com.example.tool-1');
    expect(api(emulator).map((r) => r.path)).toContain('/repos/your-org/monorepo/commits/stable');

    const wrong = await failure((await bed.registry({ location: 'your-org/monorepo', subdir: 'nowhere', baseUrl: emulator.apiUrl })).list());
    expect(wrong.code).toBe('E_NOT_FOUND');
    expect(wrong.message).toMatch(/\/your-org\/monorepo\/nowhere has no registry\.json/);
  });

  test('per-entry mode reads the index and one entry through the API, without a tarball', async () => {
    const { emulator } = await serve(3);
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl, mode: 'per-entry' });
    const fetched = await registry.fetch('tool', 'com.example.tool-1');
    expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toBe("export const version = '1.0.0';\nexport const index = 1;\n");
    expect(archive(emulator)).toHaveLength(0);
    expect(api(emulator).some((r) => r.path.includes('/tarball/'))).toBe(false);
    expect(api(emulator).filter((r) => r.path.includes('/git/blobs/'))).toHaveLength(2);
  });

  test('with caching off, entries still come from one tarball and the scratch folder is removed on close', async () => {
    const { emulator } = await serve(2);
    const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl }, { cache: false });
    await registry.fetch('tool', 'com.example.tool-0');
    await registry.fetch('tool', 'com.example.tool-1');
    expect(archive(emulator)).toHaveLength(1);
  });

  test('a server error is E_UNREACHABLE after bounded retries', async () => {
    const { emulator } = await serve(1);
    emulator.injectServerError({ times: 1000, status: 503 });
    const error = await failure(
      (await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl }, { adapter: { retries: 1 } })).list(),
    );
    expect(error.code).toBe('E_UNREACHABLE');
    expect(emulator.requests.length).toBeLessThanOrEqual(4);
  });

  test('bad configs are E_CONFIG naming the field', async () => {
    for (const [config, field] of [
      [{ location: 'not a repo' }, 'location'],
      [{ location: 'o/r', mode: 'zip' }, 'mode'],
      [{ location: 'o/r', baseUrl: 'ftp://x' }, 'baseUrl'],
      [{ location: 'https://github.com/o/r/tree/main/sub', branch: 'dev' }, 'branch'],
      [{ location: 'o/r', subdir: '../up' }, 'subdir'],
    ] as const) {
      const error = await failure(bed.registry(config));
      expect(error.code).toBe('E_CONFIG');
      expect(error.message).toContain(field);
    }
  });
});
