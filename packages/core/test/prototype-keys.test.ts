/**
 * Kinds, tier names, registry names and variable names come from users and registries, so any of them may be the
 * name of an Object.prototype member. Each lookup must find only what was configured (issue 11): `constructor` used
 * to crash with a TypeError, `toString` to name "function toString() { [native code] }" as a registry.
 */
import { describe, expect, it } from 'vitest';
import { createRegistry, type LoadedExtension, type RegistryConfig, RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const KEYS = ['constructor', 'hasOwnProperty', 'toString', 'valueOf', '__proto__'] as const;

/** `{ [key]: value }` as an own property even for `__proto__`, as JSON.parse makes it. */
const own = (key: string, value: unknown): Record<string, unknown> => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`);

async function open(config: Omit<RegistryConfig, 'registries'> & { registries?: RegistryConfig['registries'] }, dir?: string) {
  const location = dir ?? (await writeTree(pageRegistry()));
  return createRegistry({ registries: { a: { type: 'dir', location } }, ...config } as RegistryConfig, {
    sources: [countingSource('dir').adapter],
    env: { AGENTOS_REGISTRY_CACHE: await tempDir() },
  });
}

async function failure(work: Promise<unknown>): Promise<RegistryError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a RegistryError').toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe.each(KEYS)('a kind or name "%s" is looked up as an own key', (key) => {
  it('load / list / resolve of an unconfigured kind: E_NO_REGISTRY_FOR_KIND naming it', async () => {
    const registry = await open({ defaultRegistries: { tool: 'a' } });
    for (const work of [registry.load(key, 'com.test.echo'), registry.list({ kind: key }), registry.resolve(key, 'com.test.echo')]) {
      const error = await failure(work);
      expect(error.code).toBe('E_NO_REGISTRY_FOR_KIND');
      expect(error.message).toContain(`kind "${key}"`);
      expect(error.message).not.toContain('function');
    }
    await registry.close();
  });

  it('defaultRegistries may name it as a kind', async () => {
    const registry = await open({ defaultRegistries: own(key, 'a') as Record<string, string> });
    expect(registry.registryFor(key)).toBe('a');
    expect((await registry.resolve(key, 'com.test.echo')).registry).toBe('a');
    await registry.close();
  });

  it('a resolver that answers nothing for it falls through to defaultRegistries', async () => {
    const registry = await open({ resolver: () => undefined, defaultRegistries: { tool: 'a' } });
    expect((await failure(registry.resolve(key, 'com.test.echo'))).code).toBe('E_NO_REGISTRY_FOR_KIND');
    await registry.close();
  });

  it('a resolver answering it as a registry name: E_CONFIG quoting the name', async () => {
    const registry = await open({ resolver: () => key });
    const error = await failure(registry.resolve('tool', 'com.test.echo'));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`names registry "${key}"`);
    await registry.close();
  });

  it('a registry.json tier of that name is listed like any other tier', async () => {
    if (key === '__proto__') return; // refused as a field name: see json-documents.test.ts
    const good = pageRegistry();
    const index = structuredClone(good['registry.json']) as { extensions: Record<string, unknown[]> };
    index.extensions = { [key]: index.extensions.curated! };
    const registry = await open({ defaultRegistries: { tool: 'a' } }, await writeTree({ ...good, 'registry.json': index }));
    const rows = await registry.list();
    expect(rows.filter((row) => row.tier === key).map((row) => row.id)).toEqual(['com.test.echo']);
    expect((await registry.resolve('tool', 'com.test.echo')).entry.tier).toBe(key);
    await registry.close();
  });

  it('${' + key + '} is an unset variable, not a prototype member', async () => {
    const error = await failure(open({ registries: { a: { type: 'dir', location: `/tmp/\${${key}}` } } }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain(`Environment variable ${key} is not set`);
  });

  it('getSecret of an extension finds no variable of that name', async () => {
    const registry = await open({ defaultRegistries: { tool: 'a' } });
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    const context = (loaded.pack as unknown as { context: { getSecret(id: string): unknown } }).context;
    expect(context.getSecret(key)).toBeUndefined();
    await registry.close();
  });
});

it('a resolver that answers something other than a name is E_CONFIG saying what it returned', async () => {
  const registry = await open({ resolver: (() => 42) as never });
  const error = await failure(registry.resolve('tool', 'com.test.echo'));
  expect(error.code).toBe('E_CONFIG');
  expect(error.message).toContain('resolver("tool") returned a number');
  await registry.close();
});
