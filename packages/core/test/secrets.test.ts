/**
 * The secrets an extension declares (as the real AgentOS manifests do: `requiredSecrets`, `optionalSecrets`, per
 * extension too) and the default `getSecret`, which reads the environment under the id and under the name AgentOS's
 * own secret catalog gives it (`discord.botToken` → `DISCORD_BOT_TOKEN`). A package that throws for lack of one is
 * covered against a real package registry in source-npm (entry-code.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type LoadedExtension, type RegistryError } from '../src/index.js';
import { declaredSecrets, environmentSecrets, secretEnvName } from '../src/secrets.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

describe('secret ids and their environment variables', () => {
  it.each([
    ['discord.botToken', 'DISCORD_BOT_TOKEN'],
    ['google.refreshToken', 'GOOGLE_REFRESH_TOKEN'],
    ['openai.apiKey', 'OPENAI_API_KEY'],
    ['serper.apiKey', 'SERPER_API_KEY'],
    ['aws.accessKeyId', 'AWS_ACCESS_KEY_ID'],
    ['github.token', 'GITHUB_TOKEN'],
    ['OPENAI_API_KEY', 'OPENAI_API_KEY'],
    ['fly-io.token', 'FLY_IO_TOKEN'],
  ])('%s → %s', (id, env) => {
    expect(secretEnvName(id)).toBe(env);
  });

  it('reads the variable named by the id first, then the one named after it; empty and inherited ones are absent', () => {
    const get = environmentSecrets({ 'discord.botToken': 'a', DISCORD_BOT_TOKEN: 'b', SLACK_BOT_TOKEN: 'c', EMPTY_ONE: '' });
    expect(get('discord.botToken')).toBe('a');
    expect(get('slack.botToken')).toBe('c');
    expect(get('empty.one')).toBeUndefined();
    expect(get('constructor')).toBeUndefined();
  });
});

describe('declared secrets', () => {
  it('takes requiredSecrets and optionalSecrets, top level and per extension, strings or { id, optional }', () => {
    expect(
      declaredSecrets({
        requiredSecrets: ['bluesky.handle', 'bluesky.appPassword'],
        optionalSecrets: ['bluesky.service', 'bluesky.handle'],
        extensions: [{ kind: 'tool', id: 'x', requiredSecrets: [{ id: 'x.key' }, { id: 'x.extra', optional: true }, 42, ''] }],
      }),
    ).toEqual([
      { id: 'bluesky.handle', optional: false },
      { id: 'bluesky.appPassword', optional: false },
      { id: 'bluesky.service', optional: true },
      { id: 'x.key', optional: false },
      { id: 'x.extra', optional: true },
    ]);
    expect(declaredSecrets({ requiredSecrets: 'not-a-list' })).toEqual([]);
    // The older shape of the real telegram package.
    expect(
      declaredSecrets({ configuration: { properties: { 'telegram.botToken': { type: 'string', secret: true }, 'telegram.parseMode': { type: 'string' } } } }),
    ).toEqual([{ id: 'telegram.botToken', optional: false }]);
  });
});

describe('loading an extension that needs a secret', () => {
  const saved = process.env.ACME_API_TOKEN;
  afterEach(() => {
    if (saved === undefined) delete process.env.ACME_API_TOKEN;
    else process.env.ACME_API_TOKEN = saved;
  });

  async function setup() {
    const files = pageRegistry();
    files['registry/curated/echo/manifest.json'] = { id: 'com.test.echo', name: 'Echo', version: '1.0.0', requiredSecrets: ['acme.apiToken'] };
    files['registry/curated/echo/src/index.js'] = `export function createExtensionPack(context) {
  const token = context.getSecret('acme.apiToken');
  if (!token) throw new Error('no token');
  return { name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: { fromOptions: context.options.secrets?.['acme.apiToken'] === token } }] };
}
`;
    const dir = await writeTree(files);
    return createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: await tempDir() } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
  }

  it('the default getSecret finds it in the environment variable named after the id, and options.secrets carries it', async () => {
    process.env.ACME_API_TOKEN = 'env-token-9876';
    const registry = await setup();
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    expect(loaded.pack.descriptors[0]!.payload).toEqual({ fromOptions: true });
    await registry.close();
  });

  it('without it: E_LOAD naming the secret and its variable', async () => {
    delete process.env.ACME_API_TOKEN;
    const registry = await setup();
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.message).toContain('createExtensionPack of com.test.echo threw: no token. Its manifest declares the secret "acme.apiToken"');
    expect(error.details).toEqual({ secrets: [{ id: 'acme.apiToken', env: 'ACME_API_TOKEN' }] });
    await registry.close();
  });
});

describe('a secret the pack asks for that its manifest does not declare', () => {
  async function setup() {
    const files = pageRegistry();
    // As the real google-cloud-stt: getSecret for an env-style id, then JSON.parse of what came back.
    files['registry/curated/echo/src/index.js'] = `export function createExtensionPack(context) {
  const credentials = JSON.parse(context.getSecret('ACME_CLOUD_CREDENTIALS') ?? '');
  return { name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: { project: credentials.project } }] };
}
`;
    const dir = await writeTree(files);
    return createRegistry(
      { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: await tempDir() } },
      { sources: [countingSource('dir').adapter], env: {} },
    );
  }

  it('E_LOAD names the id it asked for; options.secrets then answers getSecret', async () => {
    const registry = await setup();
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.message).toContain('It asked getSecret for "ACME_CLOUD_CREDENTIALS", which this load did not provide');
    expect(error.details).toEqual({ secrets: [{ id: 'ACME_CLOUD_CREDENTIALS', env: 'ACME_CLOUD_CREDENTIALS' }] });
    const loaded = (await registry.load('tool', 'com.test.echo', { options: { secrets: { ACME_CLOUD_CREDENTIALS: '{"project":"p1"}' } } })) as LoadedExtension;
    expect(loaded.pack.descriptors[0]!.payload).toEqual({ project: 'p1' });
    await registry.close();
  });
});
