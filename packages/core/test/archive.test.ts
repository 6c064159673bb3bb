import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { createDeterministicTarball, DETERMINISTIC_MTIME, extractTarball, RegistryError, scanTree } from '../src/index.js';
import { tempDir, writeTree } from './helpers.js';
import { type RawEntry, rawTar } from './support/tar-builder.js';

/** A folder with the shapes a registry entry has: nested folders, an empty one, an executable, links, long names. */
async function sampleFolder(): Promise<string> {
  const long = `${'deep/'.repeat(25)}file-with-a-long-name.txt`;
  const root = await writeTree({
    'manifest.json': { id: 'com.test.sample', version: '1.0.0' },
    'src/index.js': 'export const x = 1;\n',
    'bin/run.sh': '#!/bin/sh\necho hi\n',
    'docs/ünïcödé.md': '# hello\n',
    [long]: 'far down\n',
  });
  await chmod(join(root, 'bin/run.sh'), 0o700);
  await chmod(join(root, 'manifest.json'), 0o600);
  await mkdir(join(root, 'empty'));
  await symlink('../src/index.js', join(root, 'bin/index.js'));
  return root;
}

async function listArchive(gz: Buffer): Promise<ReadEntry[]> {
  const entries: ReadEntry[] = [];
  const parser = new Parser();
  parser.on('entry', (entry: ReadEntry) => {
    entries.push(entry);
    entry.resume();
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
    parser.end(gunzipSync(gz));
  });
  return entries;
}

describe('createDeterministicTarball', () => {
  it('gives the same bytes for the same files, whatever their mtimes, modes and the packing run', async () => {
    const root = await sampleFolder();
    const first = await createDeterministicTarball(root, { prefix: 'package' });
    const second = await createDeterministicTarball(root, { prefix: 'package' });
    expect(second.equals(first)).toBe(true);

    await utimes(join(root, 'src/index.js'), new Date('2001-01-01'), new Date('2001-01-01'));
    await utimes(join(root, 'docs'), new Date('2011-01-01'), new Date('2011-01-01'));
    await chmod(join(root, 'manifest.json'), 0o664);
    await chmod(join(root, 'bin/run.sh'), 0o775);
    const third = await createDeterministicTarball(root, { prefix: 'package' });
    expect(third.equals(first)).toBe(true);

    // Changing a file's content or its executable bit changes the archive.
    await chmod(join(root, 'bin/run.sh'), 0o644);
    expect((await createDeterministicTarball(root, { prefix: 'package' })).equals(first)).toBe(false);
  });

  it('writes sorted paths, a fixed mtime, owner 0 with no names, normalized modes and a bare gzip header', async () => {
    const gz = await createDeterministicTarball(await sampleFolder(), { prefix: 'package' });
    // gzip: no FNAME/FCOMMENT flags, zero mtime, OS byte fixed to Unix.
    expect(gz[3]).toBe(0);
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[9]).toBe(3);

    const entries = await listArchive(gz);
    const paths = entries.map((e) => e.path);
    expect(paths[0]).toBe('package/');
    const rest = paths.slice(1).map((p) => p.replace(/\/$/, ''));
    expect(rest).toEqual([...rest].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(rest).toContain(`package/${'deep/'.repeat(25)}file-with-a-long-name.txt`);
    expect(rest).toContain('package/docs/ünïcödé.md');
    for (const entry of entries) {
      expect(entry.mtime?.getTime()).toBe(DETERMINISTIC_MTIME.getTime());
      expect(entry.uid).toBe(0);
      expect(entry.gid).toBe(0);
      expect(entry.uname ?? '').toBe('');
      expect(entry.gname ?? '').toBe('');
    }
    const mode = (path: string) => entries.find((e) => e.path === path)?.mode;
    expect(mode('package/manifest.json')).toBe(0o644);
    expect(mode('package/bin/run.sh')).toBe(0o755);
    expect(mode('package/src/')).toBe(0o755);
    expect(entries.find((e) => e.path === 'package/bin/index.js')?.linkpath).toBe('../src/index.js');
  });

  it('round-trips through extractTarball to the same tree integrity', async () => {
    const root = await sampleFolder();
    const dest = join(await tempDir(), 'out');
    const result = await extractTarball(await createDeterministicTarball(root, { prefix: 'package' }), dest, { strip: 1 });
    expect(result.files).toBe(5);
    expect((await scanTree(dest)).integrity).toBe((await scanTree(root)).integrity);
    expect(await readlink(join(dest, 'bin/index.js'))).toBe('../src/index.js');
    expect((await stat(join(dest, 'bin/run.sh'))).mode & 0o111).not.toBe(0);
    expect(await readdir(join(dest, 'empty'))).toEqual([]);
  });

  it('packs an empty folder into an archive that extracts to nothing', async () => {
    const gz = await createDeterministicTarball(await tempDir());
    expect(await extractTarball(gz, join(await tempDir(), 'out'))).toEqual({ files: 0, bytes: 0 });
  });

  it('refuses to pack a symlink that leaves the folder', async () => {
    const root = await writeTree({ 'a.txt': 'a' });
    await symlink('/etc/passwd', join(root, 'link'));
    await expect(createDeterministicTarball(root)).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
  });
});

