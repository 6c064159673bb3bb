import { describe, expect, it } from 'vitest';
import { createPersonaLoader, createRegistry, toExtensionManifest } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

async function setup(dirOut?: { dir?: string }) {
  const dir = await writeTree(pageRegistry());
  if (dirOut) dirOut.dir = dir;
  const registry = await createRegistry(
    {
      registries: { corp: { type: 'dir', location: dir, verified: true } },
      defaultRegistries: { tool: 'corp', persona: 'corp' },
      cacheSettings: { directory: await tempDir() },
    },
    { sources: [countingSource('dir').adapter], env: {} },
  );
  return registry;
}

describe('AgentOS integration', () => {
  it('toExtensionManifest: packs with identifier, priority, options, and provenance on every descriptor', async () => {
    const registry = await setup();
    const manifest = await toExtensionManifest(
      registry,
      ['com.test.echo', { ref: 'com.test.echo@^1', priority: 50, enabled: false, options: { suffix: '?' } }],
      {
        priority: 10,
      },
    );
    expect(manifest.packs).toHaveLength(2);
    const [first, second] = manifest.packs;
    expect(first).toMatchObject({ identifier: 'registry:corp:com.test.echo@1.0.0', priority: 10, options: {} });
    expect(second).toMatchObject({ identifier: 'registry:corp:com.test.echo@1.0.0', priority: 50, enabled: false, options: { suffix: '?' } });
    const pack = await second!.factory();
    expect(pack.name).toBe('echo');
    const descriptor = pack.descriptors[0]!;
    expect(descriptor).toMatchObject({
      id: 'echo',
      kind: 'tool',
      source: { sourceName: 'registry:corp', sourceVersion: '1.0.0', identifier: 'registry:corp:com.test.echo@1.0.0' },
      metadata: { registry: { name: 'corp', type: 'dir', verified: true, integrity: expect.stringMatching(/^sha512-/) } },
    });
    const run = (descriptor.payload as { execute: (a: unknown) => Promise<{ output: string }> }).execute;
    expect((await run({ text: 'hi' })).output).toBe('hi?');
  });

  it('refreshPersonas asks the registry again, within cacheDuration, and picks up a new persona', async () => {
    const where: { dir?: string } = {};
    const loader = createPersonaLoader(await setup(where));
    await loader.initialize();
    expect((await loader.loadAllPersonaDefinitions()).map((p) => p.id)).toEqual(['com.test.helper']);
    const files = pageRegistry();
    const index = files['registry.json'] as { personas: { curated: Array<Record<string, unknown>> } };
    index.personas.curated.push({ id: 'com.test.writer', name: 'Writer', version: '1.0.0', path: 'personas/writer' });
    files['registry/personas/writer/manifest.json'] = { id: 'com.test.writer', name: 'Writer', version: '1.0.0' };
    files['registry/personas/writer/SOUL.md'] = '---\nid: com.test.writer\nname: Writer\nversion: 1.0.0\n---\nYou write.\n';
    await writeTree(files, where.dir);
    // Within cacheDuration (1 h) the loader keeps what it has…
    expect((await loader.loadAllPersonaDefinitions()).map((p) => p.id)).toEqual(['com.test.helper']);
    // …until asked to refresh.
    await loader.refreshPersonas();
    expect((await loader.loadAllPersonaDefinitions()).map((p) => p.id).sort()).toEqual(['com.test.helper', 'com.test.writer']);
  });

  it('createPersonaLoader answers the four IPersonaLoader methods', async () => {
    const loader = createPersonaLoader(await setup());
    await loader.initialize();
    expect((await loader.loadAllPersonaDefinitions()).map((p) => p.id)).toEqual(['com.test.helper']);
    expect(await loader.loadPersonaById('com.test.helper')).toMatchObject({ baseSystemPrompt: 'You help.' });
    expect(await loader.loadPersonaById('com.test.nobody')).toBeUndefined();
    await loader.refreshPersonas();
    expect((await loader.loadAllPersonaDefinitions()).map((p) => p.name)).toEqual(['Helper']);
  });
});
