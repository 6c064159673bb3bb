import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, createGitRepo, type GitHubEmulator, type GitRepo, makeTempDir, startGitHubEmulator } from '../src/index.js';

const run = promisify(execFile);
const cleanup = new Cleanup();
const TOKEN = 'ghp_emulatorTestToken0123456789abcdef';
const INDEX = '{"version":"1.0.0","extensions":{"curated":[]}}\n';
let tmp: string;
let publicRepo: GitRepo;
let privateRepo: GitRepo;
let emulator: GitHubEmulator;

const SHA_MEDIA = 'application/vnd.github.sha';

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  publicRepo = await cleanup.add(
    createGitRepo(
      {
        'registry.json': INDEX,
        'registry/curated/tool/manifest.json': '{"id":"tool"}\n',
        'registry/curated/tool/bin/run.sh': '#!/bin/sh\necho hi\n',
        'registry/curated/tool/pixel.bin': new Uint8Array([0, 13, 10, 255]),
      },
      { root: tmp, name: 'extensions', branches: ['production'] },
    ),
  );
  privateRepo = await cleanup.add(createGitRepo({ 'registry.json': INDEX }, { root: tmp, name: 'private-extensions' }));
  emulator = await cleanup.add(
    startGitHubEmulator({
      repos: { 'your-org/extensions': { path: publicRepo.path }, 'your-org/private-repo': { path: privateRepo.path, private: true } },
      tokens: [TOKEN],
    }),
  );
});
afterAll(() => cleanup.run());

