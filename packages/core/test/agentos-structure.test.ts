/**
 * What toExtensionManifest and createPersonaLoader return, checked against AgentOS's own contracts: at compile time
 * against declarations of AgentOS's public types (restated here, since this project takes no dependency on
 * `@framers/agentos`), and at run time by a validator that applies the same rules to the actual objects.
 */
import { describe, expect, it } from 'vitest';
import { createPersonaLoader, createRegistry, toExtensionManifest } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

// ── AgentOS's public shapes (ExtensionManifest, ExtensionPack, ExtensionDescriptor, IPersonaLoader) ───────────────
interface AgentOSSource {
  sourceName: string;
  sourceVersion?: string;
  identifier?: string;
}
interface AgentOSDescriptor {
  id: string;
  kind: string;
  priority?: number;
  enableByDefault?: boolean;
  metadata?: Record<string, unknown>;
  payload: unknown;
  source?: AgentOSSource;
}
interface AgentOSPack {
  name: string;
  version?: string;
  descriptors: AgentOSDescriptor[];
}
type AgentOSResolver = { package: string; version?: string } | { module: string } | { factory: () => Promise<AgentOSPack> | AgentOSPack };
type AgentOSPackEntry = AgentOSResolver & { priority?: number; enabled?: boolean; options?: Record<string, unknown>; identifier?: string };
interface AgentOSManifest {
  packs: AgentOSPackEntry[];
}
interface AgentOSPersona {
  id: string;
  name: string;
  version: string;
  baseSystemPrompt: unknown;
}
interface AgentOSPersonaLoader {
  initialize(config: { personaSource: string; loaderType?: string; options?: Record<string, unknown> }): Promise<void>;
  loadPersonaById(personaId: string): Promise<AgentOSPersona | undefined>;
  loadAllPersonaDefinitions(): Promise<AgentOSPersona[]>;
  refreshPersonas?(): Promise<void>;
}

// ── the same rules, applied to values ─────────────────────────────────────────────────────────────────────────
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

async function manifestProblems(value: unknown): Promise<string[]> {
  const problems: string[] = [];
  if (!isRecord(value) || !Array.isArray(value.packs)) return ['packs is not an array'];
  for (const [i, entry] of value.packs.entries()) {
    const at = `packs[${i}]`;
    if (!isRecord(entry)) {
      problems.push(`${at} is not an object`);
      continue;
    }
    const resolvers = ['factory', 'package', 'module'].filter((key) => key in entry);
    if (resolvers.length !== 1) problems.push(`${at} has ${resolvers.length} resolvers`);
    if ('priority' in entry && typeof entry.priority !== 'number') problems.push(`${at}.priority is not a number`);
    if ('enabled' in entry && typeof entry.enabled !== 'boolean') problems.push(`${at}.enabled is not a boolean`);
    if ('options' in entry && !isRecord(entry.options)) problems.push(`${at}.options is not an object`);
    if ('identifier' in entry && typeof entry.identifier !== 'string') problems.push(`${at}.identifier is not a string`);
    if (typeof entry.factory !== 'function') continue;
    const pack = await (entry.factory as () => unknown)();
    if (!isRecord(pack) || typeof pack.name !== 'string' || !Array.isArray(pack.descriptors)) {
      problems.push(`${at}.factory() is not a pack`);
      continue;
    }
    for (const [j, d] of pack.descriptors.entries()) {
      const where = `${at}.factory().descriptors[${j}]`;
      if (!isRecord(d) || typeof d.id !== 'string' || typeof d.kind !== 'string' || !('payload' in d)) problems.push(`${where} lacks id, kind or payload`);
      else if ('source' in d && (!isRecord(d.source) || typeof d.source.sourceName !== 'string')) problems.push(`${where}.source lacks sourceName`);
      else if ('metadata' in d && !isRecord(d.metadata)) problems.push(`${where}.metadata is not an object`);
    }
  }
  return problems;
}

async function setup() {
  const dir = await writeTree(pageRegistry());
  return createRegistry(
    {
      registries: { corp: { type: 'dir', location: dir, verified: true } },
      defaultRegistries: { tool: 'corp', persona: 'corp' },
      cacheSettings: { directory: await tempDir() },
    },
    { sources: [countingSource('dir').adapter], env: {} },
  );
}

describe("AgentOS's contracts", () => {
  it('the validator finds problems in a manifest that breaks them (so a clean result means something)', async () => {
    const broken = { packs: [{ identifier: 7 }, { factory: () => ({ name: 'x', descriptors: [{ id: 'a' }] }), module: 'm' }] };
    expect(await manifestProblems(broken)).toEqual([
      'packs[0] has 0 resolvers',
      'packs[0].identifier is not a string',
      'packs[1] has 2 resolvers',
      'packs[1].factory().descriptors[0] lacks id, kind or payload',
    ]);
  });

  it('toExtensionManifest returns an AgentOS ExtensionManifest whose factories return packs', async () => {
    const registry = await setup();
    const manifest: AgentOSManifest = await toExtensionManifest(registry, [
      'com.test.echo',
      { ref: 'com.test.echo', priority: 5, enabled: true, options: { suffix: '!' } },
    ]);
    expect(await manifestProblems(manifest)).toEqual([]);
    expect(manifest.packs.map((p) => p.identifier)).toEqual(['registry:corp:com.test.echo@1.0.0', 'registry:corp:com.test.echo@1.0.0']);
    await registry.close();
  });

  it('createPersonaLoader is an AgentOS IPersonaLoader', async () => {
    const registry = await setup();
    const loader: AgentOSPersonaLoader = createPersonaLoader(registry);
    await loader.initialize({ personaSource: 'registry' });
    const all = await loader.loadAllPersonaDefinitions();
    expect(all.map((p) => [p.id, p.name, p.version, typeof p.baseSystemPrompt])).toEqual([['com.test.helper', 'Helper', '1.0.0', 'string']]);
    expect((await loader.loadPersonaById('com.test.helper'))?.id).toBe('com.test.helper');
    await loader.refreshPersonas?.();
    await registry.close();
  });
});
