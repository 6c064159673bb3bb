import { lstat, mkdir, readFile, readlink, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError, type RegistrySource, type SourceCallContext, type SourceRevision, silentLogger } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { fileSource } from '../src/index.js';
import { tempDir } from './support/temp.js';

/** The contract calls made directly on the source, as core makes them. */
async function sourceAt(root: string): Promise<{ source: RegistrySource; revision: SourceRevision }> {
  const source = fileSource().create({ type: 'file', location: root }, { registry: 'local', baseDir: '/', logger: silentLogger, env: {} });
  const revision = await source.revision(ctx());
  if (revision === 'unchanged') throw new Error('a file source never answers unchanged');
  return { source, revision };
}

function ctx(signal: AbortSignal = new AbortController().signal): SourceCallContext {
  return { registry: 'local', signal, logger: silentLogger, workDir: '/nonexistent-work-dir' };
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : `not a RegistryError: ${String(error)}`),
  );
}

/** A registry folder holding one entry with a nested file and an internal symlink. */
async function registryFolder(): Promise<string> {
  const root = await tempDir('file-source');
  await writeFile(join(root, 'registry.json'), '{"extensions":{"curated":[]}}');
  await mkdir(join(root, 'registry/curated/tool/src'), { recursive: true });
  await writeFile(join(root, 'registry/curated/tool/manifest.json'), '{}');
  await writeFile(join(root, 'registry/curated/tool/src/index.js'), 'export {};\n');
  await symlink('src/index.js', join(root, 'registry/curated/tool/main.js'));
  return root;
}

describe('file source contract calls', () => {
  test('flags and displayLocation', async () => {
    const root = await registryFolder();
    const { source } = await sourceAt(root);
    expect(source.flags).toEqual({ local: true });
    expect(source.displayLocation).toBe(root);
  });

  test('materialize copies the entry folder, keeping symlinks as symlinks', async () => {
    const { source, revision } = await sourceAt(await registryFolder());
    const destination = await tempDir('destination');
    await source.materialize!({ path: 'registry/curated/tool', entry: {}, revision, destination }, ctx());
    expect(await readFile(join(destination, 'src/index.js'), 'utf8')).toBe('export {};\n');
    expect((await lstat(join(destination, 'main.js'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(destination, 'main.js'))).toBe('src/index.js');
  });

  test('materialize of a missing entry folder is E_NOT_FOUND', async () => {
    const { source, revision } = await sourceAt(await registryFolder());
    const destination = await tempDir('destination');
    expect(await codeOf(source.materialize!({ path: 'registry/curated/missing', entry: {}, revision, destination }, ctx()))).toBe('E_NOT_FOUND');
  });

  test('locate returns the real absolute entry folder, and refuses paths that leave the registry', async () => {
    const root = await registryFolder();
    const { source, revision } = await sourceAt(root);
    expect(await source.locate!('registry/curated/tool', revision, ctx())).toBe(await realpath(join(root, 'registry/curated/tool')));
    expect(await codeOf(source.locate!('../elsewhere', revision, ctx()))).toBe('E_UNSAFE_PATH');
  });

  test('every call rejects with E_ABORTED once the signal has fired', async () => {
    const { source, revision } = await sourceAt(await registryFolder());
    const destination = await tempDir('destination');
    expect(await codeOf(source.revision(ctx(aborted())))).toBe('E_ABORTED');
    expect(await codeOf(source.readIndex!(revision, ctx(aborted())))).toBe('E_ABORTED');
    expect(await codeOf(source.materialize!({ path: 'registry/curated/tool', entry: {}, revision, destination }, ctx(aborted())))).toBe('E_ABORTED');
    expect(await codeOf(source.locate!('registry/curated/tool', revision, ctx(aborted())))).toBe('E_ABORTED');
  });

  test('readIndex returns the bytes of registry.json', async () => {
    const { source, revision } = await sourceAt(await registryFolder());
    expect(Buffer.from(await source.readIndex!(revision, ctx())).toString('utf8')).toBe('{"extensions":{"curated":[]}}');
  });
});
