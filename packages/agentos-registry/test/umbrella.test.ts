import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinSources, createRegistry, defineSource, fileSource, isRegistryError, type RegistrySource, RegistryError } from '../src/index.js';
import { scratch, templateRegistry } from './helpers.js';

describe('the agentos-registry umbrella', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
  });
  afterAll(() => cleanup());

  it('re-exports core and the file source', () => {
    expect(typeof fileSource).toBe('function');
    expect(typeof isRegistryError).toBe('function');
    expect(isRegistryError(new RegistryError('E_NOT_FOUND', 'x'))).toBe(true);
  });

  it('lists the built-in sources, the file source among them', () => {
    const types = builtinSources().map((s) => s.type);
    expect(types).toContain('file');
    // A fresh list each call, so callers may change it.
    expect(builtinSources()).not.toBe(builtinSources());
  });

  it('accepts every type of the page with no adapter passed in (git, github, url, npm preregistered)', async () => {
    const registry = await createRegistry(
      {
        registries: {
          corp: { type: 'git', location: 'https://git.corp.com/agentos-extensions.git', branch: 'production' },
          official: { type: 'npm', location: '@framers/agentos-extensions' },
          custom: { type: 'github', location: 'your-org/custom-extensions' },
          hosted: { type: 'url', location: 'https://extensions.yourcompany.example' },
        },
        resolver: (kind) => (kind === 'tool' ? 'custom' : 'official'),
        cacheSettings: { directory: `${dir}/cache-page` },
      },
      { env: {} },
    );
    expect(registry.registryNames).toEqual(['corp', 'official', 'custom', 'hosted']);
    expect(registry.registryFor('tool')).toBe('custom');
    await registry.close();
  });

  it('creates a registry over a file registry without being given any source', async () => {
    const registry = await createRegistry(
      { registries: { local: { type: 'file', location: templateRegistry } }, cacheSettings: { directory: `${dir}/cache` } },
      { env: {} },
    );
    try {
      const ids = (await registry.list()).map((e) => e.id);
      expect(ids).toEqual(['com.example.echo', 'com.example.calculator', 'com.example.helpful-assistant']);
      const loaded = await registry.load('tool', 'local:com.example.echo');
      expect(loaded.type).toBe('extension');
      if (loaded.type !== 'extension') return;
      const tool = loaded.pack.descriptors[0]!.payload as { execute(args: unknown, ctx: unknown): Promise<unknown> };
      await expect(tool.execute({ text: 'hi', uppercase: true }, {})).resolves.toEqual({ success: true, output: { text: 'HI', length: 2 } });
    } finally {
      await registry.close();
    }
  });

  it('lets a user-provided adapter replace a built-in one for the same type', async () => {
    const calls: string[] = [];
    const index = JSON.stringify({
      version: '1.0.0',
      extensions: { curated: [{ id: 'com.example.only', name: 'Only', version: '2.0.0', path: 'curated/only' }] },
    });
    const custom = defineSource({
      type: 'file',
      create(config): RegistrySource {
        calls.push(config.location);
        return {
          displayLocation: 'custom',
          revision: async () => ({ id: 'r1' }),
          readIndex: async () => index,
          materialize: async () => {},
        };
      },
    });
    const registry = await createRegistry(
      { registries: { local: { type: 'file', location: '/anywhere' } }, cacheSettings: { enabled: false } },
      { sources: [custom], env: {} },
    );
    try {
      expect(calls).toEqual(['/anywhere']);
      expect((await registry.list()).map((e) => e.id)).toEqual(['com.example.only']);
    } finally {
      await registry.close();
    }
  });

  it('offers core and the file source as subpath exports', async () => {
    const core = await import('agentos-registry/core');
    const file = await import('agentos-registry/file');
    expect(core.RegistryError).toBe(RegistryError);
    expect(file.fileSource).toBe(fileSource);
  });
});
