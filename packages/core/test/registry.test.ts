import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry, defineSource, type LoadedExtension, type LoadedPersona, parseReference, RegistryError } from '../src/index.js';
import { countingSource, FIXTURE, pageRegistry, tempDir, writeTree } from './helpers.js';

async function setup(files = pageRegistry(), extra: Record<string, unknown> = {}) {
  const dir = await writeTree(files);
  const cache = await tempDir();
  const { adapter, calls } = countingSource('dir');
  const registry = await createRegistry(
    { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: cache }, ...extra },
    { sources: [adapter], env: {} },
  );
  return { registry, dir, cache, calls };
}

describe('references', () => {
  it.each([
    ['com.x.tool', { id: 'com.x.tool' }],
    ['com.x.tool@1.2.0', { id: 'com.x.tool', range: '1.2.0' }],
    ['com.x.tool@^1.2', { id: 'com.x.tool', range: '^1.2' }],
    ['corp:com.x.tool@>=1 <2', { registry: 'corp', id: 'com.x.tool', range: '>=1 <2' }],
    ['@framers/agentos-ext-web-search', { id: '@framers/agentos-ext-web-search' }],
    ['official:@framers/agentos-ext-web-search@^1', { registry: 'official', id: '@framers/agentos-ext-web-search', range: '^1' }],
    ['com.x.tool@latest', { id: 'com.x.tool' }],
  ])('%s', (ref, expected) => {
    expect(parseReference(ref)).toEqual(expected);
  });
});

describe('choosing the registry for a kind', () => {
  const sources = [countingSource('dir').adapter];
  const registries = { a: { type: 'dir', location: '/a' }, b: { type: 'dir', location: '/b' }, default: { type: 'dir', location: '/d' } };

  it('resolver first, then defaultRegistries, then "default"', async () => {
    const registry = await createRegistry(
      { registries, defaultRegistries: { tool: 'a', persona: 'a' }, resolver: (kind) => (kind === 'persona' ? 'b' : null) },
      { sources, env: {} },
    );
    expect(registry.registryFor('persona')).toBe('b');
    expect(registry.registryFor('tool')).toBe('a');
    expect(registry.registryFor('workflow')).toBe('default');
  });

  it('a resolver answering undefined falls through', async () => {
    const registry = await createRegistry({ registries, defaultRegistries: { tool: 'b' }, resolver: () => undefined }, { sources, env: {} });
    expect(registry.registryFor('tool')).toBe('b');
  });

  it('a single registry with no defaultRegistries serves every kind: fetch and load work by id alone', async () => {
    const location = await writeTree(pageRegistry());
    const registry = await createRegistry(
      { registries: { only: { type: 'dir', location } }, cacheSettings: { directory: await tempDir() } },
      { sources, env: {} },
    );
    for (const kind of ['tool', 'guardrail', 'persona', 'tts-provider']) expect(registry.registryFor(kind)).toBe('only');
    expect((await registry.fetch('tool', 'com.test.echo')).provenance.registry).toBe('only');
    expect(((await registry.load('persona', 'com.test.helper')) as LoadedPersona).persona.baseSystemPrompt).toBe('You help.');
    await registry.close();
  });

  it('a single registry with defaultRegistries serves only the kinds listed; two registries without them serve none', async () => {
    const listed = await createRegistry({ registries: { only: registries.a }, defaultRegistries: { tool: 'only' } }, { sources, env: {} });
    expect(listed.registryFor('tool')).toBe('only');
    expect(() => listed.registryFor('workflow')).toThrow(expect.objectContaining({ code: 'E_NO_REGISTRY_FOR_KIND' }));
    const two = await createRegistry({ registries: { a: registries.a, b: registries.b } }, { sources, env: {} });
    expect(() => two.registryFor('tool')).toThrow(expect.objectContaining({ code: 'E_NO_REGISTRY_FOR_KIND' }));
  });

  it('a kind a typo away from a served one says "did you mean" instead of suggesting defaultRegistries for the typo', async () => {
    const registry = await createRegistry({ registries: { a: registries.a, b: registries.b }, defaultRegistries: { tool: 'a' } }, { sources, env: {} });
    const failure = (kind: string) => {
      try {
        registry.registryFor(kind);
      } catch (error) {
        return error as RegistryError;
      }
      throw new Error(`registryFor(${kind}) answered`);
    };
    expect(failure('toool').message).toBe('No registry is configured for kind "toool". Did you mean "tool"?');
    expect(failure('toool').details).toMatchObject({ kind: 'toool', didYouMean: 'tool' });
    // Near a well-known kind nobody serves: the hint names that kind's fix, not the typo's.
    expect(failure('guardrial').message).toBe(
      'No registry is configured for kind "guardrial". Did you mean "guardrail"? No registry serves that either: add defaultRegistries.guardrail, a resolver that answers "guardrail", a registry named "default", or use a "registry:id" reference.',
    );
    // Far from every known kind: a new kind, so the fix for it.
    expect(failure('tts-provider').message).toBe(
      'No registry is configured for kind "tts-provider". Add defaultRegistries.tts-provider, a resolver that answers "tts-provider", a registry named "default", or use a "registry:id" reference.',
    );
  });

  it('the page hybrid resolver', async () => {
    const registry = await createRegistry(
      { registries: { official: registries.a, custom: registries.b }, resolver: (kind) => (kind === 'tool' ? 'custom' : 'official') },
      { sources, env: {} },
    );
    expect(registry.registryFor('tool')).toBe('custom');
    expect(registry.registryFor('guardrail')).toBe('official');
  });
});

