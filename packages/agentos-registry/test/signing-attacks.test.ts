/**
 * Issue 14: `verified: true` means something. Each attack on a signed registry runs against a real `file` registry
 * (read in place) and a real `url` registry (a static HTTP server on loopback serving a packed site), and must end in
 * its code with nothing stored in core's cache and nothing loaded; key rotation must work without a gap.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, isRegistryError, type Registry, type SignRegistryOptions, signRegistry } from '@agentos-registry/core';
import { createGitRepo, type StaticServer, startGitHttpServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterEach, describe, expect, test } from 'vitest';
import { createRegistry, packRegistry } from '../src/index.js';
import { scratch } from './helpers.js';

const A = generateKeyPair();
const B = generateKeyPair();
const C = generateKeyPair();
const keyA = { id: A.keyId, key: A.publicKey };
const keyB = { id: B.keyId, key: B.publicKey };

type Transport = 'file' | 'url';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts imports of the tool's module across the test file: a load that was refused must not have run it. */
declare global {
  var __signedToolImports: number | undefined;
}
const imports = () => globalThis.__signedToolImports ?? 0;

async function writeRegistry(root: string, description = 'Echoes.'): Promise<void> {
  const files: Record<string, string> = {
    'registry.json': JSON.stringify({
      version: '1.0.0',
      extensions: { curated: [{ id: 'com.test.echo', name: 'Echo', version: '1.0.0', path: 'curated/echo', description, tools: ['echo'] }] },
    }),
    'registry/curated/echo/manifest.json': JSON.stringify({ id: 'com.test.echo', name: 'Echo', version: '1.0.0', extensions: [{ kind: 'tool', id: 'echo' }] }),
    'registry/curated/echo/package.json': JSON.stringify({ name: 'echo-tool', version: '1.0.0', type: 'module', main: './index.js' }),
    'registry/curated/echo/index.js':
      'globalThis.__signedToolImports = (globalThis.__signedToolImports ?? 0) + 1;\nexport function createExtensionPack() { return { name: "echo", descriptors: [] }; }\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** A registry author's folder and where hosts read it from, over one transport. */
class Scene {
  readonly src: string;
  readonly site: string;
  server: StaticServer | undefined;
  private hosts = 0;

  constructor(
    readonly transport: Transport,
    readonly dir: string,
  ) {
    this.src = join(dir, 'src');
    this.site = join(dir, 'site');
  }

  static async create(transport: Transport): Promise<Scene> {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    const scene = new Scene(transport, dir);
    await writeRegistry(scene.src);
    if (transport === 'url') {
      await mkdir(scene.site, { recursive: true });
      scene.server = await startStaticServer({ root: scene.site });
      cleanups.push(() => scene.server!.close());
    }
    return scene;
  }

  get location(): string {
    return this.transport === 'file' ? this.src : this.server!.url;
  }

  /** The index hosts read, as served. */
  get served(): string {
    return join(this.transport === 'file' ? this.src : this.site, 'registry.json');
  }

  /** Signs what hosts will read: the folder itself, or the packed site (hashing the entry folders of `entriesFrom`). */
  async publish(options: SignRegistryOptions, entriesFrom = this.src): Promise<void> {
    if (this.transport === 'file') {
      await signRegistry(this.src, { name: 'acme', ...options });
      return;
    }
    await packRegistry(this.src, this.site);
    await signRegistry(this.site, { name: 'acme', ...options, entriesDir: entriesFrom });
  }

  /** A host: a new registry object (a new process, as far as core can tell) over the same cache and trust folders. */
  async host(registry: Record<string, unknown>, options: { allowExpired?: boolean; cache?: boolean } = {}): Promise<Registry> {
    this.hosts += 1;
    const hostDir = join(this.dir, `host-${this.hosts}`);
    await mkdir(hostDir, { recursive: true });
    const opened = await createRegistry(
      {
        registries: { acme: { type: this.transport, location: this.location, verified: true, cacheDuration: 0, ...registry } },
        defaultRegistries: { tool: 'acme' },
        cacheSettings: options.cache === false ? { enabled: false } : { directory: join(this.dir, 'cache') },
      },
      {
        env: {},
        baseDir: hostDir,
        dependencies: { hostDir },
        trustDirectory: join(this.dir, 'trust'),
        ...(options.allowExpired ? { allowExpired: true } : {}),
      },
    );
    cleanups.push(() => opened.close());
    return opened;
  }

  /** Every file core keeps in the cache (indexes, blobs, refs, content) with its hash; sources' own work folders aside. */
  async cacheSnapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const root = join(this.dir, 'cache', 'v1');
    async function walk(rel: string): Promise<void> {
      const names = await readdir(join(root, rel)).catch(() => [] as string[]);
      for (const name of names) {
        const path = rel === '' ? name : `${rel}/${name}`;
        if (path === 'tmp' || path === 'work') continue;
        const data = await readFile(join(root, path)).catch(() => undefined);
        if (data === undefined) await walk(path);
        else out[path] = createHash('sha256').update(data).digest('hex');
      }
    }
    await walk('');
    return out;
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : `not a RegistryError: ${String(error)}`),
  );
}

