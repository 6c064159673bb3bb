/** Signed indexes in core (issue 14): the format, the checks, and where the highest version is kept. */
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  createRegistry,
  defineSource,
  generateKeyPair,
  keyIdOf,
  parseDuration,
  RegistryError,
  type RegistryWarning,
  signRegistry,
} from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const A = generateKeyPair();
const keyA = { id: A.keyId, key: A.publicKey };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

async function signedRegistry(options: Partial<Parameters<typeof signRegistry>[1]> = {}): Promise<string> {
  const root = await writeTree(pageRegistry());
  await signRegistry(root, { key: A.privateKey, name: 'acme', expires: '1d', ...options });
  return root;
}

async function open(root: string, extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}) {
  const { adapter, calls } = countingSource();
  const dir = await tempDir();
  const warnings: RegistryWarning[] = [];
  const registry = await createRegistry(
    {
      registries: { acme: { type: 'dir', location: root, publicKeys: [keyA], cacheDuration: 0, ...extra } },
      defaultRegistries: { tool: 'acme', persona: 'acme' },
      cacheSettings: { directory: join(dir, 'cache') },
    },
    { sources: [adapter], env: {}, baseDir: dir, onWarning: (w) => warnings.push(w), ...options },
  );
  return { registry, calls, dir, warnings };
}

