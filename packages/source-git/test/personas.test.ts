/**
 * Personas served by a private git registry, as in the page's "Enterprise with Private Git" case: one defined by
 * persona.json, one by SOUL.md, loaded through core with both engines and a token, and handed to AgentOS's
 * persona loader.
 */
import { createPersonaLoader, createRegistry, type LoadedPersona, type PersonaDefinition } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type GitHttpServer, makeTempDir, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gitSource } from '../src/index.js';
import { TOKEN } from './support/registry.js';
import { tempDir } from './support/temp.js';

const cleanup = new Cleanup();
let server: GitHttpServer;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const personaEntry = (id: string, folder: string) => ({ id, name: id, version: '1.0.0', path: `curated/${folder}` });

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir('git-personas-'))).path;
  await cleanup.add(
    createGitRepo(
      {
        'registry.json': json({
          version: '1.0.0',
          updated: '2026-01-01T00:00:00.000Z',
          categories: { curated: ['personas'], community: [] },
          extensions: { curated: [] },
          personas: { curated: [personaEntry('com.corp.analyst', 'analyst'), personaEntry('com.corp.support', 'support')] },
        }),
        'registry/curated/analyst/manifest.json': json({ id: 'com.corp.analyst', name: 'Analyst', version: '1.0.0' }),
        'registry/curated/analyst/persona.json': json({ id: 'com.corp.analyst', name: 'Analyst', version: '1.0.0', baseSystemPrompt: 'You analyse numbers.' }),
        'registry/curated/support/manifest.json': json({ id: 'com.corp.support', name: 'Support', version: '1.0.0' }),
        'registry/curated/support/SOUL.md':
          "---\nid: com.corp.support\nname: Support Agent\nversion: 1.1.0\ntone: warm\n---\nYou answer customers' questions.\n",
      },
      { root, name: 'agentos-personas', branches: ['stable'] },
    ),
  );
  server = await cleanup.add(
    startGitHttpServer({ root, auth: { type: 'basic', username: 'x-access-token', password: TOKEN }, privateRepos: ['agentos-personas'] }),
  );
}, 60_000);
afterAll(() => cleanup.run());

describe.each(['native', 'isomorphic'] as const)('personas from a private git registry (%s engine)', (engine) => {
  async function open() {
    return createRegistry(
      {
        registries: { 'enterprise-personas': { type: 'git', location: server.repoUrl('agentos-personas'), branch: 'stable', token: TOKEN, engine } },
        defaultRegistries: { persona: 'enterprise-personas' },
        cacheSettings: { directory: await tempDir('git-personas-cache') },
      },
      { sources: [gitSource()], env: {} },
    );
  }

  test('persona.json and SOUL.md both load as AgentOS persona definitions', async () => {
    const registry = await open();
    const analyst = (await registry.load('persona', 'com.corp.analyst')) as LoadedPersona;
    expect(analyst.persona).toEqual({ id: 'com.corp.analyst', name: 'Analyst', version: '1.0.0', baseSystemPrompt: 'You analyse numbers.' });
    const support = (await registry.load('persona', 'com.corp.support')) as LoadedPersona;
    expect(support.persona).toEqual({
      id: 'com.corp.support',
      name: 'Support Agent',
      version: '1.1.0',
      tone: 'warm',
      baseSystemPrompt: "You answer customers' questions.",
    });
    expect(support.fetched.provenance).toMatchObject({ registry: 'enterprise-personas', sourceType: 'git' });
    await registry.close();
  });

  test("the persona loader serves both through AgentOS's interface", async () => {
    const registry = await open();
    const loader = createPersonaLoader(registry);
    await loader.initialize();
    const all: PersonaDefinition[] = await loader.loadAllPersonaDefinitions();
    expect(all.map((p) => p.id).sort()).toEqual(['com.corp.analyst', 'com.corp.support']);
    expect((await loader.loadPersonaById('com.corp.support'))?.name).toBe('Support Agent');
    expect(await loader.loadPersonaById('com.corp.nobody')).toBeUndefined();
    await registry.close();
  });
});
