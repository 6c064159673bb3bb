/**
 * Contract v2 as core serves it: snapshot sources, archive answers, index bytes handed back by revision(), an
 * always-given workDir, option roles, and which adapters core accepts. Every source here is written in the test;
 * the archives are real tarballs made by core's packer and read by core's extractor.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ArchiveAnswer,
  createDeterministicTarball,
  createRegistry,
  defineSource,
  integrityOf,
  type RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
} from '../src/index.js';
import { startStaticServer } from '@agentos-registry/test-servers';
import { createHttpClient } from '../src/index.js';
import { pageRegistry, tempDir, writeTree } from './helpers.js';

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: RegistryError) => error,
  );

async function allFiles(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out.set(
        path,
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
    }
  }
  return out;
}

/** A snapshot source over one folder: every snapshot() call packs it afresh (as a server would send it). */
function snapshotSource(options: { tamper?: boolean; label?: string } = {}) {
  const calls = { revision: 0, snapshot: 0 };
  const contexts: SourceCallContext[] = [];
  const adapter = defineSource({
    type: 'snap',
    options: { mirror: 'transport', flavour: 'identity', authorFilter: 'identity', password: 'secret' },
    create(config) {
      const root = config.location;
      return {
        displayLocation: `snap:${root}`,
        async revision(ctx) {
          calls.revision += 1;
          contexts.push(ctx);
          return {
            id: createHash('sha256')
              .update(await readFile(join(root, 'registry.json')))
              .digest('hex'),
          };
        },
        async snapshot(_revision, ctx): Promise<ArchiveAnswer> {
          calls.snapshot += 1;
          contexts.push(ctx);
          const archive = await createDeterministicTarball(root, { prefix: 'top' });
          const integrity = integrityOf(options.tamper ? Buffer.concat([archive, Buffer.from('x')]) : archive);
          return { archive, strip: 1, integrity };
        },
      };
    },
  });
  return { adapter, calls, contexts };
}

async function open(adapter: SourceAdapter, location: string, cache: string | false, extra: Record<string, unknown> = {}) {
  return createRegistry(
    {
      registries: { snap: { type: adapter.type, location, ...extra } },
      defaultRegistries: { tool: 'snap', persona: 'snap' },
      cacheSettings: cache === false ? { enabled: false } : { directory: cache },
    },
    { sources: [adapter], env: {} },
  );
}

describe('snapshot sources', () => {
  it('one snapshot serves the index and every entry; another registry on the same cache downloads nothing', async () => {
    const dir = await writeTree(pageRegistry());
    const cache = await tempDir('cache-');
    const { adapter, calls } = snapshotSource();
    const first = await open(adapter, dir, cache);
    const rows = await first.list();
    expect(rows.length).toBeGreaterThan(1);
    const echo = await first.fetch('tool', 'com.test.echo');
    expect(await readFile(join(echo.dir, 'src/index.js'), 'utf8')).toContain('createExtensionPack');
    await first.fetch('persona', rows.find((row) => row.kinds.includes('persona'))!.id);
    expect(calls.snapshot).toBe(1);
    await first.close();

    // A new process, in effect: the extracted snapshot is found in the work folder, nothing is downloaded.
    const second = await open(adapter, dir, cache, { cacheDuration: 0 });
    await second.fetch('tool', 'com.test.echo', { refresh: true } as never);
    expect(calls.snapshot).toBe(1);
    await second.close();
  });

  it('a snapshot whose bytes miss their integrity is E_INTEGRITY, and the cache is byte for byte as before', async () => {
    const dir = await writeTree(pageRegistry());
    const cache = await tempDir('cache-');
    const before = await allFiles(cache);
    const { adapter } = snapshotSource({ tamper: true });
    const registry = await open(adapter, dir, cache);
    expect((await failure(registry.list())).code).toBe('E_INTEGRITY');
    await registry.close();
    const after = [...(await allFiles(cache)).keys()].filter((path) => !path.includes(`${join('v1', 'tmp')}`));
    expect(after.filter((path) => !before.has(path) && !path.endsWith('.lock') && !path.includes('trust'))).toEqual([]);
  });

  it('a snapshot holding a link out of the registry is E_UNSAFE_PATH, nothing of the entry stored', async () => {
    const dir = await writeTree(pageRegistry());
    await symlink('/etc/passwd', join(dir, 'registry/curated/echo/passwd'));
    const cache = await tempDir('cache-');
    const { adapter } = snapshotSource();
    const registry = await open(adapter, dir, cache);
    expect((await failure(registry.fetch('tool', 'com.test.echo'))).code).toBe('E_UNSAFE_PATH');
    await registry.close();
    const stored = [...(await allFiles(join(cache, 'v1', 'content'))).keys()];
    expect(stored.some((path) => path.includes('passwd'))).toBe(false);
  });

  it('with the cache off, the source still gets a workDir, and close() removes it', async () => {
    const dir = await writeTree(pageRegistry());
    const { adapter, contexts } = snapshotSource();
    const registry = await open(adapter, dir, false);
    await registry.fetch('tool', 'com.test.echo');
    const workDirs = [...new Set(contexts.map((ctx) => ctx.workDir))];
    expect(workDirs).toHaveLength(1);
    expect(existsSync(workDirs[0]!)).toBe(true);
    await registry.close();
    expect(existsSync(workDirs[0]!)).toBe(false);

    // A call after close() would need a new temp folder that nothing removes: it is refused, and no source is called.
    const calls = contexts.length;
    const late = await failure(registry.fetch('tool', 'com.test.echo', { refresh: true } as never));
    expect(late.code).toBe('E_USAGE');
    expect(late.message).toContain('createRegistry()');
    expect(contexts.length).toBe(calls);
  });
});