describe('extractTarball', () => {
  const good: RawEntry[] = [
    { path: 'repo-abc123/', type: 'Directory' },
    { path: 'repo-abc123/registry.json', data: '{}' },
    { path: 'repo-abc123/registry/curated/tool/manifest.json', data: '{"id":"t"}' },
    { path: 'repo-abc123/registry/curated/tool/src/index.js', data: 'export {}' },
    { path: 'repo-abc123/registry/curated/tool/link.js', type: 'SymbolicLink', linkpath: 'src/index.js' },
    { path: 'repo-abc123/registry/curated/other/manifest.json', data: '{"id":"o"}' },
  ];

  it('extracts plain and gzip archives, from bytes and from a stream', async () => {
    for (const gzip of [false, true]) {
      const bytes = rawTar(good, { gzip });
      const a = join(await tempDir(), 'a');
      expect(await extractTarball(bytes, a, { strip: 1 })).toEqual({ files: 4, bytes: 2 + 10 + 9 + 10 });
      const b = join(await tempDir(), 'b');
      await extractTarball(Readable.from([bytes.subarray(0, 700), bytes.subarray(700)]), b, { strip: 1 });
      expect((await scanTree(b)).integrity).toBe((await scanTree(a)).integrity);
      expect(await readFile(join(b, 'registry/curated/tool/src/index.js'), 'utf8')).toBe('export {}');
    }
  });

  it('strip and subdir extract one folder, re-rooted at the destination', async () => {
    const dest = join(await tempDir(), 'out');
    const result = await extractTarball(rawTar(good, { gzip: true }), dest, { strip: 1, subdir: 'registry/curated/tool' });
    expect(result).toEqual({ files: 2, bytes: 19 });
    expect((await readdir(dest)).sort()).toEqual(['link.js', 'manifest.json', 'src']);
    expect(await readlink(join(dest, 'link.js'))).toBe('src/index.js');
  });

  it('refuses a subdir that leaves the archive', async () => {
    await expect(extractTarball(rawTar(good), join(await tempDir(), 'out'), { subdir: '../x' })).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
  });

  it('writes a hard link to a file it extracted as a copy', async () => {
    const dest = join(await tempDir(), 'out');
    const result = await extractTarball(
      rawTar([
        { path: 'a.txt', data: 'same' },
        { path: 'b.txt', type: 'Link', linkpath: 'a.txt' },
      ]),
      dest,
    );
    expect(result).toEqual({ files: 2, bytes: 8 });
    expect(await readFile(join(dest, 'b.txt'), 'utf8')).toBe('same');
    expect((await stat(join(dest, 'b.txt'))).ino).not.toBe((await stat(join(dest, 'a.txt'))).ino);
  });

  describe('refuses hostile archives with E_UNSAFE_PATH and writes nothing outside the destination', () => {
    // Each case gets `work/` holding the destination `work/dest` and a folder `work/outside` that must stay empty;
    // `OUT` in a path stands for the absolute path of `work/outside`.
    const cases: Array<{
      name: string;
      entries: RawEntry[];
      entry: string;
      limits?: { maxBytes?: number; maxEntries?: number };
      before?: (dest: string, outside: string) => Promise<void>;
    }> = [
      { name: 'an absolute path', entries: [{ path: 'OUT/evil.txt', data: 'x' }], entry: 'OUT/evil.txt' },
      { name: 'a ".." path', entries: [{ path: '../evil.txt', data: 'x' }], entry: '../evil.txt' },
      { name: 'a ".." inside a path', entries: [{ path: 'a/../../evil.txt', data: 'x' }], entry: 'a/../../evil.txt' },
      { name: 'Windows separators with ".."', entries: [{ path: 'a\\..\\..\\evil.txt', data: 'x' }], entry: 'a\\..\\..\\evil.txt' },
      { name: 'a drive letter', entries: [{ path: 'C:\\evil.txt', data: 'x' }], entry: 'C:\\evil.txt' },
      { name: 'a drive letter with slashes', entries: [{ path: 'C:/evil.txt', data: 'x' }], entry: 'C:/evil.txt' },
      {
        name: 'a symlink to an absolute path',
        entries: [
          { path: 'a', type: 'SymbolicLink', linkpath: 'OUT' },
          { path: 'a/x', data: 'x' },
        ],
        entry: 'a',
      },
      {
        name: 'a symlink that climbs out',
        entries: [
          { path: 'a', type: 'SymbolicLink', linkpath: '../outside' },
          { path: 'a/x', data: 'x' },
        ],
        entry: 'a',
      },
      { name: 'a nested symlink that climbs out', entries: [{ path: 'd/e/l', type: 'SymbolicLink', linkpath: '../../../outside' }], entry: 'd/e/l' },
      { name: 'a symlink with ".." after a name', entries: [{ path: 'l', type: 'SymbolicLink', linkpath: 'x/../..' }], entry: 'l' },
      { name: 'a symlink with a Windows absolute target', entries: [{ path: 'l', type: 'SymbolicLink', linkpath: 'C:\\Windows' }], entry: 'l' },
      {
        name: 'a write through a symlink written earlier',
        entries: [
          { path: 'real', type: 'Directory' },
          { path: 'l', type: 'SymbolicLink', linkpath: 'real' },
          { path: 'l/x', data: 'x' },
        ],
        entry: 'l/x',
      },
      {
        name: 'a write through a symlink already in the destination',
        entries: [{ path: 'pre/x', data: 'x' }],
        entry: 'pre/x',
        before: (dest, outside) => symlink(outside, join(dest, 'pre')),
      },
      {
        name: 'a file replacing a symlink written earlier',
        entries: [
          { path: 'l', type: 'SymbolicLink', linkpath: 'a.txt' },
          { path: 'l', data: 'x' },
        ],
        entry: 'l',
      },
      { name: 'a hard link to an absolute path', entries: [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], entry: 'h' },
      { name: 'a hard link that climbs out', entries: [{ path: 'h', type: 'Link', linkpath: '../outside/x' }], entry: 'h' },
      {
        name: 'a hard link to something not extracted',
        entries: [
          { path: 'h', type: 'Link', linkpath: 'later.txt' },
          { path: 'later.txt', data: 'x' },
        ],
        entry: 'h',
      },
      { name: 'a FIFO', entries: [{ path: 'fifo', type: 'FIFO' }], entry: 'fifo' },
      { name: 'a character device', entries: [{ path: 'null', type: 'CharacterDevice' }], entry: 'null' },
      { name: 'a block device', entries: [{ path: 'sda', type: 'BlockDevice' }], entry: 'sda' },
      {
        name: 'too many entries',
        entries: [
          { path: 'a', data: '1' },
          { path: 'b', data: '2' },
          { path: 'c', data: '3' },
        ],
        entry: '',
        limits: { maxEntries: 2 },
      },
      {
        name: 'too many bytes',
        entries: [
          { path: 'a', data: '12345678' },
          { path: 'b', data: '12345678' },
        ],
        entry: '',
        limits: { maxBytes: 10 },
      },
    ];

    for (const testCase of cases) {
      it(testCase.name, async () => {
        const work = await tempDir();
        const dest = join(work, 'dest');
        const outside = join(work, 'outside');
        await mkdir(dest);
        await mkdir(outside);
        await testCase.before?.(dest, outside);
        const fill = (text: string | undefined) => text?.replace('OUT', outside);
        const entries = testCase.entries.map((e) => ({ ...e, path: fill(e.path)!, ...(e.linkpath ? { linkpath: fill(e.linkpath) } : {}) }));
        const error = await extractTarball(rawTar(entries, { gzip: true }), dest, { registry: 'acme', ...testCase.limits }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RegistryError);
        expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', registry: 'acme' });
        const message = (error as Error).message;
        if (testCase.entry) {
          expect(message).toContain(`"${fill(testCase.entry)}"`);
          expect(message).toContain('unsafe');
        } else {
          expect(message).toMatch(/limit \(max(Bytes|Entries)\)/);
        }
        expect((await readdir(work)).sort()).toEqual(['dest', 'outside']);
        expect(await readdir(outside)).toEqual([]);
      });
    }
  });

  it('refuses the whole archive when an entry outside the extracted subdir is hostile', async () => {
    const bytes = rawTar([
      { path: 'repo/ok/a.txt', data: 'a' },
      { path: 'repo/../../evil.txt', data: 'x' },
    ]);
    await expect(extractTarball(bytes, join(await tempDir(), 'out'), { strip: 1, subdir: 'ok' })).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
  });

  it('refuses a compression bomb', async () => {
    const bomb = gzipSync(rawTar([{ path: 'zeros', data: '\0'.repeat(20 * 1024 * 1024) }]), { level: 9 });
    const error = await extractTarball(bomb, join(await tempDir(), 'out')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { limit: 'decompressionRatio' } });
  });

  it('reports a damaged archive as E_INTEGRITY', async () => {
    const bytes = rawTar(good, { gzip: true });
    await expect(extractTarball(bytes.subarray(0, bytes.length - 40), join(await tempDir(), 'out'))).rejects.toMatchObject({ code: 'E_INTEGRITY' });
    await expect(extractTarball(Buffer.from('<html>not found</html>'.repeat(40)), join(await tempDir(), 'out'))).rejects.toMatchObject({ code: 'E_INTEGRITY' });
  });

  it('passes on the RegistryError of a failing input stream', async () => {
    const bytes = rawTar(good);
    async function* broken() {
      yield bytes.subarray(0, 1024);
      throw new RegistryError('E_UNREACHABLE', 'connection lost', { registry: 'acme' });
    }
    await expect(extractTarball(Readable.from(broken()), join(await tempDir(), 'out'))).rejects.toMatchObject({ code: 'E_UNREACHABLE' });
  });

  it('aborts with E_ABORTED, before starting and while waiting for input', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(extractTarball(rawTar(good), join(await tempDir(), 'out'), { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });

    const later = new AbortController();
    const bytes = rawTar(good);
    const stalled = new Readable({ read() {} });
    stalled.push(bytes.subarray(0, 1536));
    const dest = join(await tempDir(), 'out');
    const pending = extractTarball(stalled, dest, { signal: later.signal });
    // Abort once the first entry is on disk, i.e. while the extractor waits for more input.
    for (let i = 0; i < 200 && !(await lstat(join(dest, 'repo-abc123/registry.json')).catch(() => null)); i++) await new Promise((r) => setImmediate(r));
    later.abort();
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(stalled.destroyed).toBe(true);
  });

  it('replaces an earlier copy of the same file, as tar does', async () => {
    const dest = join(await tempDir(), 'out');
    await extractTarball(
      rawTar([
        { path: 'a.txt', data: 'old' },
        { path: 'a.txt', data: 'new' },
      ]),
      dest,
    );
    expect(await readFile(join(dest, 'a.txt'), 'utf8')).toBe('new');
  });

  it('keeps only the executable bit of modes', async () => {
    const dest = join(await tempDir(), 'out');
    await extractTarball(
      rawTar([
        { path: 'suid', data: 'x', mode: 0o4777 },
        { path: 'plain', data: 'x', mode: 0o666 },
      ]),
      dest,
    );
    expect((await stat(join(dest, 'suid'))).mode & 0o7000).toBe(0);
    expect((await stat(join(dest, 'suid'))).mode & 0o100).toBe(0o100);
    expect((await stat(join(dest, 'plain'))).mode & 0o111).toBe(0);
    await writeFile(join(dest, 'plain'), 'still writable');
  });
});

