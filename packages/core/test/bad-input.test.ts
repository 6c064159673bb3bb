import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry, type ErrorCode, type RegistryConfig, RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

type Case = {
  name: string;
  code: ErrorCode;
  /** Files of the registry folder (defaults to a good registry); `null` values delete. */
  files?: (good: Record<string, string | object>) => Record<string, string | object>;
  config?: (location: string) => RegistryConfig;
  env?: Record<string, string>;
  act?: (registry: Awaited<ReturnType<typeof createRegistry>>, dir: string) => Promise<unknown>;
  messageIncludes?: string[];
};

const index = (good: Record<string, string | object>) => good['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
const withIndex = (mutate: (doc: Record<string, unknown>) => void) => (good: Record<string, string | object>) => {
  const doc = structuredClone(good['registry.json']) as Record<string, unknown>;
  mutate(doc);
  return { ...good, 'registry.json': doc };
};

const cases: Case[] = [
  {
    name: 'broken JSON in registry.json',
    code: 'E_INDEX_INVALID',
    files: (g) => ({ ...g, 'registry.json': '{"extensions": {' }),
    messageIncludes: ['registry.json', 'not valid JSON'],
  },
  {
    name: 'an entry without version',
    code: 'E_INDEX_INVALID',
    files: withIndex((d) => delete (d as ReturnType<typeof index>).extensions.curated[0]!.version),
    messageIncludes: ['extensions.curated[0].version'],
  },
  {
    name: 'an entry without path',
    code: 'E_INDEX_INVALID',
    files: withIndex((d) => delete (d as ReturnType<typeof index>).extensions.curated[0]!.path),
    messageIncludes: ['extensions.curated[0].path'],
  },
  { name: 'an index with no sections', code: 'E_INDEX_INVALID', files: (g) => ({ ...g, 'registry.json': { version: '1' } }) },
  {
    name: 'a ../ path',
    code: 'E_UNSAFE_PATH',
    files: withIndex((d) => ((d as ReturnType<typeof index>).extensions.curated[0]!.path = '../../etc')),
    messageIncludes: ['../../etc'],
  },
  {
    name: 'a ../ hidden in the middle of a path',
    code: 'E_UNSAFE_PATH',
    files: withIndex((d) => ((d as ReturnType<typeof index>).extensions.curated[0]!.path = 'curated/../../../etc')),
  },
  { name: 'an absolute path', code: 'E_UNSAFE_PATH', files: withIndex((d) => ((d as ReturnType<typeof index>).extensions.curated[0]!.path = '/etc/passwd')) },
  {
    name: 'a Windows absolute path',
    code: 'E_UNSAFE_PATH',
    files: withIndex((d) => ((d as ReturnType<typeof index>).extensions.curated[0]!.path = 'C:\\Windows')),
  },
  {
    name: 'duplicate ids at the same version',
    code: 'E_INDEX_INVALID',
    files: withIndex((d) => {
      const list = (d as ReturnType<typeof index>).extensions.curated;
      list.push({ ...list[0]! });
    }),
    messageIncludes: ['twice'],
  },
  { name: 'an unknown registry in a reference', code: 'E_CONFIG', act: (r) => r.resolve('tool', 'nope:com.test.echo'), messageIncludes: ['nope'] },
  {
    name: 'an unknown registry in defaultRegistries',
    code: 'E_CONFIG',
    config: (location) => ({ registries: { a: { type: 'dir', location } }, defaultRegistries: { tool: 'b' } }),
    messageIncludes: ['defaultRegistries.tool', '"b"'],
  },
  {
    name: 'a resolver naming an unknown registry',
    code: 'E_CONFIG',
    config: (location) => ({ registries: { a: { type: 'dir', location } }, resolver: () => 'zzz' }),
    act: (r) => r.resolve('tool', 'com.test.echo'),
  },
  {
    name: 'an unknown type',
    code: 'E_SOURCE_NOT_INSTALLED',
    config: (location) => ({ registries: { a: { type: 'ftp', location } } }),
    messageIncludes: ['@agentos-registry/source-ftp', '"a"'],
  },
  {
    name: 'a type one slip from a known one (fiel): did you mean, not a package to install',
    code: 'E_CONFIG',
    config: (location) => ({ registries: { a: { type: 'fiel', location } } }),
    messageIncludes: ['has type "fiel", which is not a source type. Did you mean "file"?'],
  },
  {
    name: 'a short type merely near a known one (gcs, near git) is still a package to install',
    code: 'E_SOURCE_NOT_INSTALLED',
    config: (location) => ({ registries: { a: { type: 'gcs', location } } }),
    messageIncludes: ['@agentos-registry/source-gcs'],
  },
  {
    name: 'a missing environment variable',
    code: 'E_CONFIG',
    config: () => ({ registries: { a: { type: 'dir', location: '${MISSING_REGISTRY_DIR}' } } }),
    messageIncludes: ['MISSING_REGISTRY_DIR'],
  },
  { name: 'a registry without location', code: 'E_CONFIG', config: () => ({ registries: { a: { type: 'dir' } as never } }), messageIncludes: ['location'] },
  { name: 'a registry without type', code: 'E_CONFIG', config: (l) => ({ registries: { a: { location: l } as never } }), messageIncludes: ['type'] },
  {
    name: 'a negative cacheDuration',
    code: 'E_CONFIG',
    config: (l) => ({ registries: { a: { type: 'dir', location: l, cacheDuration: -1 } } }),
    messageIncludes: ['cacheDuration'],
  },
  {
    name: 'a misspelt cacheSettings field',
    code: 'E_CONFIG',
    config: (l) => ({ registries: { a: { type: 'dir', location: l } }, cacheSettings: { maxage: 1 } as never }),
    messageIncludes: ['maxAge'],
  },
  { name: 'no registries', code: 'E_CONFIG', config: () => ({ registries: {} }) },
  { name: 'an unknown entry', code: 'E_NOT_FOUND', act: (r) => r.fetch('tool', 'com.test.nope'), messageIncludes: ['com.test.nope'] },
  { name: 'a range nothing satisfies', code: 'E_NOT_FOUND', act: (r) => r.fetch('tool', 'com.test.echo@^3'), messageIncludes: ['1.0.0', '^3'] },
  { name: 'an invalid range', code: 'E_CONFIG', act: (r) => r.resolve('tool', 'com.test.echo@not a range!') },
  {
    name: 'no registry for a kind',
    code: 'E_NO_REGISTRY_FOR_KIND',
    config: (l) => ({ registries: { a: { type: 'dir', location: l } }, defaultRegistries: { tool: 'a' } }),
    act: (r) => r.resolve('workflow', 'x'),
    messageIncludes: ['workflow'],
  },
  {
    name: 'a symlink out of an entry folder',
    code: 'E_UNSAFE_PATH',
    act: async (r, dir) => {
      await symlink('/etc/passwd', join(dir, 'registry/curated/echo/passwd'));
      return r.fetch('tool', 'com.test.echo');
    },
    messageIncludes: ['passwd'],
  },
  {
    name: 'a manifest without name',
    code: 'E_INDEX_INVALID',
    files: (g) => ({ ...g, 'registry/curated/echo/manifest.json': { version: '1.0.0' } }),
    act: (r) => r.fetch('tool', 'com.test.echo'),
    messageIncludes: ['registry/curated/echo/manifest.json', 'name'],
  },
];

describe('bad input gives a RegistryError with a stable code', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const good = pageRegistry();
      const dir = await writeTree(c.files ? c.files(good) : good);
      const cache = await tempDir();
      const config = c.config ? c.config(dir) : { registries: { default: { type: 'dir', location: dir } } };
      const run = async () => {
        const registry = await createRegistry(config, { sources: [countingSource('dir').adapter], env: { AGENTOS_REGISTRY_CACHE: cache, ...c.env } });
        try {
          return await (c.act ? c.act(registry, dir) : registry.list());
        } finally {
          await registry.close();
        }
      };
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, 'expected a failure').toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe(c.code);
      for (const part of c.messageIncludes ?? []) expect((error as RegistryError).message).toContain(part);
    });
  }
});
