/**
 * Snapshots (contract v2) attacked through the built-in GitHub source in tarball mode, against the GitHub emulator
 * on 127.0.0.1: a private repository whose tarball holds a link out of the registry, and a config whose subdir climbs
 * out. Each: the error code, the token in no message and no cache file, the cache byte for byte as before.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { createGitRepo, type GitHubEmulator, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRegistry } from '../src/index.js';
import { scratch } from './helpers.js';

const TOKEN = 'ghp_hostileSnapshotToken0123456789abcdef';

const files: Record<string, string> = {
  'registry.json': JSON.stringify({
    version: '1.0.0',
    updated: '2024-11-14T00:00:00.000Z',
    categories: { curated: ['tools'], community: [] },
    extensions: { curated: [{ id: 'com.test.echo', name: 'Echo', version: '1.0.0', path: 'curated/echo' }], community: [] },
    personas: { curated: [] },
  }),
  'registry/curated/echo/manifest.json': JSON.stringify({ id: 'com.test.echo', name: 'Echo', version: '1.0.0' }),
};

async function tree(dir: string, extra: (dir: string) => Promise<void>): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await extra(dir);
  return dir;
}

async function hashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) out.set(path, `link ${await readlink(path)}`);
    else if (entry.isFile())
      out.set(
        path,
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
  }
  return out;
}

let emulator: GitHubEmulator;
let work: Awaited<ReturnType<typeof scratch>>;

beforeAll(async () => {
  work = await scratch();
  const linkOut = await tree(join(work.dir, 'link-out'), async (dir) => {
    await symlink('/etc/passwd', join(dir, 'registry/curated/echo/passwd'));
  });
  const folderOut = await tree(join(work.dir, 'folder-out'), async (dir) => {
    await symlink('/etc', join(dir, 'registry/community'));
  });
  const plain = await tree(join(work.dir, 'plain'), async () => {});
  emulator = await startGitHubEmulator({
    tokens: [TOKEN],
    repos: {
      'evil/link-out': { path: (await createGitRepo(linkOut, { root: join(work.dir, 'repos'), name: 'link-out' })).path, private: true },
      'evil/folder-out': { path: (await createGitRepo(folderOut, { root: join(work.dir, 'repos'), name: 'folder-out' })).path, private: true },
      'evil/plain': { path: (await createGitRepo(plain, { root: join(work.dir, 'repos'), name: 'plain' })).path, private: true },
    },
  });
});

afterAll(async () => {
  await emulator?.close();
  await work?.cleanup();
});

async function attempt(location: string, use: 'list' | 'fetch', extra: Record<string, unknown> = {}) {
  const cache = join(work.dir, `cache-${Math.random().toString(36).slice(2)}`);
  await mkdir(cache);
  const before = await hashes(cache);
  let error: unknown;
  try {
    const registry = await createRegistry(
      {
        registries: { evil: { type: 'github', location, branch: 'main', baseUrl: emulator.apiUrl, token: TOKEN, allowInsecure: true, retries: 0, ...extra } },
        defaultRegistries: { tool: 'evil', persona: 'evil' },
        cacheSettings: { directory: cache },
      },
      { env: {} },
    );
    try {
      if (use === 'list') await registry.list();
      else await registry.fetch('tool', 'com.test.echo');
    } catch (thrown) {
      error = thrown;
    } finally {
      await registry.close();
    }
  } catch (thrown) {
    error = thrown;
  }
  const after = await hashes(cache);
  for (const path of after.keys()) expect(await readFile(path, 'latin1'), path).not.toContain(TOKEN);
  return { error: error as Error & { code?: string }, before, after, cache };
}

describe('GitHub tarball snapshots from a hostile repository', () => {
  test('an entry file linked to /etc/passwd: E_UNSAFE_PATH, no token anywhere, nothing of the entry stored', async () => {
    const { error, after, cache } = await attempt('evil/link-out', 'fetch');
    expect(isRegistryError(error)).toBe(true);
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(`${error.message}${String(error.cause)}${error.stack}`).not.toContain(TOKEN);
    expect([...after.keys()].filter((path) => path.startsWith(join(cache, 'v1', 'content')))).toEqual([]);
    expect(emulator.requests.some((request) => request.origin === 'archive')).toBe(true);
  });

  test('a registry folder linked to /etc: E_UNSAFE_PATH, the cache as before', async () => {
    const { error, before, after } = await attempt('evil/folder-out', 'list');
    expect(error?.code).toBe('E_UNSAFE_PATH');
    expect(`${error.message}${error.stack}`).not.toContain(TOKEN);
    const added = [...after.keys()].filter((path) => !before.has(path) && !path.endsWith('.lock') && !/[/\\]trust[/\\]/.test(path));
    expect(added).toEqual([]);
  });

  for (const subdir of ['..', '../other', '/etc']) {
    test(`subdir ${JSON.stringify(subdir)} is refused, naming the field, never reaching outside`, async () => {
      const { error, after } = await attempt('evil/plain', 'list', { subdir });
      expect(isRegistryError(error)).toBe(true);
      expect(error.message).toContain('subdir');
      expect(error.message).not.toContain(TOKEN);
      if (subdir.startsWith('/')) {
        // Taken as the repository's folder "etc" (a leading slash is the repository root): nothing outside is read,
        // and the snapshot of that (empty) folder has no registry.json.
        expect(error.code).toBe('E_NOT_FOUND');
        return;
      }
      expect(['E_CONFIG', 'E_UNSAFE_PATH']).toContain(error.code);
      expect([...after.keys()].filter((path) => /snapshots[/\\][0-9a-f]{32}/.test(path))).toEqual([]);
    });
  }

  test('the plain repository works in tarball mode (the attacks above are refused for what they are)', async () => {
    const { error, after } = await attempt('evil/plain', 'fetch');
    expect(error).toBeUndefined();
    expect([...after.keys()].some((path) => /snapshots[/\\][0-9a-f]{32}[/\\]registry\.json$/.test(path))).toBe(true);
  });
});
