/**
 * Issue 11: a git registry whose persona folder holds `d/l` → `..` and `SOUL.md` → `d/l/d/l/…/../../…`: read as text
 * the link stays inside, followed it reaches a file outside. Both engines write entries through core's tree writer,
 * which judges links by where they really lead, so `load('persona')` is `E_UNSAFE_PATH`, never the outside file.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, isRegistryError } from '@agentos-registry/core';
import { Cleanup, commitRawTree, createGitRepo, type GitHttpServer, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gitSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

const cleanup = new Cleanup();
let server: GitHttpServer;
let secret: string;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir('git-hostile-'))).path;
  secret = join(root, 'secret.txt');
  await writeFile(secret, 'TOP-SECRET\n');
  const repo = await cleanup.add(
    createGitRepo(
      {
        'registry.json': json({
          version: '1.0.0',
          categories: { curated: ['personas'], community: [] },
          extensions: { curated: [] },
          personas: { curated: [{ id: 'com.corp.evil', name: 'Evil', version: '1.0.0', path: 'curated/evil' }] },
        }),
        'registry/curated/evil/manifest.json': json({ id: 'com.corp.evil', name: 'Evil', version: '1.0.0' }),
      },
      { root, name: 'hostile-personas' },
    ),
  );
  // 20 `d/l` lead back to the entry folder; the 40 `..` then climb to `/`, and the rest is the secret's path.
  const climbing = `${'d/l/'.repeat(20)}${'../'.repeat(40)}${secret.slice(1)}`;
  await commitRawTree(repo, {
    folder: 'registry/curated/evil',
    items: [
      { name: 'SOUL.md', mode: '120000', content: climbing },
      { name: 'd', mode: '40000', items: [{ name: 'l', mode: '120000', content: '..' }] },
      { name: 'manifest.json', mode: '100644', content: json({ id: 'com.corp.evil', name: 'Evil', version: '1.0.0' }) },
    ],
  });
  server = await cleanup.add(startGitHttpServer({ root }));
}, 60_000);
afterAll(() => cleanup.run());

describe.each(['native', 'isomorphic'] as const)('a persona whose SOUL.md climbs out through links (%s engine)', (engine) => {
  test("load('persona') is E_UNSAFE_PATH and never returns the outside file", async () => {
    const registry = await createRegistry(
      {
        registries: { hostile: { type: 'git', location: server.repoUrl('hostile-personas'), engine } },
        defaultRegistries: { persona: 'hostile' },
        cacheSettings: { directory: await tempDir('git-hostile-cache') },
      },
      { sources: [gitSource()], env: {} },
    );
    try {
      const outcome = await registry.load('persona', 'com.corp.evil').then(
        (loaded) => JSON.stringify(loaded),
        (error: unknown) => error,
      );
      expect(isRegistryError(outcome) && outcome.code).toBe('E_UNSAFE_PATH');
      expect(JSON.stringify(outcome)).not.toContain('TOP-SECRET');
    } finally {
      await registry.close();
    }
  });
});
