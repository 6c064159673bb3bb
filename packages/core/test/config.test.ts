import { describe, expect, it } from 'vitest';
import { createRegistry, defineSource, type RegistryConfig, RegistryError } from '../src/index.js';
import { countingSource, tempDir } from './helpers.js';

/** An adapter that accepts any location and never runs: enough to show a config is accepted. */
const inert = (type: string, options: string[] = []) =>
  defineSource({
    type,
    options,
    create: (config) => ({
      displayLocation: config.location,
      revision: async () => ({ id: 'r' }),
      readIndex: async () => '{"extensions":{}}',
      materialize: async () => {},
    }),
  });

const builtins = ['github', 'git', 'file', 'url', 'npm'];

// Every snippet of the page, as written there (process.env.X may be undefined: that must be accepted).
const pageConfigs: Record<string, RegistryConfig> = {
  'In AgentOSConfig': {
    registries: {
      'my-extensions': { type: 'github', location: 'your-org/your-extensions', branch: 'main', verified: true },
      'my-personas': { type: 'github', location: 'your-org/your-personas', branch: 'main' },
    },
    defaultRegistries: { tool: 'my-extensions', guardrail: 'my-extensions', workflow: 'my-extensions', persona: 'my-personas' },
  },
  'GitHub (Public)': { registries: { custom: { type: 'github', location: 'your-org/extensions-repo', branch: 'main' } } },
  'GitHub (Private)': {
    registries: { custom: { type: 'github', location: 'your-org/private-repo', branch: 'main', token: process.env.GITHUB_TOKEN } },
  },
  'Self-Hosted Git': { registries: { custom: { type: 'git', location: 'https://git.yourcompany.com/extensions.git', branch: 'production' } } },
  'Local File System': { registries: { local: { type: 'file', location: '/path/to/local/registry' } } },
  // The page's own example host, kept verbatim: this test holds the page's snippets exactly as written.
  'HTTP(S) URL': { registries: { hosted: { type: 'url', location: 'https://registry.yourcompany.com' } } },
  'Air-Gapped Deployment': {
    registries: { internal: { type: 'file', location: '/opt/agentos/extensions' } },
    defaultRegistries: { tool: 'internal', persona: 'internal' },
  },
  'Enterprise with Private Git': {
    registries: {
      'enterprise-extensions': { type: 'git', location: 'https://git.corp.com/agentos-extensions.git', branch: 'stable', token: process.env.CORP_GIT_TOKEN },
      'enterprise-personas': { type: 'git', location: 'https://git.corp.com/agentos-personas.git', branch: 'stable', token: process.env.CORP_GIT_TOKEN },
    },
    defaultRegistries: { tool: 'enterprise-extensions', persona: 'enterprise-personas' },
  },
  'Hybrid (Official + Custom)': {
    registries: {
      official: { type: 'npm', location: '@framers/agentos-extensions' },
      custom: { type: 'github', location: 'your-org/custom-extensions' },
    },
    resolver: (kind) => (kind === 'tool' ? 'custom' : 'official'),
  },
  Caching: {
    registries: { custom: { type: 'github', location: 'your-org/extensions', cacheDuration: 3600000 } },
    cacheSettings: { enabled: true, directory: '/var/cache/agentos', maxAge: 86400000 },
  },
  Verification: { registries: { default: { type: 'github', location: 'your-org/vetted-extensions', verified: true } } },
  'Private Tokens': { registries: { default: { type: 'github', location: 'your-org/private-repo', token: process.env.GITHUB_PAT } } },
  'Complete Example': {
    registries: {
      'corp-extensions': {
        type: 'git',
        location: 'https://git.corp.com/agentos-extensions.git',
        branch: 'production',
        token: process.env.GIT_TOKEN,
        verified: true,
        cacheDuration: 7200000,
      },
      'corp-personas': {
        type: 'git',
        location: 'https://git.corp.com/agentos-personas.git',
        branch: 'production',
        token: process.env.GIT_TOKEN,
        verified: true,
      },
    },
    defaultRegistries: { tool: 'corp-extensions', guardrail: 'corp-extensions', workflow: 'corp-extensions', persona: 'corp-personas' },
    cacheSettings: { enabled: true, directory: '/var/cache/agentos' },
  },
};

describe('the page configs', () => {
  for (const [title, config] of Object.entries(pageConfigs)) {
    it(`accepts "${title}" when adapters for its types are registered`, async () => {
      const registry = await createRegistry(config, { sources: builtins.map((t) => inert(t)) });
      expect(registry.registryNames).toEqual(Object.keys(config.registries));
      await registry.close();
    });

    const types = [...new Set(Object.values(config.registries).map((r) => r.type))];
    const missing = types.filter((t) => t !== 'file');
    it(`"${title}" without adapters: ${missing.length ? `E_SOURCE_NOT_INSTALLED naming ${missing.map((t) => `source-${t}`).join(', ')}` : 'needs only the file source'}`, async () => {
      const onlyFile = [inert('file')];
      if (missing.length === 0) {
        await expect(createRegistry(config, { sources: onlyFile })).resolves.toBeTruthy();
        return;
      }
      const error = await createRegistry(config, { sources: onlyFile }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('E_SOURCE_NOT_INSTALLED');
      expect((error as RegistryError).message).toContain(`@agentos-registry/source-${missing[0]}`);
    });
  }
});

describe('config normalization', () => {
  it('expands ${NAME} from the environment and ${NAME:-fallback}', async () => {
    const dir = await tempDir();
    const { adapter } = countingSource('dir');
    let seen: Record<string, unknown> | undefined;
    const spy = defineSource({
      ...adapter,
      create: (c, ctx) => {
        seen = c;
        return adapter.create(c, ctx);
      },
    });
    await createRegistry(
      { registries: { a: { type: 'dir', location: '${REG_DIR}', branch: '${REG_BRANCH:-main}' } } },
      { sources: [spy], env: { REG_DIR: dir } },
    );
    expect(seen).toMatchObject({ location: dir, branch: 'main' });
  });

  it('names the missing variable, never a value', async () => {
    const error = (await createRegistry(
      { registries: { a: { type: 'dir', location: '/x', token: '${CORP_GIT_TOKEN}' } } },
      { sources: [countingSource().adapter], env: { OTHER: 'do-not-show-this-value' } },
    ).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('CORP_GIT_TOKEN');
    expect(error.message).toContain('registries.a.token');
    expect(error.message).not.toContain('do-not-show-this-value');
  });

  it('refuses options the adapter does not declare, with a hint', async () => {
    const error = (await createRegistry({ registries: { a: { type: 'dir', location: '/x', brnach: 'main' } } }, { sources: [countingSource().adapter] }).catch(
      (e: unknown) => e,
    )) as RegistryError;
    expect(error.code).toBe('E_CONFIG');
    expect(error.registry).toBe('a');
    expect(error.message).toContain('brnach');
    expect(error.message).toContain('Did you mean "branch"');
  });

  it('accepts declared source-specific options', async () => {
    await expect(
      createRegistry({ registries: { a: { type: 'dir', location: '/x', extra: 1 } } }, { sources: [countingSource().adapter] }),
    ).resolves.toBeTruthy();
  });

  it('accepts any kind string in defaultRegistries', async () => {
    const registry = await createRegistry(
      { registries: { a: { type: 'dir', location: '/x' } }, defaultRegistries: { 'tts-provider': 'a', memory: 'a' } },
      { sources: [countingSource().adapter] },
    );
    expect(registry.registryFor('tts-provider')).toBe('a');
  });
});
