/**
 * The content hash on every fetched entry and the lockfile (issue 15): h1 recomputed with coreutils, kept in the
 * cache record, and a lockfile that pins references so that drift is a warning, or E_LOCK_MISMATCH when frozen.
 */
import { execFileSync } from 'node:child_process';
import { chmod, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  contentHashOf,
  createRegistry,
  type Lockfile,
  parseLockfile,
  RegistryError,
  type RegistryWarning,
  readLockfile,
  scanTree,
  serializeLockfile,
  withLocked,
  writeLockfile,
  emptyLockfile,
} from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

/** h1 by coreutils alone, as docs/lockfile.md gives it. */
function h1ByCoreutils(dir: string): string {
  const hex = execFileSync('sh', ['-c', "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -d' ' -f1"], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  return `h1:${Buffer.from(hex, 'hex').toString('base64')}`;
}

/** The `;modes:` suffix by coreutils alone, as docs/lockfile.md gives it. */
function modesByCoreutils(dir: string): string {
  const hex = execFileSync(
    'sh',
    ['-c', "{ find . -type f -perm /111 -printf 'x %P\\n'; find . -type l -printf 'l %P\\0%l\\n'; } | LC_ALL=C sort | sha256sum | cut -d' ' -f1"],
    { cwd: dir, encoding: 'utf8' },
  ).trim();
  return Buffer.from(hex, 'hex').toString('base64');
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RegistryError)) throw new Error(`expected a RegistryError, got ${String(error)}`);
  return error;
}

async function setup() {
  const dir = await writeTree(pageRegistry());
  const cache = await tempDir();
  const { adapter, calls } = countingSource('dir');
  const warnings: RegistryWarning[] = [];
  const open = (options: { lockfile?: Lockfile; frozen?: boolean; cacheDir?: string } = {}) =>
    createRegistry(
      { registries: { corp: { type: 'dir', location: dir, cacheDuration: 0 } }, cacheSettings: { directory: options.cacheDir ?? cache } },
      {
        sources: [adapter],
        env: {},
        onWarning: (w) => warnings.push(w),
        ...(options.lockfile ? { lockfile: options.lockfile } : {}),
        ...(options.frozen ? { frozen: true } : {}),
      },
    );
  return { dir, cache, calls, warnings, open };
}

/** Locks the tool and the persona of the page registry. */
async function lockBoth(open: Awaited<ReturnType<typeof setup>>['open']): Promise<Lockfile> {
  const registry = await open();
  let lock = emptyLockfile();
  lock = withLocked(lock, await registry.lock('tool', 'com.test.echo@^1'));
  lock = withLocked(lock, await registry.lock('tool', 'com.test.helper'));
  await registry.close();
  return lock;
}

describe('content hash of fetched entries', () => {
  it('is the h1 that coreutils gives over the fetched folder, on the result and its provenance', async () => {
    const { open } = await setup();
    const registry = await open();
    const fetched = await registry.fetch('tool', 'com.test.echo');
    expect(fetched.h1).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    expect(fetched.h1).toBe(h1ByCoreutils(fetched.dir));
    expect(fetched.provenance.h1).toBe(fetched.h1);
    const info = await registry.info('tool', 'com.test.echo');
    expect(info.provenance.h1).toBe(fetched.h1);
    await registry.close();
  });

  it('is kept in the cache record: a warm fetch in a new process reads it back instead of hashing again', async () => {
    const { open, cache } = await setup();
    const first = await open();
    const fetched = await first.fetch('tool', 'com.test.echo');
    await first.close();
    const refs: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name.endsWith('.json')) refs.push(join(d, e.name));
      }
    };
    await walk(cache);
    const records = await Promise.all(refs.map(async (f) => readFile(f, 'utf8')));
    const withH1 = records.filter((r) => r.includes(fetched.h1));
    expect(withH1.length).toBeGreaterThan(0);
    // The record's h1 is what a warm fetch reports: tamper with it and the warm fetch reports the tampered value,
    // which shows it is read, not recomputed (the files themselves are unchanged and pass their fingerprint).
    const recordFile = refs[records.findIndex((r) => r.includes(fetched.h1) && r.includes('"revision"'))]!;
    const fake = 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    await writeFile(recordFile, (await readFile(recordFile, 'utf8')).replace(fetched.h1, fake));
    const second = await open();
    const warm = await second.fetch('tool', 'com.test.echo');
    expect(warm.fromCache).toBe(true);
    expect(warm.h1).toBe(fake);
    await second.close();
  });

  it('is computed from the stored files for a cache record written before h1 was recorded', async () => {
    const { open, cache } = await setup();
    const first = await open();
    const fetched = await first.fetch('tool', 'com.test.echo');
    await first.close();
    const records: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name.endsWith('.json') && (await readFile(join(d, e.name), 'utf8')).includes(`"h1":"${fetched.h1}"`)) records.push(join(d, e.name));
      }
    };
    await walk(cache);
    expect(records.length).toBe(1);
    const record = JSON.parse(await readFile(records[0]!, 'utf8')) as { extra?: Record<string, string> };
    delete record.extra;
    await writeFile(records[0]!, JSON.stringify(record));
    const second = await open();
    const warm = await second.fetch('tool', 'com.test.echo');
    expect(warm.fromCache).toBe(true);
    expect(warm.h1).toBe(fetched.h1);
    await second.close();
  });

  it('gets an explicit ;modes: suffix for an executable file or a symlink, which coreutils recompute too', async () => {
    const dir = await writeTree({ 'a.js': 'one', 'bin/run': '#!/bin/sh\n' });
    const plain = contentHashOf(await scanTree(dir, { fileHashes: true }));
    expect(plain).toBe(h1ByCoreutils(dir));
    await chmod(join(dir, 'bin/run'), 0o755);
    const executable = contentHashOf(await scanTree(dir, { fileHashes: true }));
    // The h1 part is unchanged (h1 ignores modes); the suffix is what makes the executable bit count.
    expect(executable).toBe(`${plain};modes:${modesByCoreutils(dir)}`);
    await symlink('a.js', join(dir, 'b.js'));
    const linked = contentHashOf(await scanTree(dir, { fileHashes: true }));
    expect(linked).toBe(`${plain};modes:${modesByCoreutils(dir)}`);
    expect(linked).not.toBe(executable);
  });
});

