/** The work-folder helpers sources write through instead of `fs` (issue 13): containment, the lock, temp folders. */
import { spawnSync } from 'node:child_process';
import { access, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryError, removeInside, replaceFolderInside, withTempFolder, withWorkLock } from '../src/index.js';
import { tempDir } from './helpers.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

describe('removeInside', () => {
  it('removes a folder inside, a link but never what it leads to, and refuses paths that leave', async () => {
    const dir = await tempDir('work-');
    const outside = await tempDir('outside-');
    await writeFile(join(outside, 'keep.txt'), 'keep');
    await mkdir(join(dir, 'mirror.git', 'objects'), { recursive: true });
    await writeFile(join(dir, 'mirror.git', 'HEAD'), 'ref: refs/heads/main\n');
    await symlink(outside, join(dir, 'link'));

    await removeInside(dir, 'mirror.git');
    expect(await exists(join(dir, 'mirror.git'))).toBe(false);
    await removeInside(dir, 'link');
    expect(await exists(join(dir, 'link'))).toBe(false);
    expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('keep');

    // Through a link that leaves, and by `..`: refused, nothing outside touched.
    await symlink(outside, join(dir, 'out'));
    expect(await codeOf(removeInside(dir, 'out/keep.txt'))).toBe('E_UNSAFE_PATH');
    expect(await codeOf(removeInside(dir, '../x'))).toBe('E_UNSAFE_PATH');
    expect(await codeOf(removeInside(dir, ''))).toBe('E_INTERNAL');
    expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('keep');
    // Nothing there: nothing to do.
    await removeInside(dir, 'missing/deeper');
  });
});

describe('replaceFolderInside', () => {
  it('puts the folder in place whole, replacing what was there; a failed fill leaves the old one and no temp', async () => {
    const dir = await tempDir('work-');
    await mkdir(join(dir, 'repo.git'));
    await writeFile(join(dir, 'repo.git', 'old'), 'old');
    await replaceFolderInside(dir, 'repo.git', async (writer) => {
      await writer.folder('objects/pack');
      await writer.file('HEAD', Buffer.from('ref: refs/heads/main\n'));
    });
    expect((await readdir(join(dir, 'repo.git'))).sort()).toEqual(['HEAD', 'objects']);
    expect(await readFile(join(dir, 'repo.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');

    const failed = replaceFolderInside(dir, 'repo.git', async (writer) => {
      await writer.file('HEAD', Buffer.from('x'));
      throw new Error('fill failed');
    });
    await expect(failed).rejects.toThrow('fill failed');
    expect(await readFile(join(dir, 'repo.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(await readdir(dir)).toEqual(['repo.git']);
  });
});

describe('withTempFolder', () => {
  it('gives a fresh folder and removes it after the work, also when the work fails', async () => {
    let seen = '';
    await withTempFolder('npm-cache', async (folder) => {
      seen = folder;
      await writeFile(join(folder, 'x'), 'x');
    });
    expect(await exists(seen)).toBe(false);
    await expect(
      withTempFolder('npm-cache', async (folder) => {
        seen = folder;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await exists(seen)).toBe(false);
  });
});

describe('withWorkLock', () => {
  it('lets one holder in at a time and removes the lock file after each', async () => {
    const dir = await tempDir('work-');
    const order: string[] = [];
    let inside = 0;
    let most = 0;
    const hold = (name: string) =>
      withWorkLock(dir, 'mirror.lock', async () => {
        inside++;
        most = Math.max(most, inside);
        order.push(`in ${name}`);
        expect(await exists(join(dir, 'mirror.lock'))).toBe(true);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`out ${name}`);
        inside--;
        return name;
      });
    expect(await Promise.all([hold('a'), hold('b'), hold('c')])).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    expect(order).toEqual(['in a', 'out a', 'in b', 'out b', 'in c', 'out c']);
    expect(await exists(join(dir, 'mirror.lock'))).toBe(false);
  });

  it('a failing holder releases the lock for the next one', async () => {
    const dir = await tempDir('work-');
    await expect(withWorkLock(dir, 'a.lock', async () => Promise.reject(new Error('first failed')))).rejects.toThrow('first failed');
    expect(await withWorkLock(dir, 'a.lock', async () => 'second')).toBe('second');
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = await tempDir('work-');
    // The pid of a process that has exited (and was reaped): no one holds this lock.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    await writeFile(join(dir, 'mirror.lock'), `${gone}\n`);
    expect(await withWorkLock(dir, 'mirror.lock', async () => 'taken over')).toBe('taken over');
  });

  it('waiting for a lock another process holds ends with the one E_ABORTED wording when the signal fires', async () => {
    const dir = await tempDir('work-');
    // Held by a live process (this one's parent, which outlives the test): not stale, so the wait goes on.
    await writeFile(join(dir, 'mirror.lock'), `${process.ppid}\n`);
    const controller = new AbortController();
    const waiting = withWorkLock(dir, 'mirror.lock', async () => 'never', { signal: controller.signal, registry: 'corp' });
    controller.abort();
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      code: 'E_ABORTED',
      registry: 'corp',
      message: 'Waiting for the lock mirror.lock of the work folder for registry "corp" was aborted.',
    });
    // The other process's lock is left alone.
    expect(await readFile(join(dir, 'mirror.lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('refuses a lock name that is a path', async () => {
    const dir = await tempDir('work-');
    expect(await codeOf(withWorkLock(dir, '../x.lock', async () => undefined))).toBe('E_UNSAFE_PATH');
    expect(await codeOf(withWorkLock(dir, 'a/x.lock', async () => undefined))).toBe('E_INTERNAL');
  });
});