const get = (url: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(url, { headers, ...init });

/** The entries of a gzip tarball, via the system tar. */
async function tarEntries(bytes: ArrayBuffer): Promise<string[]> {
  const file = path.join(tmp, `archive-${Math.random().toString(36).slice(2)}.tar.gz`);
  await writeFile(file, Buffer.from(bytes));
  const { stdout } = await run('tar', ['-tzf', file]);
  return stdout.split('\n').filter(Boolean).sort();
}

describe('startGitHubEmulator', () => {
  it("serves a repository with GitHub's shape, an ETag, and a free 304", async () => {
    const res = await get(`${emulator.apiUrl}/repos/your-org/extensions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ full_name: 'your-org/extensions', private: false, default_branch: 'main', visibility: 'public' });
    expect(body.html_url).toBe(`${emulator.webUrl}/your-org/extensions`);
    const etag = res.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    expect(res.headers.get('x-ratelimit-limit')).toBe('60');
    expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    const remaining = Number(res.headers.get('x-ratelimit-remaining'));

    const again = await get(`${emulator.apiUrl}/repos/your-org/extensions`, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(Number(again.headers.get('x-ratelimit-remaining'))).toBe(remaining);
    expect(emulator.rateLimit().remaining).toBe(remaining);
    expect(emulator.requests.at(-1)).toMatchObject({ origin: 'api', status: 304, conditional: true, authorization: false });
  });

  it('resolves commits by branch, tag and sha, and as a bare sha with the sha media type', async () => {
    const byBranch = await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/production`, { accept: SHA_MEDIA });
    expect(byBranch.status).toBe(200);
    expect(await byBranch.text()).toBe(publicRepo.initialCommit);
    const etag = byBranch.headers.get('etag') ?? '';
    expect((await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/production`, { accept: SHA_MEDIA, 'if-none-match': etag })).status).toBe(304);

    const next = await publicRepo.commit('production', { 'registry.json': '{"version":"1.0.1"}\n' }, { overlay: true });
    const moved = await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/production`, { accept: SHA_MEDIA, 'if-none-match': etag });
    expect(moved.status).toBe(200);
    expect(await moved.text()).toBe(next);

    const full = (await (await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/${next}`)).json()) as {
      sha: string;
      parents: Array<{ sha: string }>;
      commit: { tree: { sha: string }; author: { date: string } };
    };
    expect(full.sha).toBe(next);
    expect(full.parents.map((p) => p.sha)).toEqual([publicRepo.initialCommit]);
    expect(full.commit.tree.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(full.commit.author.date).toMatch(/Z$/);

    const missing = await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/no-such-branch`);
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { message: string }).message).toBe('No commit found for SHA: no-such-branch');
    const expression = await get(`${emulator.apiUrl}/repos/your-org/extensions/commits/main~1`);
    expect(expression.status).toBe(422);
    await expression.arrayBuffer();
  });

  it("answers tarball requests with a 302 to the archive origin, which serves git archive with GitHub's prefix", async () => {
    const redirect = await get(`${emulator.apiUrl}/repos/your-org/extensions/tarball/main`, {}, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location') ?? '';
    expect(location).toBe(`${emulator.archiveUrl}/your-org/extensions/legacy.tar.gz/main`);
    const archive = await get(location);
    expect(archive.status).toBe(200);
    expect(archive.headers.get('content-type')).toBe('application/x-gzip');
    const prefix = `your-org-extensions-${publicRepo.initialCommit.slice(0, 7)}/`;
    expect(await tarEntries(await archive.arrayBuffer())).toEqual(
      [
        '',
        'registry.json',
        'registry/',
        'registry/curated/',
        'registry/curated/tool/',
        'registry/curated/tool/bin/',
        'registry/curated/tool/bin/run.sh',
        'registry/curated/tool/manifest.json',
        'registry/curated/tool/pixel.bin',
      ].map((entry) => prefix + entry),
    );
    expect(emulator.requests.at(-1)).toMatchObject({ origin: 'archive', method: 'GET', status: 200, path: '/your-org/extensions/legacy.tar.gz/main' });
    expect((await get(`${emulator.apiUrl}/repos/your-org/extensions/tarball/nope`, {}, { redirect: 'manual' })).status).toBe(404);
  });

  it('hides a private repository without a valid token, and gives its archive a one-time token of its own', async () => {
    const hidden = await get(`${emulator.apiUrl}/repos/your-org/private-repo`);
    expect(hidden.status).toBe(404);
    expect(await hidden.json()).toMatchObject({ message: 'Not Found', status: '404' });

    const seen = await get(`${emulator.apiUrl}/repos/your-org/private-repo`, { authorization: `token ${TOKEN}` });
    expect(seen.status).toBe(200);
    expect(seen.headers.get('x-ratelimit-limit')).toBe('5000');
    expect(await seen.json()).toMatchObject({ private: true, visibility: 'private' });
    const bearer = await get(`${emulator.apiUrl}/repos/your-org/private-repo`, { authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(200);
    await bearer.arrayBuffer();

    const redirect = await get(`${emulator.apiUrl}/repos/your-org/private-repo/tarball/main`, { authorization: `token ${TOKEN}` }, { redirect: 'manual' });
    const location = new URL(redirect.headers.get('location') ?? '');
    expect(location.origin).toBe(emulator.archiveUrl);
    expect(location.searchParams.get('token')).toMatch(/^[\w-]{20,}$/);
    const withoutGrant = await get(`${location.origin}${location.pathname}`);
    expect(withoutGrant.status).toBe(404);
    await withoutGrant.arrayBuffer();
    const archive = await get(location.href);
    expect(archive.status).toBe(200);
    await archive.arrayBuffer();
    const logged = emulator.requests.at(-1)!;
    expect(logged).toMatchObject({ origin: 'archive', status: 200, authorization: false, query: 'token=***' });
    expect(JSON.stringify(emulator.requests)).not.toContain(TOKEN);
    expect(JSON.stringify(emulator.requests)).not.toContain(location.searchParams.get('token'));
  });

  it('answers 401 Bad credentials to an invalid token, even for a public repository', async () => {
    const res = await get(`${emulator.apiUrl}/repos/your-org/extensions`, { authorization: 'token ghp_wrong' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'Bad credentials' });
    expect(emulator.requests.at(-1)).toMatchObject({ status: 401, authorization: true });
  });

  it('serves trees, blobs (JSON and raw) and contents', async () => {
    const tree = (await (await get(`${emulator.apiUrl}/repos/your-org/extensions/git/trees/main?recursive=1`)).json()) as {
      truncated: boolean;
      tree: Array<{ path: string; mode: string; type: string; sha: string; size?: number }>;
    };
    expect(tree.truncated).toBe(false);
    const run = tree.tree.find((item) => item.path === 'registry/curated/tool/bin/run.sh');
    expect(run).toMatchObject({ mode: '100644', type: 'blob', size: 18 });
    expect(tree.tree.find((item) => item.path === 'registry/curated')).toMatchObject({ type: 'tree', mode: '040000' });
    const top = (await (await get(`${emulator.apiUrl}/repos/your-org/extensions/git/trees/main`)).json()) as { tree: Array<{ path: string }> };
    expect(top.tree.map((item) => item.path)).toEqual(['registry.json', 'registry']); // git's order: a tree sorts as 'registry/'

    const pixel = tree.tree.find((item) => item.path.endsWith('pixel.bin'))!;
    const raw = await get(`${emulator.apiUrl}/repos/your-org/extensions/git/blobs/${pixel.sha}`, { accept: 'application/vnd.github.raw' });
    expect([...new Uint8Array(await raw.arrayBuffer())]).toEqual([0, 13, 10, 255]);
    const blob = (await (await get(`${emulator.apiUrl}/repos/your-org/extensions/git/blobs/${pixel.sha}`)).json()) as { content: string; encoding: string };
    expect(blob.encoding).toBe('base64');
    expect([...Buffer.from(blob.content, 'base64')]).toEqual([0, 13, 10, 255]);

    const file = await get(`${emulator.apiUrl}/repos/your-org/extensions/contents/registry.json?ref=main`, { accept: 'application/vnd.github.raw+json' });
    expect(await file.text()).toBe(INDEX);
    const dir = (await (await get(`${emulator.apiUrl}/repos/your-org/extensions/contents/registry/curated/tool`)).json()) as Array<{
      name: string;
      type: string;
      path: string;
    }>;
    expect(dir.map((item) => `${item.type} ${item.path}`)).toEqual([
      'dir registry/curated/tool/bin',
      'file registry/curated/tool/manifest.json',
      'file registry/curated/tool/pixel.bin',
    ]);
    expect((await get(`${emulator.apiUrl}/repos/your-org/extensions/contents/nope.json`)).status).toBe(404);
  });

  it('runs out of its primary rate limit with 403 and the documented message, and throttles on demand', async () => {
    const repo = await cleanup.add(createGitRepo({ 'registry.json': INDEX }, { root: tmp, name: 'limited' }));
    const limited = await cleanup.add(startGitHubEmulator({ repos: { 'o/limited': { path: repo.path } }, rateLimit: { limit: 60, remaining: 2 } }));
    const url = `${limited.apiUrl}/repos/o/limited`;
    const first = await get(url);
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect(first.headers.get('x-ratelimit-used')).toBe('59');
    await first.arrayBuffer();
    await (await get(url)).arrayBuffer();
    const out = await get(url);
    expect(out.status).toBe(403);
    expect(out.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(out.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(((await out.json()) as { message: string }).message).toMatch(
      /^API rate limit exceeded for 127\.0\.0\.1\. .*Authenticated requests get a higher rate limit/,
    );

    limited.setRateLimit({ remaining: 10 });
    limited.injectSecondaryRateLimit({ times: 2, status: 429, retryAfter: 3 });
    const throttled = await get(url);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('3');
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('10');
    expect(((await throttled.json()) as { message: string }).message).toContain('secondary rate limit');
    expect((await get(url)).status).toBe(429);
    const ok = await get(url);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();

    limited.injectServerError({ status: 503 });
    expect((await get(url)).status).toBe(503);
  });

  it('serves the API under /api/v3 like GitHub Enterprise Server', async () => {
    const ghes = await cleanup.add(startGitHubEmulator({ repos: { 'corp/extensions': { path: publicRepo.path } }, apiPrefix: '/api/v3' }));
    expect(ghes.apiUrl).toBe(`${ghes.webUrl}/api/v3`);
    const res = await get(`${ghes.apiUrl}/repos/corp/extensions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { url: string; html_url: string };
    expect(body.url).toBe(`${ghes.apiUrl}/repos/corp/extensions`);
    expect(body.html_url).toBe(`${ghes.webUrl}/corp/extensions`);
    expect((await get(`${ghes.webUrl}/repos/corp/extensions`)).status).toBe(404);
  });

  it('extracts with the shape of a real GitHub tarball (files, modes, bytes)', async () => {
    const res = await get(`${emulator.apiUrl}/repos/your-org/extensions/tarball/${publicRepo.initialCommit}`);
    expect(res.url.startsWith(emulator.archiveUrl)).toBe(true);
    const file = path.join(tmp, 'full.tar.gz');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const out = path.join(tmp, 'extracted');
    await mkdir(out);
    await run('tar', ['-xzf', file, '-C', out, '--strip-components=1']);
    expect(await readFile(path.join(out, 'registry.json'), 'utf8')).toBe(INDEX);
    expect([...(await readFile(path.join(out, 'registry/curated/tool/pixel.bin')))]).toEqual([0, 13, 10, 255]);
  });
});
