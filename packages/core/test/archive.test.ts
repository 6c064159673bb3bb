import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, utimes, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
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
    const result = await extractTarball(rawTar([{ path: 'a.txt', data: 'same' }, { path: 'b.txt', type: 'Link', linkpath: 'a.txt' }]), dest);
    expect(result).toEqual({ files: 2, bytes: 8 });
    expect(await readFile(join(dest, 'b.txt'), 'utf8')).toBe('same');
    expect((await stat(join(dest, 'b.txt'))).ino).not.toBe((await stat(join(dest, 'a.txt'))).ino);
  });

  describe('refuses hostile archives with E_UNSAFE_PATH and writes nothing outside the destination', () => {
    // Each case gets `work/` holding the destination `work/dest` and a folder `work/outside` that must stay empty;
    // `OUT` in a path stands for the absolute path of `work/outside`.
    const cases: Array<{ name: string; entries: RawEntry[]; entry: string; limits?: { maxBytes?: number; maxEntries?: number }; before?: (dest: string, outside: string) => Promise<void> }> = [
      { name: 'an absolute path', entries: [{ path: 'OUT/evil.txt', data: 'x' }], entry: 'OUT/evil.txt' },
      { name: 'a ".." path', entries: [{ path: '../evil.txt', data: 'x' }], entry: '../evil.txt' },
      { name: 'a ".." inside a path', entries: [{ path: 'a/../../evil.txt', data: 'x' }], entry: 'a/../../evil.txt' },
      { name: 'Windows separators with ".."', entries: [{ path: 'a\\..\\..\\evil.txt', data: 'x' }], entry: 'a\\..\\..\\evil.txt' },
      { name: 'a drive letter', entries: [{ path: 'C:\\evil.txt', data: 'x' }], entry: 'C:\\evil.txt' },
      { name: 'a drive letter with slashes', entries: [{ path: 'C:/evil.txt', data: 'x' }], entry: 'C:/evil.txt' },
      { name: 'a symlink to an absolute path', entries: [{ path: 'a', type: 'SymbolicLink', linkpath: 'OUT' }, { path: 'a/x', data: 'x' }], entry: 'a' },
      { name: 'a symlink that climbs out', entries: [{ path: 'a', type: 'SymbolicLink', linkpath: '../outside' }, { path: 'a/x', data: 'x' }], entry: 'a' },
      { name: 'a nested symlink that climbs out', entries: [{ path: 'd/e/l', type: 'SymbolicLink', linkpath: '../../../outside' }], entry: 'd/e/l' },
      { name: 'a symlink with ".." after a name', entries: [{ path: 'l', type: 'SymbolicLink', linkpath: 'x/../..' }], entry: 'l' },
      { name: 'a symlink with a Windows absolute target', entries: [{ path: 'l', type: 'SymbolicLink', linkpath: 'C:\\Windows' }], entry: 'l' },
      {
        name: 'a write through a symlink written earlier',
        entries: [{ path: 'real', type: 'Directory' }, { path: 'l', type: 'SymbolicLink', linkpath: 'real' }, { path: 'l/x', data: 'x' }],
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
        entries: [{ path: 'l', type: 'SymbolicLink', linkpath: 'a.txt' }, { path: 'l', data: 'x' }],
        entry: 'l',
      },
      { name: 'a hard link to an absolute path', entries: [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], entry: 'h' },
      { name: 'a hard link that climbs out', entries: [{ path: 'h', type: 'Link', linkpath: '../outside/x' }], entry: 'h' },
      { name: 'a hard link to something not extracted', entries: [{ path: 'h', type: 'Link', linkpath: 'later.txt' }, { path: 'later.txt', data: 'x' }], entry: 'h' },
      { name: 'a FIFO', entries: [{ path: 'fifo', type: 'FIFO' }], entry: 'fifo' },
      { name: 'a character device', entries: [{ path: 'null', type: 'CharacterDevice' }], entry: 'null' },
      { name: 'a block device', entries: [{ path: 'sda', type: 'BlockDevice' }], entry: 'sda' },
      { name: 'too many entries', entries: [{ path: 'a', data: '1' }, { path: 'b', data: '2' }, { path: 'c', data: '3' }], entry: '', limits: { maxEntries: 2 } },
      { name: 'too many bytes', entries: [{ path: 'a', data: '12345678' }, { path: 'b', data: '12345678' }], entry: '', limits: { maxBytes: 10 } },
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
    const bytes = rawTar([{ path: 'repo/ok/a.txt', data: 'a' }, { path: 'repo/../../evil.txt', data: 'x' }]);
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
    await extractTarball(rawTar([{ path: 'a.txt', data: 'old' }, { path: 'a.txt', data: 'new' }]), dest);
    expect(await readFile(join(dest, 'a.txt'), 'utf8')).toBe('new');
  });

  it('keeps only the executable bit of modes', async () => {
    const dest = join(await tempDir(), 'out');
    await extractTarball(rawTar([{ path: 'suid', data: 'x', mode: 0o4777 }, { path: 'plain', data: 'x', mode: 0o666 }]), dest);
    expect((await stat(join(dest, 'suid'))).mode & 0o7000).toBe(0);
    expect((await stat(join(dest, 'suid'))).mode & 0o100).toBe(0o100);
    expect((await stat(join(dest, 'plain'))).mode & 0o111).toBe(0);
    await writeFile(join(dest, 'plain'), 'still writable');
  });
});
