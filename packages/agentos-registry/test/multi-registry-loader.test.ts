/**
 * The drop-in MultiRegistryLoader against the real AgentOS: an entry of the real registry folder (its code in an npm
 * package, published to a local Verdaccio with no uplinks) loaded by kind and id into the real ExtensionManager.
 */
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir, type VerdaccioServer, startVerdaccio, VERDACCIO_PUBLISHER } from '@agentos-registry/test-servers';
// Deep imports: the types of `@framers/agentos/extensions` re-export without file extensions, which TypeScript's
// NodeNext resolution does not follow.
import { ExtensionManager } from '@framers/agentos/extensions/ExtensionManager';
import { MultiRegistryLoader as AgentOSMultiRegistryLoader } from '@framers/agentos/extensions/MultiRegistryLoader';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isRegistryError } from '../src/index.js';
import { MultiRegistryLoader, type MultiRegistryConfig } from '../src/extensions.js';
import { fixturesRegistry, templateRegistry } from './helpers.js';

const ENTRY = 'com.framers.tools.zip-files';
const PACKAGE = '@framers/agentos-ext-zip-files';
const VERSION = '0.1.0';
const IDENTIFIER = `registry:real:${ENTRY}@${VERSION}`;

/** Shaped like the real package (ESM, `createExtensionPack(context)`), with no peer on @framers/agentos. */
const zipFilesPackage = {
  'package.json': `${JSON.stringify({ name: PACKAGE, version: VERSION, type: 'module', main: 'dist/index.js' }, null, 2)}\n`,
  'dist/index.js': [
    'export function createExtensionPack(context) {',
    '  const tool = {',
    "    id: 'zip_files', name: 'zip_files', displayName: 'Zip Files', description: 'Create a zip archive from local files',",
    "    inputSchema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string' } } }, required: ['files'] },",
    '    async execute(args) { return { success: true, output: { archived: args.files.length, options: context.options } }; },',
    '  };',
    `  return { name: ${JSON.stringify(PACKAGE)}, version: ${JSON.stringify(VERSION)}, descriptors: [{ id: 'zip_files', kind: 'tool', payload: tool }] };`,
    '}',
    '',
  ].join('\n'),
};

