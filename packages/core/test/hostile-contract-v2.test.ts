/**
 * Contract v2 attacked as a hostile source, registry or network would: snapshots and archive answers that try to
 * write or read outside the cache, answers that are garbage or never come, signed registries whose snapshot disagrees
 * with the signed index, bombs, secrets in messages, and a cache shared with another process mid-extraction. Each
 * case checks the error code and its advice, that nothing outside the cache was written, and that the cache is
 * byte for byte as before (every file hashed).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { startStaticServer } from '@agentos-registry/test-servers';
import { describe, expect, it } from 'vitest';
import {
  type ArchiveAnswer,
  createDeterministicTarball,
  createHttpClient,
  createRegistry,
  defineSource,
  generateKeyPair,
  integrityOf,
  type RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  signRegistry,
} from '../src/index.js';
import { isRegistryError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { readSource, Snapshots } from '../src/snapshots.js';
import { pageRegistry, tempDir, writeTree } from './helpers.js';

// ── a tar writer that writes whatever it is told (core's packer refuses the hostile shapes) ──────────────────────────

interface TarItem {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  body?: string | Buffer;
  link?: string;
  size?: number;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(item: TarItem, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(item.name, 0, 100, 'utf8');
  const type = item.type ?? 'file';
  block.write(octal(type === 'dir' ? 0o755 : 0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.write('        ', 148);
  block.write({ file: '0', hardlink: '1', symlink: '2', dir: '5' }[type], 156);
  if (item.link) block.write(item.link, 157, 100, 'utf8');
  block.write('ustar\x0000', 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

function tar(items: TarItem[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    const body = item.type === 'file' || item.type === undefined ? Buffer.from(item.body ?? '') : Buffer.alloc(0);
    parts.push(header(item, item.size ?? body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The page registry as tar items under `top/`, plus `extra` (later items of the same name replace earlier ones). */
