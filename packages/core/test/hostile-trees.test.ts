/**
 * Issue 11: trees and files a hostile registry hands core. Links are judged by where they really lead (every link on
 * the way followed), one tree writer writes every tree (files first, links last, never through a link), and files of
 * an entry are read only as regular files inside it — a FIFO never hangs the process.
 */
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry, type LoadedExtension, loadPersona, RegistryError, scanTree } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';
import { climbingTarget, mkfifo, settleOrRelease } from './support/hostile.js';

const PEER = '@framers/agentos-like';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

/** A file outside every registry folder, with content that must never show up or change. */
async function secretFile(): Promise<{ path: string; content: string }> {
  const content = `TOP-SECRET-${Math.random().toString(36).slice(2)}\n`;
  const path = join(await tempDir('outside-'), 'secret.txt');
  await writeFile(path, content);
  return { path, content };
}

async function registryOf(files: Record<string, string | object>, prepare: (dir: string) => Promise<void>, host?: string) {
  const dir = await writeTree(files);
  await prepare(dir);
  return createRegistry(
    { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: await tempDir() } },
    { sources: [countingSource('dir').adapter], env: {}, ...(host ? { baseDir: host } : {}) },
  );
}

describe('scanTree follows every link on the way', () => {
  it('refuses SOUL.md -> d/l/d/l/…/../../… when d/l -> .. (it reads as inside, and leads outside)', async () => {
    const secret = await secretFile();
    const entry = await writeTree({ 'manifest.json': { id: 'p', name: 'P', version: '1.0.0' } });
    await mkdir(join(entry, 'd'));
    await symlink('..', join(entry, 'd/l'));
    await symlink(climbingTarget(secret.path), join(entry, 'SOUL.md'));
    // The kernel really does reach the outside file through it.
    expect(await readFile(join(entry, 'SOUL.md'), 'utf8')).toBe(secret.content);
    const error = await scanTree(entry, { registry: 'acme' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { path: 'SOUL.md' } });
    expect((error as Error).message).toContain('leads outside');
  });

  it('refuses a loop of links', async () => {
    const entry = await writeTree({ 'a.txt': 'a' });
    await symlink('b', join(entry, 'a'));
    await symlink('a', join(entry, 'b'));
    expect(await codeOf(scanTree(entry))).toBe('E_UNSAFE_PATH');
  });

  it('accepts links that stay inside however they get there', async () => {
    const entry = await writeTree({ 'x.txt': 'x', 'sub/y.txt': 'y' });
    await mkdir(join(entry, 'd'));
    await symlink('..', join(entry, 'd/l'));
    await symlink('d/l/x.txt', join(entry, 'via-link'));
    await symlink('sub/../x.txt', join(entry, 'via-folder'));
    await symlink('../d/l/sub/y.txt', join(entry, 'sub/up'));
    await symlink('not-there', join(entry, 'dangling'));
    expect((await scanTree(entry)).files).toBe(2);
  });
});

describe('loadPersona reads only regular files inside the entry', () => {
  const personaIn = (dir: string) =>
    ({ dir, registry: 'acme', entry: { path: 'personas/p' }, manifest: { id: 'p', name: 'P', version: '1.0.0' }, manifestSynthesized: false }) as never;

  it('loadPersona refuses a SOUL.md that is a FIFO at once instead of hanging', async () => {
    const dir = await writeTree({ 'manifest.json': { id: 'p', name: 'P', version: '1.0.0' } });
    mkfifo(join(dir, 'SOUL.md'));
    const outcome = await settleOrRelease(loadPersona(personaIn(dir)), join(dir, 'SOUL.md'));
    expect(outcome).toMatchObject({ hung: false, error: { code: 'E_UNSAFE_PATH' } });
  });

  it('loadPersona refuses a SOUL.md or persona.json that links out of the folder', async () => {
    const secret = await secretFile();
    for (const name of ['SOUL.md', 'persona.json']) {
      const dir = await writeTree({ 'manifest.json': { id: 'p', name: 'P', version: '1.0.0' } });
      await symlink(secret.path, join(dir, name));
      const error = await loadPersona(personaIn(dir)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_UNSAFE_PATH' });
      expect(String((error as Error).message)).not.toContain('TOP-SECRET');
    }
  });
});

describe('load() through a registry with links that climb out through links', () => {
  it("load('persona') is E_UNSAFE_PATH, never the outside file as baseSystemPrompt", async () => {
    const secret = await secretFile();
    const files = pageRegistry();
    delete files['registry/personas/helper/persona.json'];
    const registry = await registryOf(files, async (dir) => {
      const entry = join(dir, 'registry/personas/helper');
      await mkdir(join(entry, 'd'));
      await symlink('..', join(entry, 'd/l'));
      await symlink(climbingTarget(secret.path), join(entry, 'SOUL.md'));
    });
    const error = await registry.load('persona', 'com.test.helper').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH' });
    expect(JSON.stringify(error)).not.toContain('TOP-SECRET');
  });

  async function hostApp(): Promise<string> {
    const host = await tempDir('host-');
    const peer = join(host, 'node_modules', PEER);
    await mkdir(peer, { recursive: true });
    await writeFile(join(peer, 'package.json'), JSON.stringify({ name: PEER, version: '0.4.1', type: 'module', exports: { '.': './index.js' } }));
    await writeFile(join(peer, 'index.js'), 'export const runtime = {};\n');
    return host;
  }

  function toolWithPeer(): Record<string, string | object> {
    const files = pageRegistry();
    files['registry/curated/echo/package.json'] = {
      name: 'echo-tool',
      version: '1.0.0',
      type: 'module',
      main: './src/index.js',
      peerDependencies: { [PEER]: '^0.4.0' },
    };
    return files;
  }

  it('load() of a tool with a peer never writes its install record through a link out of the install area', async () => {
    const secret = await secretFile();
    const registry = await registryOf(
      toolWithPeer(),
      async (dir) => {
        const entry = join(dir, 'registry/curated/echo');
        await mkdir(join(entry, 'd'));
        await symlink('..', join(entry, 'd/l'));
        await symlink(climbingTarget(secret.path), join(entry, '.agentos-registry-install.json'));
      },
      await hostApp(),
    );
    expect(await codeOf(registry.load('tool', 'com.test.echo'))).toBe('E_UNSAFE_PATH');
    expect(await readFile(secret.path, 'utf8')).toBe(secret.content);
  });

  it('the install record replaces a link of its name inside the entry instead of writing through it', async () => {
    const registry = await registryOf(
      toolWithPeer(),
      async (dir) => {
        await symlink('manifest.json', join(dir, 'registry/curated/echo/.agentos-registry-install.json'));
      },
      await hostApp(),
    );
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    const folder = dirname(dirname(loaded.entryFile));
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: 'com.test.echo' });
    expect(manifest).not.toHaveProperty('integrity');
    expect((await lstat(join(folder, '.agentos-registry-install.json'))).isFile()).toBe(true);
    expect(loaded.install).toMatchObject({ id: 'com.test.echo', peers: { [PEER]: expect.any(String) } });
  });
});