describe('MultiRegistryLoader (drop-in for @framers/agentos/extensions)', () => {
  let temp: TempDir;
  let server: VerdaccioServer;
  let realRegistry: string;
  let config: MultiRegistryConfig;
  const open: MultiRegistryLoader[] = [];

  beforeAll(async () => {
    temp = await makeTempDir('agentos-dropin-');
    realRegistry = join(temp.path, 'agentos-extensions');
    await cp(fixturesRegistry, realRegistry, { recursive: true });
    server = await startVerdaccio();
    const token = await server.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
    await server.publish(zipFilesPackage, { token });
    config = {
      registries: { real: { type: 'file', location: realRegistry, verified: true } },
      defaultRegistries: { tool: 'real', guardrail: 'real', persona: undefined },
      cacheSettings: { enabled: true, directory: join(temp.path, 'cache') },
    };
  });
  afterAll(async () => {
    await Promise.all(open.map((loader) => loader.close()));
    await server?.close();
    await temp?.close();
  });

  function loaderFor(manager: ExtensionManager, cfg: MultiRegistryConfig = config, now?: () => number) {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {} };
    const loader = new MultiRegistryLoader(manager, cfg, {
      packages: { registry: server.url },
      dependencies: { hostDir: join(temp.path, 'host') },
      logger,
      ...(now ? { now } : {}),
    });
    open.push(loader);
    return { loader, warnings };
  }

  it("AgentOS's own loader answers null for the same entry and registers nothing (why the drop-in exists)", async () => {
    const manager = new ExtensionManager();
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await new AgentOSMultiRegistryLoader(manager, config as never).loadExtension('tool', ENTRY)).toBeNull();
    } finally {
      quiet.mockRestore();
    }
    expect(manager.listLoadedPacks()).toEqual([]);
  });

  it('loads a real registry entry by kind and id into the real ExtensionManager, code from its npm package', async () => {
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager);
    const pack = await loader.loadExtension('tool', ENTRY);
    expect(pack?.name).toBe(PACKAGE);
    expect(manager.listLoadedPacks()).toEqual([expect.objectContaining({ name: PACKAGE, version: VERSION, identifier: IDENTIFIER })]);
    const active = manager.getRegistry<{ execute(args: unknown): Promise<{ success: boolean; output: { archived: number } }> }>('tool').getActive('zip_files');
    expect(active?.kind).toBe('tool');
    expect(active?.source).toEqual({ sourceName: 'registry:real', sourceVersion: VERSION, identifier: IDENTIFIER });
    expect(active?.metadata?.registry).toMatchObject({ name: 'real', type: 'file', verified: true, package: `${PACKAGE}@${VERSION}` });
    expect((await active!.payload.execute({ files: ['a', 'b'] })).output.archived).toBe(2);
    // The code came from the local package registry, as a tarball.
    expect(server.requests.some((r) => r.path.endsWith('.tgz') && r.status === 200)).toBe(true);
  });

  it('keeps what it loaded in memory: the same pack again, no new request; clearCache forgets it, the manager keeps one pack', async () => {
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager);
    const first = await loader.loadExtension('tool', ENTRY);
    const requests = server.requests.length;
    expect(await loader.loadExtension('tool', ENTRY)).toBe(first);
    expect(server.requests.length).toBe(requests);
    expect(loader.getCacheStats()).toEqual({ size: 1, keys: [`real:${ENTRY}`] });
    loader.clearCache();
    expect(loader.getCacheStats()).toEqual({ size: 0, keys: [] });
    const again = await loader.loadExtension('tool', ENTRY);
    expect(again).not.toBe(first);
    expect(again?.name).toBe(PACKAGE);
    expect(manager.listLoadedPacks()).toHaveLength(1);
  });

  it('calls for the same entry while it loads share one load: one pack object, one pack in the manager', async () => {
    const manager = new ExtensionManager();
    const registered = vi.spyOn(manager, 'loadPackFromFactory');
    const { loader } = loaderFor(manager);
    const [a, b, c] = await Promise.all([loader.loadExtension('tool', ENTRY), loader.loadExtension('tool', ENTRY), loader.loadExtension('tool', ENTRY)]);
    expect(a).not.toBeNull();
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(registered).toHaveBeenCalledTimes(1);
    expect(manager.listLoadedPacks()).toHaveLength(1);
  });

  it("the memory copy lasts the registry's cacheDuration (default one hour)", async () => {
    let clock = 1_000_000;
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager, config, () => clock);
    const first = await loader.loadExtension('tool', ENTRY);
    clock += 59 * 60 * 1000;
    expect(await loader.loadExtension('tool', ENTRY)).toBe(first);
    clock += 2 * 60 * 1000;
    expect(await loader.loadExtension('tool', ENTRY)).not.toBe(first);
  });

  it('takes references as the registry does: a version range, a registry prefix, the npm package name', async () => {
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager);
    expect((await loader.loadExtension('tool', `${ENTRY}@^0.1`))?.name).toBe(PACKAGE);
    expect(await loader.loadExtension('tool', `${ENTRY}@^2`)).toBeNull();
    // Kind workflow has no registry, but the reference names one.
    expect((await loader.loadExtension('workflow', `real:${ENTRY}`))?.name).toBe(PACKAGE);
    expect((await loader.loadExtension('tool', PACKAGE))?.name).toBe(PACKAGE);
    expect(manager.listLoadedPacks().map((p) => p.identifier)).toEqual([IDENTIFIER]);
    const error = await loader.loadExtension('tool', `elsewhere:${ENTRY}`).catch((e: unknown) => e);
    expect(isRegistryError(error, 'E_CONFIG')).toBe(true);
  });

  it('answers null for an unknown id and for a kind no registry serves (with a warning), and registers nothing', async () => {
    const manager = new ExtensionManager();
    const { loader, warnings } = loaderFor(manager);
    expect(await loader.loadExtension('tool', 'com.framers.tools.no-such-thing')).toBeNull();
    expect(await loader.loadExtension('workflow', ENTRY)).toBeNull();
    expect(warnings).toEqual(['No registry configured for extension kind: workflow']);
    expect(manager.listLoadedPacks()).toEqual([]);
    expect(loader.getCacheStats().size).toBe(0);
  });

  it('throws the RegistryError of a broken registry instead of answering null', async () => {
    const broken = join(temp.path, 'broken');
    await cp(templateRegistry, broken, { recursive: true });
    await writeFile(join(broken, 'registry.json'), '{ "extensions": ');
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager, { registries: { default: { type: 'file', location: broken } }, cacheSettings: { enabled: false } });
    const error = await loader.loadExtension('tool', 'com.example.echo').catch((e: unknown) => e);
    expect(isRegistryError(error, 'E_INDEX_INVALID')).toBe(true);
    expect(manager.listLoadedPacks()).toEqual([]);
  });

  it('a config mistake is E_CONFIG at the first call', async () => {
    const { loader } = loaderFor(new ExtensionManager(), {
      registries: { real: { type: 'file', location: realRegistry } },
      defaultRegistries: { tool: 'nope' },
    });
    const error = await loader.loadExtension('tool', ENTRY).catch((e: unknown) => e);
    expect(isRegistryError(error, 'E_CONFIG')).toBe(true);
  });

  it('loadFromSource: a configured source is that registry; any other is a registry of its own', async () => {
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager);
    expect((await loader.loadFromSource({ type: 'file', location: realRegistry, verified: true }, ENTRY))?.name).toBe(PACKAGE);
    expect(manager.listLoadedPacks().map((p) => p.identifier)).toEqual([IDENTIFIER]);

    const pack = await loader.loadFromSource({ type: 'file', location: templateRegistry }, 'com.example.echo');
    expect(pack?.descriptors.map((d) => d.id)).toEqual(['echo']);
    const adHoc = manager.listLoadedPacks()[1]?.identifier;
    expect(adHoc).toMatch(/^registry:file-[0-9a-f]{12}:com\.example\.echo@1\.0\.0$/);
    expect(manager.getRegistry('tool').getActive('echo')?.metadata?.registry).toMatchObject({ type: 'file', verified: false });
    expect(await loader.loadFromSource({ type: 'file', location: templateRegistry }, 'com.example.nothing')).toBeNull();
    expect(loader.getCacheStats().keys).toEqual([`real:${ENTRY}`, `${adHoc?.split(':')[1]}:com.example.echo`]);
  });

  it('a persona is registered as a descriptor of kind persona whose payload is its definition', async () => {
    const manager = new ExtensionManager();
    const { loader } = loaderFor(manager, {
      registries: { personas: { type: 'file', location: templateRegistry } },
      defaultRegistries: { persona: 'personas' },
    });
    const pack = await loader.loadExtension('persona', 'com.example.helpful-assistant');
    expect(pack?.descriptors).toHaveLength(1);
    const active = manager.getRegistry<{ name: string; baseSystemPrompt: string }>('persona').getActive('com.example.helpful-assistant');
    expect(active?.payload.name).toBe('Helpful Assistant');
    expect(active?.payload.baseSystemPrompt).toContain('calculator');
    // An extension id asked for as a persona (and a persona asked for as a tool) is not there.
    expect(await loader.loadExtension('persona', 'com.example.echo')).toBeNull();
    expect(loader.getCacheStats().keys).toEqual(['personas:persona:com.example.helpful-assistant']);
  });
});