/**
 * The attack must end in `code` with the cache exactly as before and the tool's code never imported. `entries` only:
 * the index was good (it may be stored), and no entry tree or ref may have been.
 */
async function refused(scene: Scene, attempt: () => Promise<unknown>, code: string, scope: 'all' | 'entries' = 'all'): Promise<void> {
  const pick = (snapshot: Record<string, string>) =>
    scope === 'all' ? snapshot : Object.fromEntries(Object.entries(snapshot).filter(([path]) => path.startsWith('content/') || path.startsWith('refs/')));
  const before = pick(await scene.cacheSnapshot());
  const importsBefore = imports();
  expect(await codeOf(attempt())).toBe(code);
  expect(pick(await scene.cacheSnapshot())).toEqual(before);
  expect(imports()).toBe(importsBefore);
}

async function loads(registry: Registry): Promise<boolean> {
  const loaded = await registry.load('tool', 'com.test.echo');
  expect(loaded.fetched.provenance.verified).toBe(true);
  return true;
}

const soon = () => new Date(Date.now() + 24 * 60 * 60 * 1000);

describe.each(['file', 'url'] as const)('a signed %s registry', (transport) => {
  test('a well-signed index loads, verified', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon() });
    const before = imports();
    expect(await loads(await scene.host({ publicKeys: [keyA] }))).toBe(true);
    expect(imports()).toBe(before + 1);
  });

  test('an unsigned index under publicKeys → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    if (transport === 'url') await packRegistry(scene.src, scene.site);
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
  });

  test('a tampered index (one description changed after signing) → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon() });
    const text = await readFile(scene.served, 'utf8');
    expect(text).toContain('Echoes.');
    await writeFile(scene.served, text.replace('Echoes.', 'Echoes, and more.'));
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
  });

  test('a tampered entry under a signed index → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    const entryFile = join(scene.src, 'registry/curated/echo/index.js');
    if (transport === 'file') {
      await scene.publish({ key: A.privateKey, expires: soon() });
      await writeFile(entryFile, `${await readFile(entryFile, 'utf8')}globalThis.stolen = true;\n`);
    } else {
      // The site's tarball holds other files than the ones signed (a compromised build step): its `dist` integrity
      // matches the tarball, only the signed h1 can tell.
      const signedCopy = join(scene.dir, 'signed-src');
      await cp(scene.src, signedCopy, { recursive: true });
      await writeFile(entryFile, `${await readFile(entryFile, 'utf8')}globalThis.stolen = true;\n`);
      await scene.publish({ key: A.privateKey, expires: soon() }, signedCopy);
    }
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE', 'entries');
    expect((globalThis as { stolen?: boolean }).stolen).toBeUndefined();
    expect(await scene.cacheSnapshot().then((s) => Object.keys(s).filter((p) => p.startsWith('content/')))).toEqual([]);
  });

  test('a replayed older signed index (rollback) → E_SIGNATURE, and the newer copy stays cached', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon(), version: 1 });
    const v1 = await readFile(scene.served);
    expect(await loads(await scene.host({ publicKeys: [keyA] }))).toBe(true);
    await writeRegistry(scene.src, 'Echoes, version two.');
    await scene.publish({ key: A.privateKey, expires: soon(), version: 2 });
    expect(await loads(await scene.host({ publicKeys: [keyA] }))).toBe(true);
    await writeFile(scene.served, v1);
    // A new host (a restart) with the same cache and trust folders: the old, validly signed index is refused.
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.list(), 'E_SIGNATURE');
  });

  test('the same version with other bytes → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon(), version: 5 });
    expect(await loads(await scene.host({ publicKeys: [keyA] }))).toBe(true);
    await writeRegistry(scene.src, 'Echoes, quietly changed.');
    await scene.publish({ key: A.privateKey, expires: soon(), version: 5 });
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.list(), 'E_SIGNATURE');
  });

  test('an expired index → E_SIGNATURE; allowExpired loads it with a warning', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: new Date(Date.now() - 60_000) });
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
    const airGapped = await scene.host({ publicKeys: [keyA] }, { allowExpired: true });
    expect(await loads(airGapped)).toBe(true);
  });

  test("another registry's signed index → E_SIGNATURE", async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon(), name: 'acme-staging' });
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
    // The same index is accepted where it belongs.
    expect(await loads(await scene.host({ publicKeys: [keyA], identity: 'acme-staging' }))).toBe(true);
  });

  test('a signature by an unknown key → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: C.privateKey, expires: soon() });
    const host = await scene.host({ publicKeys: [keyA, keyB] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
  });

  test('a signature by an unknown key under a configured key id → E_SIGNATURE', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: [{ key: C.privateKey, keyId: A.keyId }], expires: soon() });
    const host = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
  });

  test('too few signatures for the threshold → E_SIGNATURE; enough load', async () => {
    const scene = await Scene.create(transport);
    // One key listed twice (two ids, same key) still counts once.
    await scene.publish({ key: [{ key: A.privateKey }, { key: A.privateKey, keyId: 'a-again' }], expires: soon(), version: 1 });
    const host = await scene.host({ publicKeys: [keyA, { id: 'a-again', key: A.publicKey }, keyB], threshold: 2 });
    await refused(scene, () => host.load('tool', 'com.test.echo'), 'E_SIGNATURE');
    await scene.publish({ key: [{ key: A.privateKey }, { key: B.privateKey }], expires: soon(), version: 2 });
    expect(await loads(await scene.host({ publicKeys: [keyA, keyB], threshold: 2 }))).toBe(true);
  });

  test('key rotation without a gap: A, then A and B configured while B signs, then B alone', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon(), version: 1 });
    expect(await loads(await scene.host({ publicKeys: [keyA] }))).toBe(true);
    // Hosts add B before the registry switches: the index signed by A still loads.
    expect(await loads(await scene.host({ publicKeys: [keyA, keyB] }))).toBe(true);
    await writeRegistry(scene.src, 'Signed by the new key.');
    await scene.publish({ key: B.privateKey, expires: soon(), version: 2 });
    expect(await loads(await scene.host({ publicKeys: [keyA, keyB] }))).toBe(true);
    // A is retired; the highest version seen is kept across the change of keys.
    expect(await loads(await scene.host({ publicKeys: [keyB] }))).toBe(true);
    const retired = await scene.host({ publicKeys: [keyA] });
    await refused(scene, () => retired.list(), 'E_SIGNATURE');
  });

  test('rollback is refused with the cache off too (the trust folder keeps the highest version)', async () => {
    const scene = await Scene.create(transport);
    await scene.publish({ key: A.privateKey, expires: soon(), version: 1 });
    const v1 = await readFile(scene.served);
    await (await scene.host({ publicKeys: [keyA] }, { cache: false })).list();
    await writeRegistry(scene.src, 'Two.');
    await scene.publish({ key: A.privateKey, expires: soon(), version: 2 });
    await (await scene.host({ publicKeys: [keyA] }, { cache: false })).list();
    await writeFile(scene.served, v1);
    const host = await scene.host({ publicKeys: [keyA] }, { cache: false });
    expect(await codeOf(host.list())).toBe('E_SIGNATURE');
  });
});