describe('per-entry answers', () => {
  /** A per-entry source that keeps nothing: revision() hands back the index, materialize() answers with an archive. */
  function perEntrySource(root: string, options: { integrity?: (archive: Buffer) => string } = {}) {
    const calls = { readIndex: 0, materialize: 0 };
    const entries: Array<Readonly<Record<string, unknown>>> = [];
    const source: RegistrySource = {
      displayLocation: `entries:${root}`,
      async revision() {
        const index = await readFile(join(root, 'registry.json'));
        return { id: createHash('sha256').update(index).digest('hex'), index };
      },
      async readIndex() {
        calls.readIndex += 1;
        return readFile(join(root, 'registry.json'));
      },
      async materialize(request) {
        calls.materialize += 1;
        entries.push(request.entry);
        const archive = await createDeterministicTarball(join(root, request.path), { prefix: 'package' });
        return { archive, strip: 1, integrity: options.integrity ? options.integrity(archive) : integrityOf(archive) };
      },
    };
    return { adapter: defineSource({ type: 'entries', create: () => source }), calls, entries };
  }

  it('index bytes from revision() are used (readIndex never called); materialize gets the raw entry and its archive is extracted', async () => {
    const dir = await writeTree(pageRegistry());
    const index = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8'));
    index.extensions.curated[0]['x-mirror'] = { note: 'a field core does not know' };
    await writeFile(join(dir, 'registry.json'), JSON.stringify(index));
    const { adapter, calls, entries } = perEntrySource(dir);
    const registry = await open(adapter, dir, await tempDir('cache-'));
    const fetched = await registry.fetch('tool', index.extensions.curated[0].id);
    expect(calls.readIndex).toBe(0);
    expect(entries[0]).toMatchObject({ id: index.extensions.curated[0].id, 'x-mirror': { note: 'a field core does not know' } });
    expect((await readdir(fetched.dir)).sort()).toEqual((await readdir(join(dir, fetched.entry.path))).sort());
    await registry.close();
  });

  it('an error page handed over as an archive is the status error, never extracted', async () => {
    const dir = await writeTree(pageRegistry());
    const server = await startStaticServer({ root: dir });
    const http = createHttpClient({ registry: 'entries' });
    const source: RegistrySource = {
      displayLocation: server.url,
      revision: async () => ({ id: 'r1', index: await readFile(join(dir, 'registry.json')) }),
      readIndex: async () => readFile(join(dir, 'registry.json')),
      // Does not check the status: core must.
      materialize: async () => ({ archive: await http.request(new URL('no-such.tgz', server.url), { purpose: 'entry' }), strip: 1 }),
    };
    const registry = await open(defineSource({ type: 'entries', create: () => source }), dir, await tempDir('cache-'));
    try {
      const error = await failure(registry.fetch('tool', 'com.test.echo'));
      expect(error.code).toBe('E_NOT_FOUND');
      expect(error.details).toMatchObject({ status: 404 });
    } finally {
      await registry.close();
      await http.close();
      await server.close();
    }
  });

  it('an archive answer that misses its integrity is E_INTEGRITY and nothing of it is stored', async () => {
    const dir = await writeTree(pageRegistry());
    const cache = await tempDir('cache-');
    const { adapter } = perEntrySource(dir, { integrity: () => integrityOf(Buffer.from('other bytes')) });
    const registry = await open(adapter, dir, cache);
    const error = await failure(registry.fetch('tool', 'com.test.echo'));
    expect(error.code).toBe('E_INTEGRITY');
    expect(error.message).toContain('com.test.echo');
    await registry.close();
    expect(await allFiles(join(cache, 'v1', 'content'))).toEqual(new Map());
  });
});

