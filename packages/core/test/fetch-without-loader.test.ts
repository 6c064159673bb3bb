/**
 * `fetch`, `info` and `resolve` never touch the loader: only `load` judges or runs an entry's code. Every function of
 * loader.ts is wrapped so that a call is recorded; an entry whose manifest names its TypeScript source as entryPoint
 * (as manifests of the real registry do) fetches and shows, and only its load fails, with E_LOAD saying to ship built
 * code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createRegistry, type RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const loaderCalls = vi.hoisted(() => [] as string[]);

vi.mock('../src/loader.js', async (importOriginal) => {
  const real = await importOriginal<Record<string, unknown>>();
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(real)) {
    wrapped[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            loaderCalls.push(name);
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value;
  }
  return wrapped;
});

describe('only load touches the loader', () => {
  beforeEach(() => {
    loaderCalls.length = 0;
  });

  async function setup() {
    const files = pageRegistry();
    files['registry/curated/echo/manifest.json'] = { ...(files['registry/curated/echo/manifest.json'] as object), entryPoint: 'src/index.ts' };
    files['registry/curated/echo/package.json'] = { name: 'echo-tool', version: '1.0.0', type: 'module' };
    delete files['registry/curated/echo/src/index.js'];
    files['registry/curated/echo/src/index.ts'] = 'export const createExtensionPack = () => ({ name: "echo", descriptors: [] });\n';
    const dir = await writeTree(files);
    return createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: await tempDir() } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
  }

  it('an entry whose entryPoint is src/index.ts resolves, fetches and shows without the loader; load is E_LOAD saying how to ship built code', async () => {
    const registry = await setup();
    expect((await registry.resolve('tool', 'com.test.echo')).entry.id).toBe('com.test.echo');
    const fetched = await registry.fetch('tool', 'com.test.echo');
    expect(existsSync(join(fetched.dir, 'src', 'index.ts'))).toBe(true);
    expect((await registry.info('tool', 'com.test.echo')).manifest.entryPoint).toBe('src/index.ts');
    expect(loaderCalls).toEqual([]);
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.details).toMatchObject({ file: 'src/index.ts' });
    expect(error.message).toContain('Registries must ship built code');
    expect(loaderCalls.length).toBeGreaterThan(0);
    await registry.close();
  });

  it('a persona fetches and shows without the loader', async () => {
    const registry = await setup();
    await registry.fetch('persona', 'com.test.helper');
    await registry.info('persona', 'com.test.helper');
    expect(loaderCalls).toEqual([]);
    await registry.close();
  });
});