function pageItems(extra: TarItem[] = []): TarItem[] {
  const items: TarItem[] = [];
  for (const [path, content] of Object.entries(pageRegistry())) {
    items.push({ name: `top/${path}`, body: typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n` });
  }
  return [...items, ...extra];
}

// ── harness ────────────────────────────────────────────────────────────────────────────────────────────────────────

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as RegistryError,
  );

/** Every file, link and folder under `dir`, with the sha256 of each file's bytes. */
async function snapshotOf(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  // A folder being removed while it is listed (a partial download unwinding) is simply not there.
  const gone = (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  };
  for (const entry of (await readdir(dir, { withFileTypes: true, recursive: true }).catch(gone)) ?? []) {
    const path = join(entry.parentPath, entry.name);
    const value = entry.isSymbolicLink()
      ? await readlink(path).then((target) => `link ${target}`, gone)
      : entry.isDirectory()
        ? 'dir'
        : await readFile(path).then((bytes) => createHash('sha256').update(bytes).digest('hex'), gone);
    if (value !== undefined) out.set(path, value);
  }
  return out;
}

/** Files a failed call may leave: lock files and the cache's own bookkeeping, never an index, entry or snapshot. */
function unexpected(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [path, hash] of after) {
    if (before.get(path) === hash) continue;
    if (hash === 'dir' && !/snapshots[/\\]./.test(path) && !/content[/\\]./.test(path)) continue;
    if (path.endsWith('.lock')) continue;
    out.push(path);
  }
  for (const path of before.keys()) if (!after.has(path)) out.push(`removed ${path}`);
  return out;
}

type SnapshotFn = (revision: { id: string }, ctx: SourceCallContext) => Promise<ArchiveAnswer>;

function hostileAdapter(snapshot: SnapshotFn, options: { index?: () => Promise<Uint8Array | undefined>; id?: string } = {}): SourceAdapter {
  return defineSource({
    type: 'hostile',
    options: { password: 'secret', mirror: 'transport' },
    create: () => ({
      displayLocation: 'hostile://registry',
      async revision() {
        const index = options.index ? await options.index() : undefined;
        return { id: options.id ?? 'b'.repeat(40), ...(index ? { index } : {}) };
      },
      snapshot,
    }),
  });
}

async function openWith(adapter: SourceAdapter, cache: string | false, extra: Record<string, unknown> = {}) {
  return createRegistry(
    {
      registries: { evil: { type: adapter.type, location: 'hostile://registry', ...extra } },
      defaultRegistries: { tool: 'evil', persona: 'evil' },
      cacheSettings: cache === false ? { enabled: false } : { directory: cache },
    },
    { sources: [adapter], env: {} },
  );
}

/**
 * Runs `use` against a fresh registry over `snapshot`, in a cache that holds a warm, unrelated registry, next to a
 * folder outside the cache. Returns the error, and checks the cache and the outside folder are as before.
 */
async function attack(
  snapshot: SnapshotFn,
  use: (registry: Awaited<ReturnType<typeof openWith>>) => Promise<unknown>,
  extra: Record<string, unknown> = {},
  options: { extracted?: boolean } = {},
) {
  const cache = await tempDir('hostile-cache-');
  const outside = await tempDir('hostile-outside-');
  await writeFile(join(outside, 'keep.txt'), 'untouched');
  const before = await snapshotOf(cache);
  const outsideBefore = await snapshotOf(outside);
  const registry = await openWith(hostileAdapter(snapshot), cache, extra);
  let error: RegistryError;
  try {
    error = await failure(use(registry));
  } finally {
    await registry.close();
  }
  // A snapshot that extracted cleanly (the failure came after, reading an entry) is kept: it is that revision's files,
  // and so is its valid index.
  const kept = /snapshots[/\\][0-9a-f]{32}|[/\\](indexes|blobs)[/\\]/;
  const left = unexpected(before, await snapshotOf(cache)).filter((path) => !(options.extracted && kept.test(path)));
  expect(left, left.join('\n')).toEqual([]);
  expect(await snapshotOf(outside)).toEqual(outsideBefore);
  return { error, outside };
}

const tarAnswer =
  (items: TarItem[], rest: Partial<ArchiveAnswer> = {}): SnapshotFn =>
  async () => ({ archive: tar(items), strip: 1, ...rest });

// ── archive shapes ──────────────────────────────────────────────────────────────────────────────────────────────────

describe('a snapshot that reaches outside', () => {
  for (const subdir of ['..', '../..', '/etc', 'a/../../x', 'C:/Windows']) {
    it(`subdir ${JSON.stringify(subdir)} is refused before anything is written`, async () => {
      const { error } = await attack(tarAnswer(pageItems(), { subdir }), (r) => r.list());
      expect(error.code).toBe('E_UNSAFE_PATH');
      expect(error.message).toContain(subdir);
    });
  }

  it('a subdir that is a link in the archive extracts nothing through the link', async () => {
    const items = pageItems().map((item) => ({ ...item, name: item.name.replace('top/', 'top/real/') }));
    const { error } = await attack(
      tarAnswer([...items, { name: 'top/sub', type: 'symlink', link: 'real' }], { subdir: 'sub' }),
      (r) => r.list(),
      {},
      { extracted: true },
    );
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toMatch(/registry\.json/);
    expect(error.message).toMatch(/subdir/);
  });

  it('a hard link to a file outside is refused', async () => {
    const { error } = await attack(tarAnswer(pageItems([{ name: 'top/registry/curated/echo/passwd', type: 'hardlink', link: '/etc/passwd' }])), (r) =>
      r.list(),
    );
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(error.message).toContain('hard link');
  });

  it('a hard link climbing out by ".." is refused', async () => {
    const { error } = await attack(tarAnswer(pageItems([{ name: 'top/registry/curated/echo/x', type: 'hardlink', link: '../../../../etc/passwd' }])), (r) =>
      r.list(),
    );
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  it('registry/curated as a symlink out of the snapshot is refused; nothing is written through it', async () => {
    const outside = await tempDir('hostile-target-');
    const items = [
      ...pageItems().filter((item) => !item.name.includes('registry/curated')),
      { name: 'top/registry/curated', type: 'symlink' as const, link: outside },
    ];
    items.push({ name: 'top/registry/curated/echo/manifest.json', body: '{"pwned":true}' });
    const { error } = await attack(tarAnswer(items), (r) => r.list());
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([]);
  });

  it('a relative symlink climbing out, then a file written through it, is refused', async () => {
    const items = pageItems([
      { name: 'top/registry/up', type: 'symlink', link: '../../../..' },
      { name: 'top/registry/up/tmp/pwned', body: 'x' },
    ]);
    const { error } = await attack(tarAnswer(items), (r) => r.list());
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  it('an entry folder that is a symlink to / is refused', async () => {
    const items = [
      ...pageItems().filter((item) => !item.name.includes('registry/curated/echo')),
      { name: 'top/registry/curated/echo', type: 'symlink' as const, link: '/' },
    ];
    const { error } = await attack(tarAnswer(items), (r) => r.fetch('tool', 'com.test.echo'));
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  it('registry.json as a symlink to a host file is refused', async () => {
    const items = [
      ...pageItems().filter((item) => !item.name.endsWith('registry.json')),
      { name: 'top/registry.json', type: 'symlink' as const, link: '/etc/hostname' },
    ];
    const { error } = await attack(tarAnswer(items), (r) => r.list());
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  it('an entry folder linked to another entry is served from inside the snapshot, and its link out of the entry is refused', async () => {
    const cache = await tempDir('hostile-cache-');
    // community/echo → ../curated/echo: inside the snapshot, so it is served as the other entry's files.
    const items = [
      ...pageItems().filter((item) => !item.name.includes('community/echo')),
      { name: 'top/registry/community/echo', type: 'symlink' as const, link: '../curated/echo' },
    ];
    const registry = await openWith(hostileAdapter(tarAnswer(items)), cache);
    try {
      // The linked folder stays inside the snapshot, so the snapshot is accepted and its entries are served.
      expect((await registry.list()).length).toBeGreaterThan(0);
      const fetched = await registry.fetch('tool', 'com.test.echo');
      expect(existsSync(join(fetched.dir, 'manifest.json'))).toBe(true);
    } finally {
      await registry.close();
    }
    // A link inside an entry that leaves the entry (to the registry root) is refused at copy time.
    const leaky = pageItems([{ name: 'top/registry/curated/echo/root', type: 'symlink', link: '../../..' }]);
    const { error } = await attack(tarAnswer(leaky), (r) => r.fetch('tool', 'com.test.echo'), {}, { extracted: true });
    expect(error.code).toBe('E_UNSAFE_PATH');
  });
});

describe('a snapshot with confusing names', () => {
  it('a duplicate registry.json: the later copy wins (as tar does), and it is what is served', async () => {
    const cache = await tempDir('hostile-cache-');
    const index = JSON.parse(String(pageItems().find((item) => item.name === 'top/registry.json')!.body));
    index.personas.curated = [];
    const registry = await openWith(hostileAdapter(tarAnswer(pageItems([{ name: 'top/registry.json', body: JSON.stringify(index) }]))), cache);
    try {
      const rows = await registry.list();
      expect(rows.some((row) => row.kinds.includes('persona'))).toBe(false);
    } finally {
      await registry.close();
    }
  });

  it('a file, then a folder of the same name, is refused or replaced, never written through', async () => {
    const items = pageItems([
      { name: 'top/registry/curated/echo/src', body: 'a file first' },
      { name: 'top/registry/curated/echo/src/', type: 'dir' },
      { name: 'top/registry/curated/echo/src/x.js', body: 'x' },
    ]);
    const cache = await tempDir('hostile-cache-');
    const registry = await openWith(hostileAdapter(tarAnswer(items)), cache);
    try {
      const outcome = await registry.fetch('tool', 'com.test.echo').then(
        (fetched) => fetched,
        (error: RegistryError) => error,
      );
      if (outcome instanceof Error) expect(['E_UNSAFE_PATH', 'E_INTEGRITY']).toContain((outcome as RegistryError).code);
      else expect((await lstat(join(outcome.dir, 'src'))).isDirectory()).toBe(true);
    } finally {
      await registry.close();
    }
  });

  it('a folder, then a file of the same name, is refused', async () => {
    const items = pageItems([{ name: 'top/registry/curated/echo/src', body: 'a file over a folder' }]);
    const { error } = await attack(tarAnswer(items), (r) => r.fetch('tool', 'com.test.echo'));
    expect(['E_UNSAFE_PATH', 'E_INTEGRITY']).toContain(error.code);
  });

  it('a symlink, then a file of its name, never writes through the link', async () => {
    const target = await tempDir('hostile-target-');
    await writeFile(join(target, 'victim'), 'original');
    const items = pageItems([
      { name: 'top/registry/curated/echo/victim', type: 'symlink', link: join(target, 'victim') },
      { name: 'top/registry/curated/echo/victim', body: 'overwritten' },
    ]);
    const cache = await tempDir('hostile-cache-');
    const registry = await openWith(hostileAdapter(tarAnswer(items)), cache);
    await registry.fetch('tool', 'com.test.echo').catch(() => undefined);
    await registry.close();
    expect(await readFile(join(target, 'victim'), 'utf8')).toBe('original');
  });

  it('a hard link to a file of this archive is a copy, not a link to the cache', async () => {
    const cache = await tempDir('hostile-cache-');
    const items = pageItems([{ name: 'top/registry/curated/echo/copy.js', type: 'hardlink', link: 'top/registry/curated/echo/src/index.js' }]);
    const registry = await openWith(hostileAdapter(tarAnswer(items)), cache);
    try {
      const fetched = await registry.fetch('tool', 'com.test.echo');
      const info = await lstat(join(fetched.dir, 'copy.js'));
      expect(info.isFile()).toBe(true);
      expect(info.nlink).toBe(1);
    } finally {
      await registry.close();
    }
  });
});

// ── answers that are not archives ───────────────────────────────────────────────────────────────────────────────────

describe('a snapshot() that misbehaves', () => {
  it('a TypeError thrown by snapshot() is a RegistryError naming the registry, with nothing left in snapshots/', async () => {
    const { error } = await attack(
      async () => {
        throw new TypeError('cannot read properties of undefined');
      },
      (r) => r.list(),
    );
    expect(isRegistryError(error)).toBe(true);
    expect(error.message).toContain('"evil"');
  });

  it('a thrown string or null is a RegistryError', async () => {
    for (const thrown of ['just a string', null]) {
      const { error } = await attack(
        async () => {
          throw thrown;
        },
        (r) => r.list(),
      );
      expect(isRegistryError(error)).toBe(true);
    }
  });

  const garbage: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a string archive', { archive: 'not bytes' }],
    ['a number archive', { archive: 42 }],
    ['an object archive', { archive: { hello: 'world' } }],
    ['a negative strip', { archive: tar(pageItems()), strip: -1 }],
    ['a fractional strip', { archive: tar(pageItems()), strip: 0.5 }],
    ['a string strip', { archive: tar(pageItems()), strip: '1' }],
    ['a numeric subdir', { archive: tar(pageItems()), strip: 1, subdir: 7 }],
    ['a numeric integrity', { archive: tar(pageItems()), strip: 1, integrity: 7 }],
  ];
  for (const [what, answer] of garbage) {
    it(`an answer that is ${what} is E_SOURCE_CONTRACT, saying what the source must return`, async () => {
      const { error } = await attack(
        async () => answer as ArchiveAnswer,
        (r) => r.list(),
      );
      expect(error.code).toBe('E_SOURCE_CONTRACT');
      expect(error.message).toContain('"evil"');
      expect(error.message).toMatch(/archive/i);
    });
  }

  it('a stream that yields strings, not bytes, is refused and nothing is kept', async () => {
    async function* strings() {
      yield 'hello' as unknown as Uint8Array;
    }
    const { error } = await attack(
      async () => ({ archive: strings() }),
      (r) => r.list(),
    );
    expect(['E_SOURCE_CONTRACT', 'E_INTEGRITY']).toContain(error.code);
  });

  it('a snapshot() that never settles ends at the caller signal, and leaves no partial folder', async () => {
    const cache = await tempDir('hostile-cache-');
    const before = await snapshotOf(cache);
    const registry = await openWith(
      hostileAdapter(() => new Promise<never>(() => {})),
      cache,
    );
    const controller = new AbortController();
    const started = Date.now();
    const pending = failure(registry.list({}, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const error = await pending;
    expect(error.code).toBe('E_ABORTED');
    expect(Date.now() - started).toBeLessThan(20_000);
    await registry.close();
    expect(unexpected(before, await snapshotOf(cache))).toEqual([]);
  });

  it('a stream that stalls mid-archive ends at the caller signal; the partial folder goes', async () => {
    const cache = await tempDir('hostile-cache-');
    const before = await snapshotOf(cache);
    const bytes = tar(pageItems());
    async function* stalls() {
      yield bytes.subarray(0, 2048);
      await new Promise(() => {});
    }
    const registry = await openWith(
      hostileAdapter(async () => ({ archive: stalls(), strip: 1 })),
      cache,
    );
    const controller = new AbortController();
    const pending = failure(registry.list({}, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect((await pending).code).toBe('E_ABORTED');
    await registry.close();
    let left: string[] = ['?'];
    for (let i = 0; i < 500 && left.length > 0; i++) {
      left = unexpected(before, await snapshotOf(cache));
      if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(left).toEqual([]);
  });
});

// ── integrity, bombs, endless streams ───────────────────────────────────────────────────────────────────────────────

describe('archive bytes that are not what was promised', () => {
  it('a wrong integrity is E_INTEGRITY with advice, nothing kept', async () => {
    const { error } = await attack(tarAnswer(pageItems(), { integrity: integrityOf(Buffer.from('other')) }), (r) => r.list());
    expect(error.code).toBe('E_INTEGRITY');
    expect(error.message).toMatch(/re-publish|proxy/);
  });

  it('an integrity with an unsupported algorithm or a bad digest is E_INTEGRITY', async () => {
    for (const integrity of ['md5-1B2M2Y8AsgTpgAmY7PhCfg==', 'sha512-short', '', 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=']) {
      const { error } = await attack(tarAnswer(pageItems(), { integrity }), (r) => r.list());
      expect(error.code, integrity).toBe('E_INTEGRITY');
    }
  });

  it('a gzip bomb is refused, bounded', async () => {
    const bomb = gzipSync(Buffer.concat([tar([{ name: 'top/registry.json', size: 200 * 1024 * 1024 }], { end: false }), Buffer.alloc(200 * 1024 * 1024)]), {
      level: 9,
    });
    const { error } = await attack(
      async () => ({ archive: bomb, strip: 1 }),
      (r) => r.list(),
    );
    expect(['E_UNSAFE_PATH', 'E_INTEGRITY']).toContain(error.code);
    expect(error.message).toMatch(/compression bomb|limit/);
  });

  it('an endless stream of zeros after the end marker is E_INTEGRITY, bounded', async () => {
    const archive = tar(pageItems());
    async function* endless() {
      yield archive;
      const zeros = new Uint8Array(64 * 1024);
      for (;;) yield zeros;
    }
    const { error } = await attack(
      async () => ({ archive: endless(), strip: 1 }),
      (r) => r.list(),
    );
    expect(error.code).toBe('E_INTEGRITY');
    expect(error.message).toContain('end-of-archive');
  });

  it('an endless file (its header claims 1 TiB) is refused at once by maxBytes', async () => {
    const head = tar([{ name: 'top/registry.json', size: 1024 ** 4 }], { end: false }).subarray(0, 512);
    async function* endless() {
      yield head;
      const junk = new Uint8Array(64 * 1024).fill(65);
      for (;;) yield junk;
    }
    const { error } = await attack(
      async () => ({ archive: endless(), strip: 1 }),
      (r) => r.list(),
    );
    expect(error.code).toBe('E_UNSAFE_PATH');
    expect(error.message).toContain('maxBytes');
  });

  it('a tar that is cut short is E_INTEGRITY', async () => {
    const archive = tar(pageItems());
    const { error } = await attack(
      async () => ({ archive: archive.subarray(0, 1500), strip: 1 }),
      (r) => r.list(),
    );
    expect(error.code).toBe('E_INTEGRITY');
  });
});

// ── signed registries ───────────────────────────────────────────────────────────────────────────────────────────────

describe('a signed registry served by a snapshot', () => {
  const key = generateKeyPair();

  async function signedTree(): Promise<string> {
    const root = await writeTree(pageRegistry());
    await signRegistry(root, { key: key.privateKey, name: 'evil', expires: '1d' });
    return root;
  }

  async function openSigned(adapter: SourceAdapter, cache: string) {
    return createRegistry(
      {
        registries: { evil: { type: adapter.type, location: 'hostile://registry', publicKeys: [{ id: key.keyId, key: key.publicKey }], cacheDuration: 0 } },
        defaultRegistries: { tool: 'evil', persona: 'evil' },
        cacheSettings: { directory: cache },
      },
      { sources: [adapter], env: {} },
    );
  }

  it('index bytes from revision() that differ from the signed ones are refused, even though the snapshot holds a signed copy', async () => {
    const root = await signedTree();
    const signed = await readFile(join(root, 'registry.json'));
    const forged = JSON.parse(String(signed));
    forged.extensions.curated[0].name = 'Forged';
    const cache = await tempDir('hostile-cache-');
    const before = await snapshotOf(cache);
    const archive = await createDeterministicTarball(root, { prefix: 'top' });
    const adapter = hostileAdapter(async () => ({ archive, strip: 1 }), { index: async () => Buffer.from(JSON.stringify(forged)) });
    const registry = await openSigned(adapter, cache);
    const error = await failure(registry.list());
    await registry.close();
    expect(error.code).toBe('E_SIGNATURE');
    expect(unexpected(before, await snapshotOf(cache)).filter((path) => !path.includes('snapshots'))).toEqual([]);
  });

  it('unsigned index bytes from revision() are refused', async () => {
    const root = await signedTree();
    const archive = await createDeterministicTarball(root, { prefix: 'top' });
    const unsigned = Buffer.from(JSON.stringify(pageRegistry()['registry.json']));
    const registry = await openSigned(
      hostileAdapter(async () => ({ archive, strip: 1 }), { index: async () => unsigned }),
      await tempDir('hostile-cache-'),
    );
    expect((await failure(registry.list())).code).toBe('E_SIGNATURE');
    await registry.close();
  });

  it('signed index bytes from revision(), but snapshot entry files that differ from the signed h1: E_SIGNATURE, nothing stored', async () => {
    const root = await signedTree();
    const signed = await readFile(join(root, 'registry.json'));
    await writeFile(join(root, 'registry/curated/echo/src/index.js'), 'export function createExtensionPack() { globalThis.pwned = true; }');
    const archive = await createDeterministicTarball(root, { prefix: 'top' });
    const cache = await tempDir('hostile-cache-');
    const registry = await openSigned(
      hostileAdapter(async () => ({ archive, strip: 1 }), { index: async () => signed }),
      cache,
    );
    try {
      expect((await registry.list()).length).toBeGreaterThan(0);
      const error = await failure(registry.fetch('tool', 'com.test.echo'));
      expect(error.code).toBe('E_SIGNATURE');
      expect(error.message).toMatch(/re-sign|restore/);
    } finally {
      await registry.close();
    }
    expect([...(await snapshotOf(join(cache, 'v1', 'content'))).keys()]).toEqual([]);
    expect((globalThis as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('a poisoned snapshot folder left in the work folder by another config is still checked against the signed h1', async () => {
    const root = await signedTree();
    const archive = await createDeterministicTarball(root, { prefix: 'top' });
    const cache = await tempDir('hostile-cache-');
    let workDir = '';
    const adapter = hostileAdapter(async (_revision, ctx) => {
      workDir = ctx.workDir;
      return { archive, strip: 1 };
    });
    const first = await openSigned(adapter, cache);
    await first.list();
    await first.close();
    // Someone with write access to the work folder swaps an entry's files in the extracted snapshot.
    const snapshots = join(workDir, 'snapshots');
    const [folder] = (await readdir(snapshots)).filter((name) => !name.startsWith('.'));
    await writeFile(join(snapshots, folder!, 'registry/curated/echo/src/index.js'), 'export const pwned = 1;');
    const second = await openSigned(adapter, cache);
    try {
      expect((await failure(second.fetch('tool', 'com.test.echo'))).code).toBe('E_SIGNATURE');
    } finally {
      await second.close();
    }
  });
});

// ── secrets ─────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('a secret option', () => {
  const secret = 'sup3r-secret-password-value-9f8e7d';

  it('is not in an error a source throws from snapshot(), nor in its cause, nor in any cache file', async () => {
    const cache = await tempDir('hostile-cache-');
    const adapter = hostileAdapter(async () => {
      throw new Error(`login as admin:${secret} failed at https://admin:${secret}@127.0.0.1/x`);
    });
    const registry = await openWith(adapter, cache, { password: secret });
    const error = await failure(registry.list());
    await registry.close();
    expect(isRegistryError(error)).toBe(true);
    const seen = JSON.stringify({
      message: error.message,
      stack: error.stack,
      cause: String((error as Error).cause),
      causeStack: ((error as Error).cause as Error | undefined)?.stack,
    });
    expect(seen).not.toContain(secret);
    for (const path of (await snapshotOf(cache)).keys()) {
      if ((await lstat(path)).isFile()) expect(await readFile(path, 'latin1'), path).not.toContain(secret);
    }
  });

  it('is not in an error from validate() or create()', async () => {
    for (const hook of ['validate', 'create'] as const) {
      const adapter = defineSource({
        type: 'leaky',
        options: { password: 'secret' },
        validate: (config: Record<string, unknown>) => (hook === 'validate' ? [{ field: 'password', message: `bad password ${String(config.password)}` }] : []),
        create: (config: Record<string, unknown>) => {
          if (hook === 'create') throw new Error(`cannot log in with ${String(config.password)}`);
          return { displayLocation: 'x', revision: async () => ({ id: 'x' }), snapshot: async () => ({ archive: tar(pageItems()), strip: 1 }) };
        },
      } as never);
      const error = await failure(openWith(adapter as SourceAdapter, false, { password: secret }));
      expect(isRegistryError(error), hook).toBe(true);
      expect(`${error.message}${String(error.cause)}`, hook).not.toContain(secret);
    }
  });

  it('is not in the label of an archive answer that fails', async () => {
    const { error } = await attack(
      async () => ({ archive: Buffer.from('not a tar at all, just text'), label: `The tarball at https://u:${secret}@127.0.0.1/a.tgz` }),
      (r) => r.list(),
      { password: secret },
    );
    expect(error.message).not.toContain(secret);
  });
});

