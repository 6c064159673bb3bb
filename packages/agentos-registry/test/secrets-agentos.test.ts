/**
 * An extension that looks for its credential only when AgentOS activates it (as the real bluesky, cloud and domain
 * packs do), run through `toExtensionManifest` and the real `@framers/agentos` ExtensionManager: without the secret,
 * the error AgentOS reports names it and how to provide it; with it (the reference's `options.secrets`, or the
 * environment variable named after the id), the pack activates.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, isRegistryError, type Registry, toExtensionManifest } from '../src/index.js';
import { scratch, templateRegistry } from './helpers.js';

/** The real ExtensionManager; its published typings re-export without file extensions, which NodeNext cannot follow. */
type Manager = { loadPackEntry(entry: unknown): Promise<{ loaded: boolean; error?: unknown }>; listLoadedPacks(): unknown[] };
const { ExtensionManager } = (await import('@framers/agentos')) as unknown as { ExtensionManager: new (options: object) => Manager };

const CODE = `export function createExtensionPack(context) {
  let token;
  return {
    name: 'acme-pack',
    descriptors: [{ id: 'acmeTool', kind: 'tool', payload: { name: 'acmeTool', execute: async () => ({ success: true, output: token }) } }],
    onActivate: async () => {
      if (context.options?.fail) throw new Error('Acme: the service refused the token');
      token = context.options?.secrets?.['acme.apiToken'];
      if (!token) throw new Error('Acme: no API token provided. Set ACME_API_TOKEN.');
    },
  };
}
`;

describe('secrets an extension needs at activation, through the real ExtensionManager', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: Registry;
  const saved = process.env.ACME_API_TOKEN;

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    const root = join(dir, 'registry');
    await cp(templateRegistry, root, { recursive: true });
    const echo = join(root, 'registry', 'curated', 'echo');
    const manifest = JSON.parse(await readFile(join(echo, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(echo, 'manifest.json'), JSON.stringify({ ...manifest, requiredSecrets: ['acme.apiToken'] }));
    await mkdir(join(echo, 'src'), { recursive: true });
    await writeFile(join(echo, 'src', 'index.js'), CODE);
    registry = await createRegistry(
      { registries: { internal: { type: 'file', location: root } }, defaultRegistries: { tool: 'internal' }, cacheSettings: { directory: join(dir, 'cache') } },
      { env: {} },
    );
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.ACME_API_TOKEN;
    else process.env.ACME_API_TOKEN = saved;
  });
  afterAll(async () => {
    await registry.close();
    await cleanup();
  });

  async function intoManager(ref: string | { ref: string; options: Record<string, unknown> }) {
    const manifest = await toExtensionManifest(registry, [ref]);
    const manager = new ExtensionManager({});
    return { outcome: await manager.loadPackEntry(manifest.packs[0]), manager };
  }

  it('without it: the error AgentOS reports is E_LOAD naming the secret, its variable, and the reference to put it in, which then works', async () => {
    delete process.env.ACME_API_TOKEN;
    const { outcome } = await intoManager('com.example.echo');
    expect(outcome.loaded).toBe(false);
    const error = (outcome as { error?: unknown }).error;
    expect(isRegistryError(error, 'E_LOAD')).toBe(true);
    const { message, details } = error as { message: string; details: unknown };
    expect(message).toContain('Activating com.example.echo failed: Acme: no API token provided. Set ACME_API_TOKEN');
    expect(message).toContain('declares the secret "acme.apiToken"');
    expect(message).toContain('{ ref: "com.example.echo", options: { secrets: { "acme.apiToken": … } } }');
    expect(details).toEqual({ secrets: [{ id: 'acme.apiToken', env: 'ACME_API_TOKEN' }] });
    // Done as it says: the reference's options.secrets.
    const { outcome: again, manager } = await intoManager({ ref: 'com.example.echo', options: { secrets: { 'acme.apiToken': 'ref-token-1111' } } });
    expect(again.loaded, String((again as { error?: unknown }).error)).toBe(true);
    expect(manager.listLoadedPacks()).toHaveLength(1);
  });

  it('the environment variable named after the id provides it (through the default getSecret and options.secrets)', async () => {
    process.env.ACME_API_TOKEN = 'env-token-2222';
    const { outcome } = await intoManager({ ref: 'com.example.echo', options: {} });
    expect(outcome.loaded, String((outcome as { error?: unknown }).error)).toBe(true);
  });

  it("a secret the registry's getSecret provides reaches the pack, and a failure for another reason is the pack's own", async () => {
    delete process.env.ACME_API_TOKEN;
    const withSecret = await createRegistry(
      {
        registries: { internal: { type: 'file', location: join(dir, 'registry') } },
        defaultRegistries: { tool: 'internal' },
        cacheSettings: { directory: join(dir, 'cache') },
      },
      { env: {}, extensionContext: { getSecret: (id) => (id === 'acme.apiToken' ? 'host-token-3333' : undefined) } },
    );
    try {
      const manifest = await toExtensionManifest(withSecret, ['com.example.echo']);
      const manager = new ExtensionManager({});
      const outcome = await manager.loadPackEntry(manifest.packs[0]);
      expect(outcome.loaded, String(outcome.error)).toBe(true);
      const loaded = await withSecret.load('tool', 'com.example.echo');
      expect(loaded.type === 'extension' && loaded.secrets).toEqual([{ id: 'acme.apiToken', provided: true }]);
      // The secret was there: an activation that fails anyway is the pack's own error, not blamed on a secret.
      const failing = await toExtensionManifest(withSecret, [{ ref: 'com.example.echo', options: { fail: true } }]);
      const failed = await new ExtensionManager({}).loadPackEntry(failing.packs[0]);
      expect(failed.loaded).toBe(false);
      expect(isRegistryError(failed.error)).toBe(false);
      expect((failed.error as Error).message).toBe('Acme: the service refused the token');
    } finally {
      await withSecret.close();
    }
  });
});