test('a signed file registry is copied, then checked: an edit after the check reaches nothing fetched, and the next fetch is refused', async () => {
  const scene = await Scene.create('file');
  await scene.publish({ key: A.privateKey, expires: soon() });
  const host = await scene.host({ publicKeys: [keyA] });
  const fetched = await host.fetch('tool', 'com.test.echo');
  expect(fetched.dir.startsWith(scene.src)).toBe(false);
  const entryFile = join(scene.src, 'registry/curated/echo/index.js');
  await writeFile(entryFile, 'globalThis.stolen = true;\n');
  expect(await readFile(join(fetched.dir, 'index.js'), 'utf8')).toContain('__signedToolImports');
  expect(await codeOf(host.fetch('tool', 'com.test.echo'))).toBe('E_SIGNATURE');
});

describe('a signed git registry over smart HTTP', () => {
  /** A registry repository served by `git http-backend`; each commit is a signed folder, as its owner pushes it. */
  async function gitScene() {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    const src = join(dir, 'src');
    await writeRegistry(src);
    await signRegistry(src, { key: A.privateKey, name: 'acme', expires: soon(), version: 1 });
    const repo = await createGitRepo(src, { root: join(dir, 'repos'), name: 'registry' });
    cleanups.push(() => repo.close());
    const server = await startGitHttpServer({ root: repo.root });
    cleanups.push(() => server.close());
    let hosts = 0;
    const host = async () => {
      hosts += 1;
      const hostDir = join(dir, `host-${hosts}`);
      await mkdir(hostDir, { recursive: true });
      const opened = await createRegistry(
        {
          registries: { acme: { type: 'git', location: server.repoUrl('registry'), branch: 'main', verified: true, cacheDuration: 0, publicKeys: [keyA] } },
          defaultRegistries: { tool: 'acme' },
          cacheSettings: { directory: join(dir, 'cache') },
        },
        { env: {}, baseDir: hostDir, dependencies: { hostDir }, trustDirectory: join(dir, 'trust') },
      );
      cleanups.push(() => opened.close());
      return opened;
    };
    return { dir, src, repo, host };
  }

  test('loads verified; an entry changed in a later commit under the same signed index → E_SIGNATURE, never imported', async () => {
    const scene = await gitScene();
    expect(await loads(await scene.host())).toBe(true);
    await scene.repo.commit(
      'main',
      { 'registry/curated/echo/index.js': 'globalThis.stolen = true;\nexport function createExtensionPack() { return { name: "x", descriptors: [] }; }\n' },
      { overlay: true },
    );
    const before = imports();
    const host = await scene.host();
    expect(await codeOf(host.load('tool', 'com.test.echo'))).toBe('E_SIGNATURE');
    expect(imports()).toBe(before);
    expect((globalThis as { stolen?: boolean }).stolen).toBeUndefined();
  });

  test('a force-push back to an older signed commit (rollback) → E_SIGNATURE', async () => {
    const scene = await gitScene();
    const v1 = await readFile(join(scene.src, 'registry.json'), 'utf8');
    await writeRegistry(scene.src, 'Two.');
    await signRegistry(scene.src, { key: A.privateKey, name: 'acme', expires: soon(), version: 2 });
    await scene.repo.commit('main', scene.src);
    expect(await loads(await scene.host())).toBe(true);
    await scene.repo.forcePush('main', { 'registry.json': v1 }, { overlay: true });
    const host = await scene.host();
    expect(await codeOf(host.list())).toBe('E_SIGNATURE');
  });
});