describe('the signed format', () => {
  it('canonical JSON sorts keys by code unit and drops whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: 'é', B: true })).toBe('{"B":true,"a":"é","b":[1,{"c":null,"d":"x"}]}');
  });

  it('signRegistry writes signed + signatures, an h1 per entry folder, and a key id derived from the key', async () => {
    const root = await signedRegistry();
    const doc = JSON.parse(await readFile(join(root, 'registry.json'), 'utf8'));
    expect(doc.signed).toMatchObject({ name: 'acme', version: 1 });
    expect(Object.keys(doc.signed.entries).sort()).toEqual(['registry/community/echo', 'registry/curated/echo', 'registry/personas/helper']);
    expect(doc.signatures).toEqual([{ keyid: A.keyId, sig: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/) }]);
    expect(keyIdOf(A.publicKey)).toBe(A.keyId);
    await signRegistry(root, { key: A.privateKey });
    expect(JSON.parse(await readFile(join(root, 'registry.json'), 'utf8')).signed).toMatchObject({ name: 'acme', version: 2 });
    await expect(codeOf(signRegistry(root, { key: A.privateKey, version: 2 }))).resolves.toBe('E_USAGE');
  });

  it('a re-indented signed index still verifies (the signature is over canonical JSON)', async () => {
    const root = await signedRegistry();
    const file = join(root, 'registry.json');
    await writeFile(file, JSON.stringify(JSON.parse(await readFile(file, 'utf8'))));
    const { registry } = await open(root);
    expect((await registry.fetch('tool', 'com.test.echo@1')).provenance.verified).toBe(false); // verified not set in config
  });

  it('a flipped signature byte, a malformed or missing signatures field, a changed signed block → E_SIGNATURE, nothing cached', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the mutations reach into arbitrary JSON
    const mutations: Array<(doc: Record<string, any>) => void> = [
      (doc) => {
        const sig = Buffer.from(doc.signatures[0].sig, 'base64');
        sig[10]! ^= 1;
        doc.signatures[0].sig = sig.toString('base64');
      },
      (doc) => {
        doc.signatures = 'none';
      },
      (doc) => {
        delete doc.signatures;
      },
      (doc) => {
        doc.signed.version = 2;
      },
    ];
    for (const mutate of mutations) {
      const root = await signedRegistry();
      const file = join(root, 'registry.json');
      const doc = JSON.parse(await readFile(file, 'utf8'));
      mutate(doc);
      await writeFile(file, JSON.stringify(doc));
      const { registry, dir } = await open(root);
      await expect(codeOf(registry.list())).resolves.toBe('E_SIGNATURE');
      expect(await readdir(join(dir, 'cache', 'v1', 'indexes')).catch(() => [])).toEqual([]);
    }
  });

  it('tries each configured key once: a list of 200 000 copies of one bad signature is refused at once; only the first signature under a key id counts', async () => {
    const root = await signedRegistry();
    const file = join(root, 'registry.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    const good = doc.signatures[0];
    const bad = { keyid: good.keyid, sig: Buffer.alloc(64, 1).toString('base64') };
    doc.signatures = Array.from({ length: 200_000 }, () => bad);
    await writeFile(file, JSON.stringify(doc));
    const flood = await open(root);
    const error = (await flood.registry.list().catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_SIGNATURE');
    expect(error.details?.failedKeys).toEqual([A.keyId]);
    // Tried once means the first signature under a key id is the one that counts.
    doc.signatures = [bad, good];
    await writeFile(file, JSON.stringify(doc));
    expect(await codeOf((await open(root)).registry.list())).toBe('E_SIGNATURE');
    doc.signatures = [good, bad];
    await writeFile(file, JSON.stringify(doc));
    expect(await codeOf((await open(root)).registry.list())).toBe('resolved');
  });

  it('parses durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('checks at use', () => {
  it('an entry changed after signing is refused on a cold cache with nothing stored; the warm cache keeps the checked copy', async () => {
    const root = await signedRegistry();
    const { registry, dir } = await open(root);
    await registry.fetch('tool', 'com.test.echo@1');
    const contentBefore = await readdir(join(dir, 'cache', 'v1', 'content'));
    await writeFile(join(root, 'registry', 'curated', 'echo', 'src', 'index.js'), 'export const x = 1;\n');
    const cold = await open(root);
    expect(await codeOf(cold.registry.fetch('tool', 'com.test.echo@1'))).toBe('E_SIGNATURE');
    expect(await readdir(join(cold.dir, 'cache', 'v1', 'content')).catch(() => [])).toEqual([]);
    expect(await readdir(join(dir, 'cache', 'v1', 'content'))).toEqual(contentBefore);
  });

  it('an index that expires while cached is refused at its next use, offline too; allowExpired warns', async () => {
    const root = await signedRegistry({ expires: '1h' });
    let now = Date.now();
    const { registry, dir } = await open(root, { cacheDuration: 10 * 3_600_000 }, { now: () => now });
    await registry.list();
    now += 2 * 3_600_000;
    expect(await codeOf(registry.list())).toBe('E_SIGNATURE');
    const offline = await createRegistry(
      { registries: { acme: { type: 'dir', location: root, publicKeys: [keyA] } }, cacheSettings: { directory: join(dir, 'cache') } },
      { sources: [countingSource().adapter], env: {}, baseDir: dir, offline: true, now: () => now },
    );
    expect(await codeOf(offline.list())).toBe('E_SIGNATURE');
    const warnings: RegistryWarning[] = [];
    const allowed = await createRegistry(
      { registries: { acme: { type: 'dir', location: root, publicKeys: [keyA] } }, cacheSettings: { directory: join(dir, 'cache') } },
      { sources: [countingSource().adapter], env: {}, baseDir: dir, offline: true, allowExpired: true, now: () => now, onWarning: (w) => warnings.push(w) },
    );
    expect((await allowed.list()).length).toBeGreaterThan(0);
    expect(warnings.map((w) => w.code)).toContain('W_EXPIRED');
  });

  it('with the cache off the highest version is kept in the install area, and survives a restart', async () => {
    const root = await signedRegistry({ version: 3 });
    const v3 = await readFile(join(root, 'registry.json'));
    const hostDir = await tempDir();
    const host = () =>
      createRegistry(
        { registries: { acme: { type: 'dir', location: root, publicKeys: [keyA] } }, cacheSettings: { enabled: false } },
        { sources: [countingSource().adapter], env: {}, baseDir: hostDir },
      );
    await (await host()).list();
    const trustFiles = await readdir(join(hostDir, 'node_modules', '.agentos-registry', 'trust'));
    expect(trustFiles).toHaveLength(1);
    expect(JSON.parse(await readFile(join(hostDir, 'node_modules', '.agentos-registry', 'trust', trustFiles[0]!), 'utf8'))).toMatchObject({ version: 3 });
    await signRegistry(root, { key: A.privateKey });
    await (await host()).list();
    await writeFile(join(root, 'registry.json'), v3);
    expect(await codeOf((await host()).list())).toBe('E_SIGNATURE');
  });

  it('verified results under publicKeys say verified: true', async () => {
    const root = await signedRegistry();
    const { registry } = await open(root, { verified: true });
    const fetched = await registry.fetch('tool', 'com.test.echo@1');
    expect(fetched.provenance.verified).toBe(true);
    expect((await registry.list()).every((row) => row.verified)).toBe(true);
  });
});

it("code from an entry's npm package is not covered by the index signature: provenance.verified is false", async () => {
  const files = pageRegistry();
  const doc = files['registry.json'] as { extensions: { curated: Array<Record<string, unknown>> } };
  doc.extensions.curated.push({ id: 'com.test.remote', name: 'Remote', version: '2.0.0', path: 'curated/remote', package: '@test/remote' });
  files['registry/curated/remote/package.json'] = { name: '@test/remote', version: '2.0.0', main: 'dist/index.js' };
  const root = await writeTree(files);
  await signRegistry(root, { key: A.privateKey, name: 'acme', expires: '1d' });
  const packages = defineSource({
    type: 'pkgs',
    create: () => {
      throw new Error('not a registry source');
    },
    async fetchPackage(request) {
      await writeTree(
        { 'package.json': { name: '@test/remote', version: '2.0.0', type: 'module', main: 'dist/index.js' }, 'dist/index.js': 'export const x = 1;\n' },
        request.destination,
      );
      return { version: request.version, integrity: 'sha512-npm', resolved: 'http://127.0.0.1/remote.tgz' };
    },
  });
  const dir = await tempDir();
  const registry = await createRegistry(
    {
      registries: { acme: { type: 'dir', location: root, verified: true, publicKeys: [keyA] } },
      defaultRegistries: { tool: 'acme' },
      cacheSettings: { directory: join(dir, 'cache') },
    },
    { sources: [countingSource().adapter, packages], env: {} },
  );
  expect((await registry.fetch('tool', 'com.test.remote')).provenance.verified).toBe(true);
  const fromPackage = await registry.fetch('tool', 'com.test.remote', { code: 'package' });
  expect(fromPackage.from).toBe('package');
  expect(fromPackage.provenance.verified).toBe(false);
});

describe('signRegistry writes registry.json safely', () => {
  it('through no link planted at its temporary name: the file the link names is left as it was', async () => {
    // The temporary name was registry.json.<pid>.<now>.tmp, opened without O_EXCL (hostile review).
    const root = await writeTree(pageRegistry());
    const victim = join(await tempDir(), 'victim.txt');
    await writeFile(victim, 'untouched');
    await symlink(victim, join(root, `registry.json.${process.pid}.1700000000000.tmp`));
    await signRegistry(root, { key: A.privateKey, name: 'acme', expires: '1d', now: () => 1_700_000_000_000 });
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect(JSON.parse(await readFile(join(root, 'registry.json'), 'utf8')).signed.name).toBe('acme');
  });
});
