/**
 * Hostile review: git trees `git add` never makes (commitRawTree), served over real git HTTP, fetched by both engines.
 * Every hostile tree must end in a RegistryError with a stable code (E_UNSAFE_PATH for a tree core refuses), with
 * nothing written outside the cache and no outside byte read.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, isRegistryError } from '@agentos-registry/core';
import {
  Cleanup,
  commitRawTree,
  createGitRepo,
  type GitHttpServer,
  type GitRepo,
  makeTempDir,
  type RawTreeItem,
  startGitHttpServer,
} from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gitSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

const cleanup = new Cleanup();
let server: GitHttpServer;
let root: string;
let outside: string;
const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const MANIFEST = json({ id: 'com.corp.t', name: 'T', version: '1.0.0' });
const manifest: RawTreeItem = { name: 'manifest.json', mode: '100644', content: MANIFEST };

/**
 * `isomorphicFails`: isomorphic-git refuses these names itself with its UnsafeFilepathError; the isomorphic engine
 * maps it to E_UNSAFE_PATH, as the native engine (through core's tree writer) says (it was E_INTERNAL).
 * `want: 'any'`: git's own upload-pack cannot pack the tree, so the server fails; any RegistryError will do.
 */
const cases: Array<{ name: string; items: RawTreeItem[]; want: string; isomorphicFails?: true }> = [
  { name: 'a file name longer than NAME_MAX', items: [manifest, { name: 'n'.repeat(300), mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH' },
  {
    name: 'a symlink target longer than PATH_MAX',
    items: [manifest, { name: 'l', mode: '120000', content: `${'a'.repeat(200)}/`.repeat(30) }],
    want: 'E_UNSAFE_PATH',
  },
  { name: 'a symlink target with a NUL', items: [manifest, { name: 'l', mode: '120000', content: 'x\0/../../..' }], want: 'E_UNSAFE_PATH' },
  { name: 'a name ".."', items: [manifest, { name: '..', mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH', isomorphicFails: true },
  { name: 'a name "." (file)', items: [manifest, { name: '.', mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH', isomorphicFails: true },
  { name: 'an empty name', items: [manifest, { name: '', mode: '100644', content: 'x' }], want: 'any' },
  { name: 'a backslash name ..\\..\\x', items: [manifest, { name: '..\\..\\x', mode: '100644', content: 'x' }], want: 'E_UNSAFE_PATH', isomorphicFails: true },
  {
    name: 'a name with / below a symlink of the same name',
    items: [manifest, { name: 'a', mode: '120000', content: 'sub' }, { name: 'sub', mode: '40000', items: [] }, { name: 'a/x', mode: '100644', content: 'x' }],
    want: 'E_UNSAFE_PATH',
    isomorphicFails: true,
  },
  { name: 'a link to the OUTSIDE folder by absolute path', items: [manifest, { name: 'a', mode: '120000', content: 'OUTSIDE' }], want: 'E_UNSAFE_PATH' },
  { name: 'a link to .. at the entry root', items: [manifest, { name: 'a', mode: '120000', content: '..' }], want: 'E_UNSAFE_PATH' },
  { name: 'a link loop', items: [manifest, { name: 'a', mode: '120000', content: 'b' }, { name: 'b', mode: '120000', content: 'a' }], want: 'E_UNSAFE_PATH' },
  {
    name: 'link then file of the same name',
    items: [manifest, { name: 'a', mode: '120000', content: 'manifest.json' }, { name: 'a', mode: '100644', content: 'x' }],
    want: 'E_UNSAFE_PATH',
  },
  {
    name: 'a folder named like a symlink (tree a, link a)',
    items: [manifest, { name: 'a', mode: '40000', items: [{ name: 'x', mode: '100644', content: 'x' }] }, { name: 'a', mode: '120000', content: 'OUTSIDE' }],
    want: 'E_UNSAFE_PATH',
  },
  {
    name: 'case variants A (link to sub) and a/x',
    items: [
      manifest,
      { name: 'A', mode: '120000', content: 'sub' },
      { name: 'a', mode: '40000', items: [{ name: 'x', mode: '100644', content: 'x' }] },
      { name: 'sub', mode: '40000', items: [{ name: 'y', mode: '100644', content: 'y' }] },
    ],
    want: 'resolved',
  },
  {
    name: 'manifest.json as a symlink to an absolute outside file',
    items: [{ name: 'manifest.json', mode: '120000', content: 'OUTSIDE/secret.json' }],
    want: 'E_UNSAFE_PATH',
  },
  {
    name: 'a link into a link chain climbing out (e/d -> .., e/b -> d/.., a -> e/b/x)',
    items: [
      manifest,
      {
        name: 'e',
        mode: '40000',
        items: [
          { name: 'd', mode: '120000', content: '..' },
          { name: 'b', mode: '120000', content: 'd/..' },
        ],
      },
      { name: 'a', mode: '120000', content: 'e/b/x' },
    ],
    want: 'E_UNSAFE_PATH',
  },
];

let repo: GitRepo;
const commits: Record<string, string> = {};

beforeAll(async () => {
  root = (await cleanup.add(makeTempDir('git-review-'))).path;
  outside = join(root, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.json'), json({ id: 'com.corp.t', name: 'TOP-SECRET', version: '1.0.0' }));
  const index = json({
    version: '1.0.0',
    categories: { curated: ['tools'], community: [] },
    extensions: { curated: [{ id: 'com.corp.t', name: 'T', version: '1.0.0', path: 'curated/t', kinds: ['tool'] }] },
  });
  repo = await cleanup.add(createGitRepo({ 'registry.json': index, 'registry/curated/t/manifest.json': MANIFEST }, { root, name: 'review' }));
  for (const [i, c] of cases.entries()) {
    const items = c.items.map((item) => ({ ...item, ...(typeof item.content === 'string' ? { content: item.content.replace('OUTSIDE', outside) } : {}) }));
    // Each case is one commit on the default branch; the registry pins it by sha.
    commits[i] = await commitRawTree(repo, { folder: 'registry/curated/t', items });
  }
  server = await cleanup.add(startGitHttpServer({ root }));
}, 120_000);
afterAll(() => cleanup.run());

describe.each(['native', 'isomorphic'] as const)('hostile git trees (%s engine)', (engine) => {
  for (const [i, c] of cases.entries()) {
    test(`${c.name}: ${c.want}`, async () => {
      const cache = await tempDir('git-review-cache');
      const registry = await createRegistry(
        {
          registries: { hostile: { type: 'git', location: server.repoUrl('review'), engine, branch: commits[i]! } },
          defaultRegistries: { tool: 'hostile' },
          cacheSettings: { directory: cache },
        },
        { sources: [gitSource()], env: {} },
      );
      try {
        const outcome = await registry.fetch('tool', 'com.corp.t').then(
          () => 'resolved',
          (error: unknown) => (isRegistryError(error) ? (c.want === 'any' ? 'any' : error.code) : `raw:${String(error)}`),
        );
        expect(outcome).toBe(c.want);
        expect(await readdir(outside)).toEqual(['secret.json']);
      } finally {
        await registry.close();
      }
    }, 60_000);
  }
});