// ── the cache shared with another process, cache-off mode, pruning ──────────────────────────────────────────────────

const SHA = 'c'.repeat(40);

function gated(items = pageItems()) {
  const bytes = tar(items);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let halfway!: () => void;
  const reachedHalf = new Promise<void>((resolve) => {
    halfway = resolve;
  });
  const source: RegistrySource = {
    displayLocation: 'test://gated',
    revision: async () => ({ id: SHA }),
    snapshot: async () => {
      async function* body() {
        yield bytes.subarray(0, 1024);
        halfway();
        await gate;
        yield bytes.subarray(1024);
      }
      return { archive: body(), strip: 1 };
    },
  };
  return { source, release, reachedHalf };
}

const context = (workDir: string, signal = new AbortController().signal): SourceCallContext => ({ registry: 'evil', signal, logger: silentLogger, workDir });

describe('a snapshot folder shared with another process', () => {
  it('a snapshot mid-extraction is never served to a second instance; both finish with the same files', async () => {
    const workDir = await tempDir('hostile-work-');
    const a = gated();
    const first = new Snapshots().tree({ name: 'evil', source: a.source }, { id: SHA }, context(workDir));
    await a.reachedHalf;
    // The second process sees only a partial folder: it must not read registry.json from it, nor wait for it.
    const b = gated();
    const second = new Snapshots().tree({ name: 'evil', source: b.source }, { id: SHA }, context(workDir));
    await b.reachedHalf;
    const visible = (await readdir(join(workDir, 'snapshots'))).filter((name) => !name.startsWith('.partial-'));
    expect(visible).toEqual([]);
    const reader = readSource(
      { displayLocation: 'x', revision: async () => ({ id: SHA }), snapshot: () => new Promise<never>(() => {}) } as RegistrySource,
      'evil',
    );
    const controller = new AbortController();
    const third = reader.readIndex({ id: SHA }, context(workDir, controller.signal)).then(
      () => 'served',
      (error: RegistryError) => error.code,
    );
    setTimeout(() => controller.abort(), 30);
    expect(await third).toBe('E_ABORTED');
    // The rename race: both complete; the loser keeps the winner's folder and removes its own.
    a.release();
    b.release();
    const [one, two] = await Promise.all([first, second]);
    expect(one).toBe(two);
    expect(JSON.parse(await readFile(join(one, 'registry.json'), 'utf8')).version).toBe('1.0.0');
    expect(await readdir(join(workDir, 'snapshots'))).toEqual([one.split(/[/\\]/).pop()]);
  });

  it('an aborted first caller does not fail a second one waiting for the same download', async () => {
    const workDir = await tempDir('hostile-work-');
    const g = gated();
    const trees = new Snapshots();
    const reg = { name: 'evil', source: g.source };
    const impatient = new AbortController();
    const first = trees.tree(reg, { id: SHA }, context(workDir, impatient.signal)).catch((error: RegistryError) => error.code);
    await g.reachedHalf;
    const second = trees.tree(reg, { id: SHA }, context(workDir));
    impatient.abort();
    expect(await first).toBe('E_ABORTED');
    g.release();
    expect(existsSync(join(await second, 'registry.json'))).toBe(true);
  });

  it('every caller aborting mid-extraction leaves no partial folder; the next caller downloads afresh', async () => {
    const workDir = await tempDir('hostile-work-');
    const g = gated();
    const trees = new Snapshots();
    const reg = { name: 'evil', source: g.source };
    const controller = new AbortController();
    const first = trees.tree(reg, { id: SHA }, context(workDir, controller.signal)).catch((error: RegistryError) => error.code);
    await g.reachedHalf;
    controller.abort();
    expect(await first).toBe('E_ABORTED');
    let left = ['?'];
    for (let i = 0; i < 500 && left.length > 0; i++) {
      left = await readdir(join(workDir, 'snapshots'));
      if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(left).toEqual([]);
    const plain: RegistrySource = {
      displayLocation: 'x',
      revision: async () => ({ id: SHA }),
      snapshot: async () => ({ archive: tar(pageItems()), strip: 1 }),
    };
    expect(existsSync(join(await trees.tree({ name: 'evil', source: plain }, { id: SHA }, context(workDir)), 'registry.json'))).toBe(true);
  });

  it('pruning keeps the revision in use, however many newer ones another instance downloads', async () => {
    const workDir = await tempDir('hostile-work-');
    const plain: RegistrySource = {
      displayLocation: 'x',
      revision: async () => ({ id: SHA }),
      snapshot: async () => ({ archive: tar(pageItems()), strip: 1 }),
    };
    const reg = { name: 'evil', source: plain };
    const mine = new Snapshots();
    const other = new Snapshots();
    const inUse = await mine.tree(reg, { id: '0'.repeat(40) }, context(workDir));
    for (const digit of ['1', '2', '3', '4', '5']) {
      await other.tree(reg, { id: digit.repeat(40) }, context(workDir));
      // The revision in use is read between downloads (a fetch of one of its entries), which keeps it recent.
      const destination = join(await tempDir('hostile-dest-'), 'entry');
      await readSource(plain, 'evil').materialize(
        { path: 'registry/curated/echo', entry: {}, revision: { id: '0'.repeat(40) }, destination },
        context(workDir),
      );
    }
    expect(existsSync(join(inUse, 'registry.json'))).toBe(true);
    // All of them were used in the last minutes, so all are kept; once the others have gone unused for an hour, the
    // next download prunes down to three, the one in use among them.
    const folders = join(workDir, 'snapshots');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const name of await readdir(folders)) if (join(folders, name) !== inUse) await utimes(join(folders, name), anHourAgo, anHourAgo);
    await other.tree(reg, { id: '6'.repeat(40) }, context(workDir));
    expect(existsSync(join(inUse, 'registry.json'))).toBe(true);
    expect((await readdir(folders)).length).toBeLessThanOrEqual(3);
  });
});