const MiB = 1024 ** 2;

/** The outcome of `promise`, or 'still waiting' after `ms` (so that a hang fails an assertion, not the run). */
async function within<T>(promise: Promise<T>, ms = 5_000): Promise<PromiseSettledResult<T> | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still waiting'>((resolve) => {
    timer = setTimeout(() => resolve('still waiting'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stream of `chunks` that counts the bytes taken from it. */
function counted(chunks: Iterable<Buffer>): { stream: Readable; taken: () => number } {
  let taken = 0;
  const stream = Readable.from(
    (function* () {
      for (const chunk of chunks) {
        taken += chunk.length;
        yield chunk;
      }
    })(),
  );
  return { stream, taken: () => taken };
}

/** The gzip stream of `chunks`, made as they are read (never holding what it compresses). */
async function gzipOf(chunks: Iterable<Buffer>, level: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const gzip = createGzip({ level });
  gzip.on('data', (chunk: Buffer) => out.push(chunk));
  await pipeline(Readable.from(chunks), gzip);
  return Buffer.concat(out);
}

function* repeat(chunk: Buffer, times: number): Generator<Buffer> {
  for (let i = 0; i < times; i++) yield chunk;
}

describe('extractTarball, on input that fails or ends early', () => {
  const tar = rawTar([{ path: 'a.txt', data: 'a' }]);

  it('rejects with the error of a stream that failed before the call', async () => {
    const failed = new Readable({ read() {} });
    failed.on('error', () => {});
    failed.destroy(new RegistryError('E_UNREACHABLE', 'connection lost', { registry: 'acme' }));
    await new Promise((resolve) => setImmediate(resolve));
    const outcome = await within(extractTarball(failed, join(await tempDir(), 'out')));
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_UNREACHABLE' } });
  });

  it('rejects with the error of a stream that fails while the destination folder is being made', async () => {
    for (const listened of [true, false]) {
      const failing = new Readable({ read() {} });
      // Another listener (the caller's) must not change anything; without one, the error must not go unheard.
      if (listened) failing.on('error', () => {});
      const pending = extractTarball(failing, join(await tempDir(), 'deep/er/out'));
      failing.destroy(new RegistryError('E_UNREACHABLE', 'connection lost', { registry: 'acme' }));
      expect(await within(pending)).toMatchObject({ status: 'rejected', reason: { code: 'E_UNREACHABLE' } });
    }
  });

  it('rejects a stream that has already ended as not an archive, instead of waiting for it', async () => {
    const used = Readable.from([tar]);
    for await (const _ of used) {
      // read to its end by someone else
    }
    expect(await within(extractTarball(used, join(await tempDir(), 'out')))).toMatchObject({ status: 'rejected', reason: { code: 'E_INTEGRITY' } });
  });

  it('destroys the input when it refuses before reading (aborted, or a bad subdir)', async () => {
    const controller = new AbortController();
    controller.abort();
    const first = new Readable({ read() {} });
    await expect(extractTarball(first, join(await tempDir(), 'out'), { signal: controller.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(first.destroyed).toBe(true);
    const second = new Readable({ read() {} });
    await expect(extractTarball(second, join(await tempDir(), 'out'), { subdir: '../x' })).rejects.toMatchObject({ code: 'E_UNSAFE_PATH' });
    expect(second.destroyed).toBe(true);
  });
});

describe('extractTarball stops at the end-of-archive marker', () => {
  const entries: RawEntry[] = [{ path: 'package/a.txt', data: 'a' }];
  const zeros = Buffer.alloc(MiB);

  it('refuses 25 MiB of zeros after the end of a plain archive having read little more than 1 MiB of it', async () => {
    const input = counted([rawTar(entries), ...repeat(Buffer.alloc(64 * 1024), 400)]);
    const error = await extractTarball(input.stream, join(await tempDir(), 'out'), { strip: 1, registry: 'acme' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_INTEGRITY', registry: 'acme', details: { limit: 'trailingBytes' } });
    expect((error as Error).message).toContain('after its end-of-archive marker');
    expect(input.taken()).toBeLessThan(2 * MiB);
    expect(input.stream.destroyed).toBe(true);
  });

  it('refuses 100 MiB of zeros after the end inside the gzip stream, having inflated little of it', async () => {
    // Level 1, about 450 KB: not a compression bomb (some 230-fold), only a long tail for tar to chew on.
    const gz = await gzipOf([rawTar(entries), ...repeat(zeros, 100)], 1);
    const input = counted(Array.from({ length: Math.ceil(gz.length / 1024) }, (_, i) => gz.subarray(i * 1024, (i + 1) * 1024)));
    const outcome = await within(extractTarball(input.stream, join(await tempDir(), 'out'), { strip: 1 }), 15_000);
    expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_INTEGRITY', details: { limit: 'trailingBytes' } } });
    expect(input.taken()).toBeLessThan(gz.length / 2);
    expect(input.stream.destroyed).toBe(true);
  });

  it('refuses endless zeros after the gzip stream, and after a plain archive', async () => {
    for (const archive of [rawTar(entries, { gzip: true }), rawTar(entries)]) {
      // 64 MiB stands in for endless: an extractor that reads it all still ends, and the count shows it.
      const input = counted([archive, ...repeat(Buffer.alloc(64 * 1024), 1024)]);
      const error = await extractTarball(input.stream, join(await tempDir(), 'out'), { strip: 1 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_INTEGRITY', details: { limit: 'trailingBytes' } });
      expect(input.taken()).toBeLessThan(4 * MiB);
      expect(input.stream.destroyed).toBe(true);
    }
  });

  it('ignores what little follows the end (record padding, a stray trailer) and reads the input to its end', async () => {
    // GNU tar pads an archive to 10 KiB records; some tools leave more. Up to 1 MiB after the end is accepted.
    const padded = Buffer.concat([rawTar(entries), Buffer.alloc(9 * 1024)]);
    const cases = [
      gzipSync(padded),
      Buffer.concat([gzipSync(Buffer.concat([padded, Buffer.alloc(512 * 1024)])), Buffer.alloc(4096)]),
      Buffer.concat([rawTar(entries), Buffer.from('trailing text that is not an archive\n'.repeat(100))]),
    ];
    for (const bytes of cases) {
      const input = counted([bytes.subarray(0, 100), bytes.subarray(100)]);
      const dest = join(await tempDir(), 'out');
      expect(await extractTarball(input.stream, dest, { strip: 1 })).toEqual({ files: 1, bytes: 1 });
      expect(await readFile(join(dest, 'a.txt'), 'utf8')).toBe('a');
      expect(input.taken()).toBe(bytes.length);
    }
  });

  it('still checks the gzip trailer after the end of the archive', async () => {
    const gz = rawTar(entries, { gzip: true });
    const damaged = Buffer.from(gz);
    // The CRC-32 of the inflated bytes, in the last 8 bytes, after every byte of the tar stream.
    damaged[damaged.length - 6]! ^= 0xff;
    await expect(extractTarball(damaged, join(await tempDir(), 'out'))).rejects.toMatchObject({ code: 'E_INTEGRITY' });
  });
});

describe('extractTarball decompresses in bounded steps', () => {
  it('counts decoded bytes against maxDecodedBytes, entries not extracted included', async () => {
    const bytes = rawTar(
      [
        { path: 'repo/big.bin', data: 'x'.repeat(300 * 1024) },
        { path: 'repo/ok/a.txt', data: 'a' },
      ],
      { gzip: true },
    );
    const error = await extractTarball(bytes, join(await tempDir(), 'out'), { strip: 1, subdir: 'ok', maxDecodedBytes: 256 * 1024, registry: 'acme' }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', registry: 'acme', details: { limit: 'maxDecodedBytes' } });
    expect((error as Error).message).toContain('limit (maxDecodedBytes)');
    expect(await extractTarball(bytes, join(await tempDir(), 'out'), { strip: 1, subdir: 'ok' })).toEqual({ files: 1, bytes: 1 });
  });

  it('refuses an archive compressed twice (tar would inflate the inner layer unchecked)', async () => {
    const twice = gzipSync(rawTar([{ path: 'a.txt', data: 'a' }], { gzip: true }));
    await expect(extractTarball(twice, join(await tempDir(), 'out'))).rejects.toMatchObject({ code: 'E_INTEGRITY' });
  });

  it('reads gzip streams of several members, as gzip does', async () => {
    const tar = rawTar([{ path: 'a.txt', data: 'a' }]);
    const members = Buffer.concat([gzipSync(tar.subarray(0, 700)), gzipSync(tar.subarray(700))]);
    expect(await extractTarball(members, join(await tempDir(), 'out'))).toEqual({ files: 1, bytes: 1 });
  });
});