describe('resolving and fetching', () => {
  it('prefers curated over community, and a range can pick community', async () => {
    const { registry } = await setup();
    expect((await registry.resolve('tool', 'com.test.echo')).entry.tier).toBe('curated');
    expect((await registry.resolve('tool', 'com.test.echo@^9')).entry.tier).toBe('community');
    expect((await registry.resolve('tool', 'com.test.echo@1.0.0')).entry.version).toBe('1.0.0');
  });

  it('finds an entry by its npm package name', async () => {
    const files = pageRegistry();
    const doc = files['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
    doc.extensions.curated[0]!.package = '@test/echo';
    const { registry } = await setup(files);
    expect((await registry.resolve('tool', '@test/echo')).entry.id).toBe('com.test.echo');
  });

  it('maps page-style paths under registry/ and fetches the files with integrity and provenance', async () => {
    const { registry, cache } = await setup();
    const fetched = await registry.fetch('tool', 'com.test.echo');
    expect(fetched.entry.path).toBe('registry/curated/echo');
    expect(fetched.dir.startsWith(cache)).toBe(true);
    expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toContain('createExtensionPack');
    expect(fetched.integrity).toMatch(/^sha512-[A-Za-z0-9+/]+=*$/);
    expect(fetched.provenance).toMatchObject({ registry: 'default', sourceType: 'dir', verified: false, stale: false });
    const again = await registry.fetch('tool', 'com.test.echo');
    expect(again.fromCache).toBe(true);
    expect(again.integrity).toBe(fetched.integrity);
  });

  it('one materialize for many concurrent callers', async () => {
    const { registry, calls } = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => registry.fetch('tool', 'com.test.echo')));
    expect(new Set(results.map((r) => r.dir)).size).toBe(1);
    expect(calls.materialize).toBe(1);
    expect(calls.readIndex).toBe(1);
  });

  it('an aborted signal stops a fetch', async () => {
    const { registry, calls } = await setup();
    const controller = new AbortController();
    controller.abort();
    const error = (await registry.fetch('tool', 'com.test.echo', { signal: controller.signal }).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_ABORTED');
    expect(calls.materialize).toBe(0);
  });

  it('list and search across registries, curated first; kind filters sections', async () => {
    const { registry } = await setup();
    const all = await registry.list();
    expect(all.map((r) => `${r.tier}:${r.id}`)).toEqual(['curated:com.test.echo', 'curated:com.test.helper', 'community:com.test.echo']);
    expect((await registry.list({ kind: 'persona' })).map((r) => r.id)).toEqual(['com.test.helper']);
    expect((await registry.search('ECHO')).length).toBe(2);
    expect((await registry.search('zzz-nothing')).length).toBe(0);
  });
});