describe('with the cache off', () => {
  it('close() leaves nothing of the snapshot behind, even when called while the snapshot is still coming', async () => {
    const g = gated();
    let workDir = '';
    const adapter = defineSource({
      type: 'gated',
      create: () => ({
        ...g.source,
        snapshot: async (revision: { id: string }, ctx: SourceCallContext) => {
          workDir = ctx.workDir;
          return g.source.snapshot!(revision, ctx);
        },
      }),
    });
    const registry = await openWith(adapter, false);
    const listing = registry.list().catch((error: RegistryError) => error.code);
    await g.reachedHalf;
    const scratch = dirname(dirname(workDir));
    expect(existsSync(scratch)).toBe(true);
    await registry.close();
    g.release();
    await listing;
    // Give a late write every chance to land.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(existsSync(scratch)).toBe(false);
  });

  it('a snapshot() that answers only after close() recreates nothing in the temp folder', async () => {
    let answer!: (value: ArchiveAnswer) => void;
    const late = new Promise<ArchiveAnswer>((resolve) => {
      answer = resolve;
    });
    let workDir = '';
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const adapter = hostileAdapter(async (_revision, ctx) => {
      workDir = ctx.workDir;
      asked();
      return late;
    });
    const registry = await openWith(adapter, false);
    const listing = registry.list().catch((error: RegistryError) => error.code);
    await wasAsked;
    const scratch = dirname(dirname(workDir));
    await registry.close();
    answer({ archive: tar(pageItems()), strip: 1 });
    await listing;
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(existsSync(scratch)).toBe(false);
  });

  it('close() after a normal use removes the private temp folder', async () => {
    let workDir = '';
    const adapter = hostileAdapter(async (_revision, ctx) => {
      workDir = ctx.workDir;
      return { archive: tar(pageItems()), strip: 1 };
    });
    const registry = await openWith(adapter, false);
    await registry.fetch('tool', 'com.test.echo');
    const scratch = dirname(dirname(workDir));
    expect(existsSync(join(workDir, 'snapshots'))).toBe(true);
    await registry.close();
    expect(existsSync(scratch)).toBe(false);
  });
});