describe('content hash: names that would forge a line', () => {
  it('a file name with a newline is E_UNSAFE_PATH naming it, not a hash', async () => {
    const dir = await writeTree({ 'a.js': 'one' });
    await writeFile(join(dir, 'evil\nx'), 'two');
    const error = await failure(scanTree(dir, { fileHashes: true }).then((scan) => contentHashOf(scan, 'corp')));
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(error.registry).toBe('corp');
  });

  it('a space in a link name cannot stand for the separator: link "a b" -> "c" and link "a" -> "b c" hash differently', async () => {
    // Two different trees: in the first "a b" is a link to the file c, in the second "a" is a link to the folder "b c".
    // With "l <path> <target>" lines both gave the line "l a b c", so one passed a lock of the other (hostile review).
    const files = { 'SOUL.md': 'hi', c: 'file', 'b c/f': 'folder' };
    const first = await writeTree(files);
    await symlink('c', join(first, 'a b'));
    const second = await writeTree(files);
    await symlink('b c', join(second, 'a'));
    const one = contentHashOf(await scanTree(first, { fileHashes: true }));
    const two = contentHashOf(await scanTree(second, { fileHashes: true }));
    expect(one).not.toBe(two);
    expect(one.split(';modes:')[1]).toBe(modesByCoreutils(first));
    expect(two.split(';modes:')[1]).toBe(modesByCoreutils(second));
  });
});

