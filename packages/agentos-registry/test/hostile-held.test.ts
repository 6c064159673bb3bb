/**
 * Hostile inputs that the code already refused before SECURITY.md was written, pinned here so they stay refused:
 * credentials written into a location (every source type that takes a URL), and `__proto__` keys in a JSON config,
 * in `registry.json` and in a manifest. JSON.parse makes them own properties; a later copy would drop them or turn
 * them into a prototype, so a registry document holding one is refused naming the field, and a config may use the
 * name for a registry.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, RegistryError } from '../src/index.js';
import { scratch } from './helpers.js';

const SECRET = 's3cr3t-password-123';

describe('a location that carries credentials is refused, and the password shows nowhere', () => {
  const cases: Array<{ type: string; location: string }> = [
    { type: 'url', location: `https://deploy:${SECRET}@registry.example.com/extensions` },
    { type: 'git', location: `https://deploy:${SECRET}@git.example.com/agentos/extensions.git` },
    { type: 'github', location: `https://deploy:${SECRET}@github.example.com/acme/extensions` },
  ];
  for (const c of cases) {
    it(`type ${c.type}`, async () => {
      const error = await createRegistry({ registries: { r: { type: c.type, location: c.location } } }, { env: {} }).then(
        async (registry) => {
          // Some sources only look at the location on first use.
          try {
            await registry.list();
          } finally {
            await registry.close();
          }
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('E_CONFIG');
      expect((error as RegistryError).message).toMatch(/token/);
      expect(JSON.stringify({ message: (error as Error).message, details: (error as RegistryError).details })).not.toContain(SECRET);
    });
  }
});

describe('__proto__ keys from JSON never become prototypes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    const entry = join(dir, 'reg', 'registry', 'curated', 'echo');
    await mkdir(entry, { recursive: true });
    // Written as text: an object literal with `__proto__` would set the prototype instead of holding the key.
    await writeFile(
      join(dir, 'reg', 'registry.json'),
      '{"version":"1.0.0","__proto__":{"polluted":1},"extensions":{"__proto__":[{"id":"com.evil.x","name":"x","version":"1.0.0","path":"curated/echo"}],' +
        '"curated":[{"id":"com.test.echo","name":"echo","version":"1.0.0","path":"curated/echo","__proto__":{"polluted":2},"constructor":{"prototype":{"polluted":3}}}]}}',
    );
    await writeFile(
      join(entry, 'manifest.json'),
      '{"id":"com.test.echo","name":"echo","version":"1.0.0","__proto__":{"polluted":4},"extensions":[{"kind":"tool","id":"echo","__proto__":{"polluted":5}}]}',
    );
    await mkdir(join(dir, 'clean'), { recursive: true });
    await writeFile(
      join(dir, 'clean', 'registry.json'),
      '{"version":"1.0.0","extensions":{"curated":[{"id":"com.test.echo","name":"echo","version":"1.0.0","path":"curated/echo"}]}}',
    );
    await cp(join(dir, 'reg', 'registry'), join(dir, 'clean', 'registry'), { recursive: true });
  });
  afterAll(() => cleanup());

  it('in registry.json: E_INDEX_INVALID naming the field, and no object gains a property', async () => {
    const registry = await createRegistry(
      { registries: { a: { type: 'file', location: join(dir, 'reg') } }, defaultRegistries: { tool: 'a' } },
      { env: { AGENTOS_REGISTRY_CACHE: join(dir, 'cache') } },
    );
    try {
      await expect(registry.list()).rejects.toMatchObject({ code: 'E_INDEX_INVALID', message: expect.stringContaining('__proto__') });
    } finally {
      await registry.close();
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('in a manifest: E_INDEX_INVALID naming the file', async () => {
    const registry = await createRegistry(
      { registries: { a: { type: 'file', location: join(dir, 'clean') } }, defaultRegistries: { tool: 'a' } },
      { env: { AGENTOS_REGISTRY_CACHE: join(dir, 'cache1') } },
    );
    try {
      expect((await registry.list()).map((row) => row.id)).toEqual(['com.test.echo']);
      await expect(registry.fetch('tool', 'com.test.echo')).rejects.toMatchObject({
        code: 'E_INDEX_INVALID',
        message: expect.stringContaining('manifest.json'),
      });
    } finally {
      await registry.close();
    }
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('in a JSON config: a registry named __proto__ is just a name, and a default naming no registry is E_CONFIG', async () => {
    const parsed = JSON.parse(
      `{"registries":{"__proto__":{"type":"file","location":${JSON.stringify(join(dir, 'clean'))}}},"defaultRegistries":{"tool":"__proto__"}}`,
    );
    const registry = await createRegistry(parsed, { env: { AGENTOS_REGISTRY_CACHE: join(dir, 'cache2') } });
    try {
      expect(registry.registryNames).toEqual(['__proto__']);
      expect((await registry.resolve('tool', 'com.test.echo')).registry).toBe('__proto__');
    } finally {
      await registry.close();
    }
    const bad = JSON.parse(`{"registries":{"a":{"type":"file","location":${JSON.stringify(join(dir, 'clean'))}}},"defaultRegistries":{"__proto__":"x"}}`);
    await expect(createRegistry(bad, { env: {} })).rejects.toMatchObject({ code: 'E_CONFIG' });
    expect(Object.prototype).not.toHaveProperty('type');
  });
});