describe('a materialize() that answers with garbage', () => {
  it('an object that is no archive answer is E_SOURCE_CONTRACT, nothing stored; undefined still means "filled"', async () => {
    for (const [answer, code] of [
      [{ files: 3 }, 'E_SOURCE_CONTRACT'],
      [{ archive: 'text' }, 'E_SOURCE_CONTRACT'],
      [{ archive: tar(pageItems()), strip: -1 }, 'E_SOURCE_CONTRACT'],
    ] as const) {
      const cache = await tempDir('hostile-cache-');
      const index = Buffer.from(JSON.stringify(pageRegistry()['registry.json']));
      const adapter = defineSource({
        type: 'entries',
        create: () => ({
          displayLocation: 'entries://x',
          revision: async () => ({ id: 'r1', index }),
          readIndex: async () => index,
          materialize: async () => answer as never,
        }),
      });
      const registry = await openWith(adapter, cache);
      const error = await failure(registry.fetch('tool', 'com.test.echo'));
      await registry.close();
      expect(error.code, JSON.stringify(answer).slice(0, 40)).toBe(code);
      expect(error.message).toContain('materialize()');
      expect([...(await snapshotOf(join(cache, 'v1', 'content'))).keys()]).toEqual([]);
    }
  });
});

describe('an archive refused before it is read', () => {
  it('a stream answer with a bad integrity or a bad shape is destroyed, not left open', async () => {
    for (const rest of [{ integrity: 'md5-1B2M2Y8AsgTpgAmY7PhCfg==' }, { strip: -1 }, { subdir: 7 }]) {
      let destroyed = false;
      const stream = new Readable({
        read() {},
        destroy(error, callback) {
          destroyed = true;
          callback(error);
        },
      });
      const { error } = await attack(
        async () => ({ archive: stream, ...rest }) as ArchiveAnswer,
        (r) => r.list(),
      );
      expect(['E_INTEGRITY', 'E_SOURCE_CONTRACT'], JSON.stringify(rest)).toContain(error.code);
      expect(destroyed, JSON.stringify(rest)).toBe(true);
    }
  });

  it('a response of the HTTP client with a bad integrity is discarded (its connection freed)', async () => {
    const dir = await writeTree({ 'a.tgz': 'not really an archive' });
    const server = await startStaticServer({ root: dir });
    const http = createHttpClient({ registry: 'evil' });
    let discarded = false;
    try {
      const { error } = await attack(
        async () => {
          const response = await http.request(new URL('a.tgz', server.url), { purpose: 'entry' });
          const discard = response.discard.bind(response);
          response.discard = async () => {
            discarded = true;
            await discard();
          };
          return { archive: response, integrity: 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=' };
        },
        (r) => r.list(),
      );
      expect(error.code).toBe('E_INTEGRITY');
      expect(discarded).toBe(true);
    } finally {
      await http.close();
      await server.close();
    }
  });
});