describe('which adapters core accepts', () => {
  const v1 = (root: string) => ({
    type: 'old',
    contractVersion: 1,
    options: ['subdir', 'timeouts'],
    create: () => ({
      displayLocation: root,
      flags: { immutableRevisions: true, partialFetch: true },
      revision: async () => ({ id: 'r1' }),
      readIndex: async () => readFile(join(root, 'registry.json')),
      materialize: async (request: { path: string; destination: string }) => {
        await mkdir(request.destination, { recursive: true });
        await writeFile(join(request.destination, 'manifest.json'), await readFile(join(root, request.path, 'manifest.json')));
      },
    }),
  });

  it('a version 1 adapter (plain option list, old flags) still works', async () => {
    const dir = await writeTree(pageRegistry());
    const registry = await open(v1(dir) as unknown as SourceAdapter, dir, await tempDir('cache-'), { subdir: 'x', timeouts: { index: 1000 } });
    expect((await registry.list()).length).toBeGreaterThan(0);
    await registry.close();
  });

  it('another version is E_SOURCE_CONTRACT naming it; a source with neither shape, or a bad option role, too', async () => {
    const dir = await writeTree(pageRegistry());
    const v3 = { ...v1(dir), contractVersion: 3 } as unknown as SourceAdapter;
    const wrongVersion = await failure(open(v3, dir, false));
    expect(wrongVersion.code).toBe('E_SOURCE_CONTRACT');
    expect(wrongVersion.message).toContain('version 3');

    const shapeless = defineSource({
      type: 'shapeless',
      create: () => ({ displayLocation: dir, revision: async () => ({ id: 'x' }), readIndex: async () => '{}' }),
    });
    expect((await failure(open(shapeless, dir, false))).code).toBe('E_SOURCE_CONTRACT');

    const badRole = defineSource({ type: 'badrole', options: { subdir: 'location' as never }, create: () => ({}) as never });
    const role = await failure(open(badRole, dir, false));
    expect(role.code).toBe('E_SOURCE_CONTRACT');
    expect(role.message).toContain('"subdir"');
  });
});

describe('revision() answers', () => {
  it('an answer core cannot keep (no string id, an empty one, odd validators or index) is E_SOURCE_CONTRACT, not a TypeError', async () => {
    const dir = await writeTree(pageRegistry());
    for (const answer of [null, 42, { id: 42 }, { id: '' }, { id: 'r1', validators: { etag: 1 } }, { id: 'r1', index: 42 }, { id: 'r1', index: {} }]) {
      const adapter = defineSource({
        type: 'odd',
        create: () => ({
          displayLocation: dir,
          revision: async () => answer as never,
          readIndex: async () => readFile(join(dir, 'registry.json')),
          materialize: async () => {},
        }),
      });
      const registry = await open(adapter, dir, false);
      const error = await failure(registry.list());
      expect(error.code, JSON.stringify(answer)).toBe('E_SOURCE_CONTRACT');
      await registry.close();
    }
  });
});

describe('option roles', () => {
  it('a transport option keeps the cache warm, an identity option keys a new one, a secret is in no cache file', async () => {
    const dir = await writeTree(pageRegistry());
    const cache = await tempDir('cache-');
    const { adapter, calls } = snapshotSource();
    const secret = 'hunter2-very-secret-password';
    const base = await open(adapter, dir, cache, { mirror: 'a', flavour: 'plain', password: secret });
    await base.fetch('tool', 'com.test.echo');
    await base.close();
    expect(calls.revision).toBe(1);

    const transport = await open(adapter, dir, cache, { mirror: 'b', flavour: 'plain', password: secret });
    await transport.fetch('tool', 'com.test.echo');
    await transport.close();
    expect(calls.revision).toBe(1); // same key: served from the cache within cacheDuration

    const identity = await open(adapter, dir, cache, { mirror: 'a', flavour: 'spicy', password: secret });
    await identity.fetch('tool', 'com.test.echo');
    await identity.close();
    expect(calls.revision).toBe(2); // another key: asked the source

    // An identity option whose name merely looks like a credential is still identity: the role decides, not the name.
    const named = await open(adapter, dir, cache, { mirror: 'a', flavour: 'plain', authorFilter: 'alice', password: secret });
    await named.fetch('tool', 'com.test.echo');
    await named.close();
    expect(calls.revision).toBe(3);

    for (const path of (await allFiles(cache)).keys()) {
      expect(await readFile(path, 'latin1'), path).not.toContain(secret);
    }
  });
});
