/**
 * Which module of an entry runs when its manifest's entryPoint is the TypeScript source: the real hacker-news package
 * ships `src/index.ts` (manifest.json `entryPoint`) beside `dist/index.js` (package.json `main`/`exports`).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry, type LoadedExtension, type RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

describe('a TypeScript entryPoint in manifest.json', () => {
  async function setup(withBuilt: boolean) {
    const files = pageRegistry();
    // As the real hacker-news package: manifest entryPoint is the source, package.json names the built module.
    files['registry/curated/echo/manifest.json'] = { id: 'com.test.echo', name: 'Echo', version: '1.0.0', entryPoint: 'src/index.ts' };
    files['registry/curated/echo/package.json'] = { name: 'echo-tool', version: '1.0.0', type: 'module', main: 'dist/index.js' };
    files['registry/curated/echo/src/index.ts'] = 'export const createExtensionPack = (): unknown => null;\n';
    if (withBuilt) {
      files['registry/curated/echo/dist/index.js'] =
        "export const createExtensionPack = () => ({ name: 'built', descriptors: [{ id: 'echo', kind: 'tool', payload: {} }] });\n";
    }
    const dir = await writeTree(files);
    return createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: await tempDir() } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
  }

  it('runs the built module package.json names when it ships beside the source', async () => {
    const registry = await setup(true);
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    expect(loaded.pack.name).toBe('built');
    expect(loaded.entryFile.endsWith(join('dist', 'index.js'))).toBe(true);
    await registry.close();
  });

  it('without the built module: E_LOAD naming the field and the missing module', async () => {
    const registry = await setup(false);
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.message).toContain(
      'is src/index.ts (manifest.json "entryPoint"), which is not JavaScript, and the module package.json names (dist/index.js) is not there',
    );
    expect(error.details).toEqual({ file: 'src/index.ts', entryPoint: 'src/index.ts', field: 'manifest.json "entryPoint"' });
    await registry.close();
  });
});