describe('verified without publicKeys: trusted transport only', () => {
  test('verified: true on http:// off loopback → E_CONFIG at start-up, naming the field', async () => {
    const error = await createRegistry({ registries: { r: { type: 'url', location: 'http://registry.example.com/', verified: true } } }, { env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRegistryError(error, 'E_CONFIG')).toBe(true);
    expect((error as { details?: { field?: string } }).details?.field).toBe('registries.r.location');
  });

  test('git:// and an http:// package registry option marked verified → E_CONFIG', async () => {
    for (const registry of [
      { type: 'git', location: 'git://git.example.com/registry.git', verified: true },
      { type: 'npm', location: '@acme/registry', registry: 'http://npm.example.com/', verified: true },
    ]) {
      await expect(createRegistry({ registries: { r: registry } }, { env: {} })).rejects.toMatchObject({ code: 'E_CONFIG' });
    }
  });

  test('https, ssh, a local path and loopback http are accepted as verified', async () => {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    await writeRegistry(join(dir, 'src'));
    for (const registry of [
      { type: 'url', location: 'https://registry.example.com/', verified: true },
      { type: 'git', location: 'ssh://git@git.example.com/registry.git', verified: true },
      { type: 'git', location: 'git@git.example.com:acme/registry.git', verified: true },
      { type: 'file', location: join(dir, 'src'), verified: true },
      { type: 'url', location: 'http://127.0.0.1:9/', verified: true },
      // An HTTP proxy tunnels TLS to an https:// origin: still authenticated end to end.
      { type: 'url', location: 'https://registry.example.com/', proxy: 'http://proxy.example.com:3128', verified: true },
    ]) {
      const opened = await createRegistry({ registries: { r: registry }, cacheSettings: { enabled: false } }, { env: {} });
      await opened.close();
    }
  });

  test('http:// off loopback stays allowed when the registry is signed (the signature, not the transport, is trusted)', async () => {
    const opened = await createRegistry(
      {
        registries: { r: { type: 'url', location: 'http://registry.example.com/', allowInsecure: true, verified: true, publicKeys: [keyA] } },
        cacheSettings: { enabled: false },
      },
      { env: {} },
    );
    await opened.close();
  });

  test('publicKeys, threshold and identity are validated, naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ publicKeys: 'abc' }, 'registries.r.publicKeys'],
      [{ publicKeys: [] }, 'registries.r.publicKeys'],
      [{ publicKeys: [{ id: 'k', key: 'not-a-key' }] }, 'registries.r.publicKeys[0].key'],
      [{ publicKeys: [{ key: A.publicKey }] }, 'registries.r.publicKeys[0].id'],
      [{ publicKeys: [keyA, { ...keyB, id: keyA.id }] }, 'registries.r.publicKeys[1].id'],
      [{ publicKeys: [keyA], threshold: 2 }, 'registries.r.threshold'],
      [{ publicKeys: [keyA], threshold: 0 }, 'registries.r.threshold'],
      [{ threshold: 1 }, 'registries.r.threshold'],
      [{ publicKeys: [keyA], identity: '' }, 'registries.r.identity'],
    ];
    for (const [fields, field] of cases) {
      const error = await createRegistry({ registries: { r: { type: 'file', location: '/nonexistent', ...fields } } }, { env: {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isRegistryError(error, 'E_CONFIG'), JSON.stringify(fields)).toBe(true);
      expect((error as { details?: { field?: string } }).details?.field).toBe(field);
    }
  });
});

test('nothing of a refused index is left in the cache folder, not even an empty record', async () => {
  const scene = await Scene.create('file');
  await scene.publish({ key: C.privateKey, expires: soon() });
  const host = await scene.host({ publicKeys: [keyA] });
  expect(await codeOf(host.list())).toBe('E_SIGNATURE');
  expect(Object.keys(await scene.cacheSnapshot())).toEqual([]);
  await rm(join(scene.dir, 'cache'), { recursive: true, force: true });
});