describe('lockfile', () => {
  it('is written with a stable key order, sorted entries, and reads back the same', async () => {
    const { open } = await setup();
    const lock = await lockBoth(open);
    const text = serializeLockfile(lock);
    // Reversed input order gives the same text.
    expect(serializeLockfile({ lockfileVersion: 1, entries: [...lock.entries].reverse() })).toBe(text);
    expect(serializeLockfile(parseLockfile(text))).toBe(text);
    const doc = JSON.parse(text) as { entries: Array<Record<string, unknown>> };
    expect(doc.entries.map((e) => `${e.kind} ${e.ref}`)).toEqual(['persona com.test.helper', 'tool com.test.echo@^1']);
    expect(Object.keys(doc.entries[1]!)).toEqual(['kind', 'ref', 'registry', 'source', 'id', 'version', 'revision', 'index', 'h1']);
    expect(doc.entries[1]).toMatchObject({ registry: 'corp', id: 'com.test.echo', version: '1.0.0', source: { type: 'dir' } });
    const file = join(await tempDir(), 'agentos-registry.lock.json');
    await writeLockfile(file, lock);
    expect(await readFile(file, 'utf8')).toBe(text);
    expect(await readLockfile(file)).toEqual(parseLockfile(text));
    expect(await readLockfile(join(await tempDir(), 'none.json'))).toBeUndefined();
  });

  it('is written through no link planted at its temporary name: the file the link names is left as it was', async () => {
    // The temporary name was the pid and the clock's milliseconds, opened without O_EXCL: whoever may write the folder
    // could plant a link there and have the lockfile's bytes written over a file of the user's (hostile review).
    const folder = await tempDir();
    const victim = join(await tempDir(), 'victim.txt');
    await writeFile(victim, 'untouched');
    const now = vi.spyOn(Date, 'now').mockReturnValue(1_700_000_000_000);
    try {
      await symlink(victim, join(folder, `.agentos-registry.lock.json.${process.pid}.1700000000000.tmp`));
      await writeLockfile(join(folder, 'agentos-registry.lock.json'), emptyLockfile());
    } finally {
      now.mockRestore();
    }
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect(await readLockfile(join(folder, 'agentos-registry.lock.json'))).toEqual(emptyLockfile());
  });

  it('refuses a malformed lockfile naming the field', async () => {
    const error = await failure(Promise.resolve().then(() => parseLockfile('{"lockfileVersion":1,"entries":[{"kind":"tool"}]}', 'x.lock.json')));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('entries[0].ref');
  });

  it('keeps no userinfo, query or fragment of a location', async () => {
    const lock = withLocked(emptyLockfile(), {
      kind: 'tool',
      ref: 'x',
      registry: 'r',
      source: { type: 'url', location: 'https://user:s3cr3t-pass@example.test/reg/?token=abc123#frag' },
      id: 'x',
      version: '1.0.0',
      revision: 'etag',
      h1: 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    });
    const npm = withLocked(lock, {
      ...lock.entries[0]!,
      ref: 'y',
      source: { type: 'npm', location: '@corp/reg@latest (https://npm.example.test/?_authToken=zzz9999#x)' },
    });
    const text = serializeLockfile(npm);
    expect(text).toContain('"location": "https://example.test/reg/"');
    expect(text).toContain('"location": "@corp/reg@latest (https://npm.example.test/)"');
    expect(text).not.toContain('zzz9999');
    for (const secret of ['user', 's3cr3t-pass', 'abc123', 'frag']) expect(text).not.toContain(secret);
  });

  it('keeps no query of a URL whose path holds parentheses, alone or inside a longer location', () => {
    // A "(" is legal in a URL path; the URL stopped there, and the query after it was written to the lockfile (the
    // redactor hid a `token=` value, not a `sig=` or a signed URL's signature).
    const entry = (location: string) => ({
      kind: 'tool',
      ref: `x${location.length}`,
      registry: 'r',
      source: { type: 'custom', location },
      id: 'x',
      version: '1.0.0',
      revision: 'etag',
      h1: 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    });
    const text = serializeLockfile({
      lockfileVersion: 1,
      entries: [
        entry('https://example.test/a(b)/registry.json?token=qq7777'),
        entry('pkg@1 (https://example.test/x(1)/?sig=qq8888)'),
        entry('https://example.test/a(b)?X-Amz-Signature=qq9999'),
      ],
    });
    expect(text).not.toContain('qq7777');
    expect(text).not.toContain('qq8888');
    expect(text).not.toContain('qq9999');
    expect(text).toContain('"location": "https://example.test/a(b)/registry.json"');
    expect(text).toContain('"location": "pkg@1 (https://example.test/x(1)/)"');
  });

  it('frozen: a locked entry whose content is cached is served with no call to its source, whatever cacheDuration says', async () => {
    const { open, calls } = await setup();
    const lock = await lockBoth(open);
    const before = { ...calls };
    const registry = await open({ lockfile: lock, frozen: true });
    const tool = await registry.load('tool', 'com.test.echo@^1');
    const persona = await registry.load('persona', 'com.test.helper');
    expect(tool.fetched.fromCache).toBe(true);
    expect(persona.fetched.fromCache).toBe(true);
    expect(calls).toEqual(before);
    await registry.close();
  });

  it('frozen: served from the cache with no call to the source even after the cached index moved to a new revision', async () => {
    const { open, calls, dir } = await setup();
    const lock = await lockBoth(open);
    const locked = lock.entries.find((e) => e.id === 'com.test.echo')!;
    expect(locked.index).toMatch(/^sha512-/);
    // Upstream moves on (the tool changed too), and an unlocked run caches the new index.
    await writeTree(pageRegistry({ toolVersion: '1.1.0' }), dir);
    const unlocked = await open();
    expect((await unlocked.fetch('tool', 'com.test.echo@^1')).version).toBe('1.1.0');
    await unlocked.close();
    const before = { ...calls };
    const registry = await open({ lockfile: lock, frozen: true });
    const fetched = await registry.fetch('tool', 'com.test.echo@^1');
    expect(fetched).toMatchObject({ version: '1.0.0', h1: locked.h1, revision: locked.revision, fromCache: true });
    expect(calls).toEqual(before);
    // --refresh asks the source, which now has other files: refused.
    const refreshed = await open({ lockfile: lock, frozen: true });
    const error = await failure(refreshed.fetch('tool', 'com.test.echo@^1', { refresh: true }));
    expect(error.code).toBe('E_LOCK_MISMATCH');
    await registry.close();
    await refreshed.close();
  });

  it('frozen: an unlocked reference is E_LOCK_MISMATCH, and nothing is asked of the source', async () => {
    const { open, calls } = await setup();
    const lock = await lockBoth(open);
    const before = { ...calls };
    const registry = await open({ lockfile: lock, frozen: true });
    const error = await failure(registry.fetch('tool', 'com.test.echo'));
    expect(error.code).toBe('E_LOCK_MISMATCH');
    expect(error.message).toContain('"com.test.echo" is not in the lockfile');
    expect(calls).toEqual(before);
    await registry.close();
  });

  it('frozen: a changed file is E_LOCK_MISMATCH naming the entry, expected and actual h1; nothing of it is stored', async () => {
    const { open, dir } = await setup();
    const lock = await lockBoth(open);
    const locked = lock.entries.find((e) => e.id === 'com.test.echo')!;
    await writeFile(join(dir, 'registry/curated/echo/src/index.js'), 'export function createExtensionPack() { return { name: "evil", descriptors: [] }; }\n');
    // Another host: a cache that does not hold the locked content.
    const fresh = await tempDir();
    const registry = await open({ lockfile: lock, frozen: true, cacheDir: fresh });
    const error = await failure(registry.load('tool', 'com.test.echo@^1'));
    expect(error.code).toBe('E_LOCK_MISMATCH');
    expect(error.registry).toBe('corp');
    expect(error.message).toContain('com.test.echo');
    expect(error.message).toContain(`expected ${locked.h1}`);
    expect(error.details?.drift).toEqual([{ field: 'h1', expected: locked.h1, actual: expect.stringMatching(/^h1:/) }]);
    await registry.close();
    const stored = await readdir(join(fresh, 'content')).catch(() => []);
    expect(stored).toEqual([]);
  });

  it('frozen: a re-versioned entry (the range now picks another version) is E_LOCK_MISMATCH naming both versions', async () => {
    const { open, dir } = await setup();
    const lock = await lockBoth(open);
    await writeTree(pageRegistry({ toolVersion: '1.1.0' }), dir);
    const registry = await open({ lockfile: lock, frozen: true, cacheDir: await tempDir() });
    const error = await failure(registry.fetch('tool', 'com.test.echo@^1'));
    expect(error.code).toBe('E_LOCK_MISMATCH');
    expect(error.message).toContain('version: expected 1.0.0, actual 1.1.0');
    await registry.close();
  });

  it('without frozen, drift is a W_LOCK_DRIFT warning and the current entry is used', async () => {
    const { open, dir, warnings } = await setup();
    const lock = await lockBoth(open);
    await writeFile(
      join(dir, 'registry/curated/echo/src/index.js'),
      'export function createExtensionPack() { return { name: "changed", descriptors: [] }; }\n',
    );
    const registry = await open({ lockfile: lock, cacheDir: await tempDir() });
    const loaded = await registry.load('tool', 'com.test.echo@^1');
    expect(loaded.pack.name).toBe('changed');
    expect(warnings.map((w) => w.code)).toContain('W_LOCK_DRIFT');
    // An unlocked reference is fine without frozen.
    await registry.fetch('tool', 'com.test.echo');
    await registry.close();
  });

  it('an upstream change that leaves the entry unchanged is no drift', async () => {
    const { open, dir } = await setup();
    const lock = await lockBoth(open);
    const index = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'registry.json'), JSON.stringify({ ...index, updated: '2030-01-01T00:00:00.000Z' }));
    const registry = await open({ lockfile: lock, frozen: true, cacheDir: await tempDir() });
    const fetched = await registry.fetch('tool', 'com.test.echo@^1');
    expect(fetched.h1).toBe(lock.entries.find((e) => e.id === 'com.test.echo')!.h1);
    expect(fetched.revision).not.toBe(lock.entries.find((e) => e.id === 'com.test.echo')!.revision);
    await registry.close();
  });

  it('frozen without a lockfile is E_CONFIG', async () => {
    const { dir } = await setup();
    const error = await failure(
      createRegistry({ registries: { corp: { type: 'dir', location: dir } } }, { sources: [countingSource('dir').adapter], frozen: true }),
    );
    expect(error.code).toBe('E_CONFIG');
  });
});