describe('loading', () => {
  it('calls createExtensionPack with the AgentOS context and the tool runs', async () => {
    const { registry } = await setup();
    const loaded = (await registry.load('tool', 'com.test.echo', { options: { suffix: '!' } })) as LoadedExtension;
    expect(loaded.type).toBe('extension');
    const descriptor = loaded.pack.descriptors[0]!;
    expect(descriptor).toMatchObject({ id: 'echo', kind: 'tool' });
    const run = (descriptor.payload as { execute: (a: unknown) => Promise<{ output: string }> }).execute;
    expect((await run({ text: 'hi' })).output).toBe('hi!');
    const context = loaded.pack.context as { manifestEntry: { identifier: string }; getSecret: unknown; logger: unknown };
    expect(context.manifestEntry.identifier).toBe('registry:default:com.test.echo@1.0.0');
    expect(typeof context.getSecret).toBe('function');
  });

  it('accepts a default export that is a pack', async () => {
    const files = pageRegistry();
    files['registry/curated/echo/src/index.js'] = "export default { name: 'echo', descriptors: [{ id: 'echo', kind: 'tool' }] };\n";
    const { registry } = await setup(files);
    expect(((await registry.load('tool', 'com.test.echo')) as LoadedExtension).pack.name).toBe('echo');
  });

  it('an entry with npm dependencies and no adapter that installs them: E_SOURCE_NOT_INSTALLED naming the npm source', async () => {
    const files = pageRegistry();
    files['registry/curated/echo/package.json'] = { name: 'echo', version: '1.0.0', type: 'module', main: './src/index.js', dependencies: { axios: '^1' } };
    const { registry } = await setup(files);
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_SOURCE_NOT_INSTALLED');
    expect(error.message).toContain('@agentos-registry/source-npm');
  });

  it('loads a persona definition', async () => {
    const { registry } = await setup();
    const loaded = (await registry.load('persona', 'com.test.helper')) as LoadedPersona;
    expect(loaded.persona).toMatchObject({ id: 'com.test.helper', baseSystemPrompt: 'You help.' });
  });

  it('refuses to load a persona as an extension, before fetching it, and says how to load it', async () => {
    const { registry } = await setup();
    const error = (await registry.load('tool', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.details).toMatchObject({ section: 'personas' });
    expect(error.message).toContain("registry.load('persona', 'com.test.helper')");
    // The persona itself is fine: asked for as a persona it loads.
    const persona = await registry.load('persona', 'com.test.helper');
    expect(persona.persona.id).toBe('com.test.helper');
  });

  it('rejects a persona missing baseSystemPrompt, naming file and field', async () => {
    const files = pageRegistry();
    files['registry/personas/helper/persona.json'] = { id: 'com.test.helper', name: 'Helper', version: '1.0.0' };
    const { registry } = await setup(files);
    const error = (await registry.load('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.message).toContain('persona.json');
    expect(error.message).toContain('baseSystemPrompt');
  });
});

describe('the real AgentOS extensions registry', () => {
  it('lists 114 curated and 3 templates', async () => {
    const cache = await tempDir();
    const registry = await createRegistry(
      { registries: { official: { type: 'dir', location: FIXTURE } }, cacheSettings: { directory: cache } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
    const rows = await registry.list();
    expect(rows.filter((r) => r.tier === 'curated')).toHaveLength(114);
    expect(rows.filter((r) => r.tier === 'templates')).toHaveLength(3);
    const info = await registry.info('tool', 'official:com.framers.research.web-search');
    expect(info.version).toBe('1.1.1');
    expect(info.manifest.version).toBe('1.2.0');
    expect(info.manifest.extensions?.filter((e) => e.kind === 'tool')).toHaveLength(3);
    expect(info.warnings.map((w) => w.code)).toContain('W_VERSION_DRIFT');
    expect(info.warnings[0]!.message).toContain('1.2.0');
    const noManifest = await registry.fetch('tool', 'official:com.framers.memory.postgres-memory');
    expect(noManifest.manifestSynthesized).toBe(true);
    expect(noManifest.manifest).toMatchObject({ id: 'com.framers.memory.postgres-memory', version: '0.1.0' });
  });
});

describe('secrets', () => {
  it('a token never appears in an error', async () => {
    const secret = 'ghp_supersecretvalue1234567890';
    const dir = await writeTree({ 'registry.json': '{ broken ' + secret });
    const { adapter } = countingSource('dir');
    const registry = await createRegistry(
      { registries: { a: { type: 'dir', location: dir, token: secret } }, cacheSettings: { enabled: false } },
      { sources: [adapter], env: {} },
    );
    const error = (await registry.list().catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_INDEX_INVALID');
    const everything = `${error.message}\n${error.stack}\n${JSON.stringify(error)}\n${String((error.cause as Error)?.message)}`;
    expect(everything).not.toContain(secret);
  });
});

describe('cache disabled', () => {
  it('writes nothing to the cache folder', async () => {
    const dir = await writeTree(pageRegistry());
    const cache = join(await tempDir(), 'never');
    const registry = await createRegistry(
      { registries: { a: { type: 'dir', location: dir } }, cacheSettings: { enabled: false, directory: cache } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
    await registry.fetch('tool', 'a:com.test.echo');
    await expect(readFile(join(cache, 'x'))).rejects.toThrow();
    const { existsSync } = await import('node:fs');
    expect(existsSync(cache)).toBe(false);
    await registry.close();
    await writeFile(join(dir, 'touched'), '');
  });
});

describe('entry code from a package', () => {
  /** A package adapter written for the test: it "publishes" packages from an in-memory table. */
  function packageAdapter(packages: Record<string, Record<string, string>>) {
    const calls: string[] = [];
    const adapter = defineSource({
      type: 'pkgs',
      create: () => {
        throw new Error('not a registry source');
      },
      async fetchPackage(request) {
        const spec = `${request.name}@${request.version}`;
        calls.push(spec);
        const files = packages[spec];
        if (!files) throw new RegistryError('E_NOT_FOUND', `no ${spec}`);
        await writeTree(files, request.destination);
        return { version: request.version, integrity: `sha512-npm-${spec}`, resolved: `http://127.0.0.1/${spec}.tgz` };
      },
    });
    return { adapter, calls };
  }

  async function registryWithPackage(cacheDir?: string) {
    const files = pageRegistry();
    const doc = files['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
    doc.extensions.curated.push({ id: 'com.test.remote', name: 'Remote', version: '2.0.0', path: 'curated/remote', package: '@test/remote' });
    files['registry/curated/remote/package.json'] = { name: '@test/remote', version: '2.0.0', main: 'dist/index.js' };
    const dir = await writeTree(files);
    const { adapter, calls } = packageAdapter({
      '@test/remote@2.0.0': {
        'package.json': JSON.stringify({ name: '@test/remote', version: '2.0.0', type: 'module', main: 'dist/index.js' }),
        'dist/index.js': "export const createExtensionPack = () => ({ name: 'remote', descriptors: [{ id: 'remote', kind: 'tool' }] });\n",
      },
    });
    const registry = await createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: cacheDir ?? (await tempDir()) } },
      { sources: [countingSource('dir').adapter, adapter], env: {} },
    );
    return { registry, calls };
  }

  it("load takes the code from the package when the folder has none; its integrity is the package manager's", async () => {
    const { registry, calls } = await registryWithPackage();
    const loaded = (await registry.load('tool', 'com.test.remote')) as LoadedExtension;
    expect(loaded.pack.name).toBe('remote');
    expect(loaded.fetched.from).toBe('package');
    expect(loaded.fetched.integrity).toBe('sha512-npm-@test/remote@2.0.0');
    expect(loaded.fetched.provenance.package).toBe('@test/remote@2.0.0');
    await registry.load('tool', 'com.test.remote');
    expect(calls).toEqual(['@test/remote@2.0.0']);
  });

  it('fetch serves the registry folder by default, and the package on request; package code is cached on disk', async () => {
    const cache = await tempDir();
    const first = await registryWithPackage(cache);
    expect((await first.registry.fetch('tool', 'com.test.remote')).from).toBe('registry');
    const pkg = await first.registry.fetch('tool', 'com.test.remote', { code: 'package' });
    expect(await readFile(join(pkg.dir, 'dist/index.js'), 'utf8')).toContain('remote');
    const second = await registryWithPackage(cache);
    const again = await second.registry.fetch('tool', 'com.test.remote', { code: 'package' });
    expect(again.fromCache).toBe(true);
    expect(again.integrity).toBe(pkg.integrity);
    expect(second.calls).toEqual([]);
  });

  it('without any package adapter: E_SOURCE_NOT_INSTALLED naming the npm source', async () => {
    const files = pageRegistry();
    const doc = files['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
    doc.extensions.curated.push({ id: 'com.test.remote', name: 'Remote', version: '2.0.0', path: 'curated/remote', package: '@test/remote' });
    files['registry/curated/remote/package.json'] = { name: '@test/remote', version: '2.0.0' };
    const { registry } = await setup(files);
    const error = (await registry.load('tool', 'com.test.remote').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_SOURCE_NOT_INSTALLED');
    expect(error.message).toContain('@agentos-registry/source-npm');
  });
});

describe('onProgress', () => {
  it('is told when each revision check starts and ends, also a failed one; a listener that throws changes nothing', async () => {
    const dir = await writeTree(pageRegistry());
    const { adapter, calls, down } = countingSource('dir');
    const events: unknown[] = [];
    const registry = await createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { enabled: false } },
      { sources: [adapter], env: {}, onProgress: (event) => events.push(event) },
    );
    await registry.list();
    expect(calls.revision).toBe(1);
    expect(events).toEqual([
      { type: 'revision', registry: 'default', done: false },
      { type: 'revision', registry: 'default', done: true },
    ]);
    down.value = true;
    const [failed] = await registry.update();
    expect(failed).toMatchObject({ registry: 'default', status: 'failed' });
    expect(events.slice(2)).toEqual([
      { type: 'revision', registry: 'default', done: false },
      { type: 'revision', registry: 'default', done: true },
    ]);
    await registry.close();

    const throwing = await createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { enabled: false } },
      {
        sources: [countingSource('dir').adapter],
        env: {},
        onProgress: () => {
          throw new Error('display broke');
        },
      },
    );
    expect((await throwing.list()).length).toBeGreaterThan(0);
    await throwing.close();
  });
});
