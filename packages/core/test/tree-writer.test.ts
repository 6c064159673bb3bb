/** Core's one tree writer (issue 11): the rules every tree a registry hands core is written by. */
import { lstat, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryError, TreeWriter } from '../src/index.js';
import { tempDir } from './helpers.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

describe('the tree writer', () => {
  it('refuses a path listed twice with E_UNSAFE_PATH, whatever the two are', async () => {
    for (const second of ['file', 'link'] as const) {
      const writer = new TreeWriter(await tempDir(), { registry: 'acme' });
      await writer.file('a.js', Buffer.from('one'));
      const again = second === 'file' ? writer.file('a.js', Buffer.from('two')) : Promise.resolve().then(() => writer.symlink('a.js', 'b.js'));
      const error = await again.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', registry: 'acme' });
      expect((error as Error).message).toContain('listed twice');
    }
  });

  it('refuses a path below a symlink of the same tree, in either order', async () => {
    const linkFirst = new TreeWriter(await tempDir());
    linkFirst.symlink('a', 'real');
    const below = await linkFirst.file('a/.bashrc', Buffer.from('pwned')).catch((e: unknown) => e);
    expect(below).toMatchObject({ code: 'E_UNSAFE_PATH', details: { path: 'a/.bashrc' } });
    expect((below as Error).message).toContain('below the symlink "a"');
    const fileFirst = new TreeWriter(await tempDir());
    await fileFirst.file('a/.bashrc', Buffer.from('ok'));
    expect(await codeOf(Promise.resolve().then(() => fileFirst.symlink('a', 'real')))).toBe('E_UNSAFE_PATH');
    // After a refusal the writer stops: nothing more is written, and finish() reports the same error.
    expect(await codeOf(fileFirst.finish())).toBe('E_UNSAFE_PATH');
  });

  it('refuses an absolute link at once', async () => {
    const writer = new TreeWriter(await tempDir());
    expect(() => writer.symlink('a', '/etc')).toThrow(/absolute/);
  });

  it('judges links against the finished tree and creates none when one leaves through another', async () => {
    const root = await tempDir();
    const writer = new TreeWriter(root);
    await writer.file('x.txt', Buffer.from('x'));
    writer.symlink('ok', 'd/l/x.txt');
    writer.symlink('d/l', '..');
    writer.symlink('evil', 'd/l/../escape');
    const error = await writer.finish().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', details: { path: 'evil' } });
    expect(await readdir(root)).toEqual(['x.txt']);
  });

  it('writes files first and links last: a link may name a file handed over after it', async () => {
    const root = await tempDir();
    const writer = new TreeWriter(root);
    writer.symlink('main.js', 'src/index.js');
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.file(`src/deep/f${i}.js`, Buffer.from(`${i}`), { executable: i === 0 })));
    await writer.file('src/index.js', Buffer.from('export {};'));
    expect(await writer.finish()).toEqual({ files: 21, bytes: 10 + 10 + 10 * 2, links: 1 });
    expect(await readlink(join(root, 'main.js'))).toBe('src/index.js');
    expect((await lstat(join(root, 'src/deep/f0.js'))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(root, 'src/deep/f1.js'))).mode & 0o777).toBe(0o644);
  });

  it('never writes through a link that was in the destination before', async () => {
    const root = await tempDir();
    const outside = await tempDir('outside-');
    await symlink(outside, join(root, 'pre'));
    const writer = new TreeWriter(root);
    expect(await codeOf(writer.file('pre/x', Buffer.from('x')))).toBe('E_UNSAFE_PATH');
    expect(await readdir(outside)).toEqual([]);
  });
});
