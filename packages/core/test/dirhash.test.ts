/** The h1 directory hash (issue 14): Go's dirhash Hash1, recomputed here with coreutils so anyone can check it. */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h1OfFileHashes, hashDirectoryH1, RegistryError } from '../src/index.js';
import { tempDir, writeTree } from './helpers.js';

/** h1 by coreutils alone: sha256sum of every file in byte order, then sha256sum of those lines, as base64. */
function h1ByCoreutils(dir: string): string {
  const hex = execFileSync('sh', ['-c', "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -d' ' -f1"], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
  return `h1:${Buffer.from(hex, 'hex').toString('base64')}`;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

describe('hashDirectoryH1', () => {
  it('equals sha256sum over the sorted files, then over those lines (Go dirhash Hash1)', async () => {
    // `a-c` sorts before `a/b` by bytes ("-" < "/"), which a folder-by-folder walk would get wrong.
    const dir = await writeTree({
      'manifest.json': { id: 'x', name: 'x', version: '1.0.0' },
      'a/b': 'one\n',
      'a-c': 'two',
      'src/index.js': 'export default 1;\n',
      'é.txt': 'accent',
    });
    await mkdir(join(dir, 'empty-folder'));
    const h1 = await hashDirectoryH1(dir);
    expect(h1).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    expect(h1).toBe(h1ByCoreutils(dir));
  });

  it('changes with one byte, one rename, one added file', async () => {
    const dir = await writeTree({ 'a.js': 'one', 'b.js': 'two' });
    const before = await hashDirectoryH1(dir);
    await writeFile(join(dir, 'a.js'), 'onf');
    const edited = await hashDirectoryH1(dir);
    expect(edited).not.toBe(before);
    await writeFile(join(dir, 'c.js'), '');
    expect(await hashDirectoryH1(dir)).not.toBe(edited);
    expect(await hashDirectoryH1(dir)).toBe(h1ByCoreutils(dir));
  });

  it('of no files is the hash of nothing, as in Go', async () => {
    expect(await hashDirectoryH1(await tempDir())).toBe('h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(h1OfFileHashes([])).toBe('h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('refuses a symlink and an executable file with E_SIGNATURE: h1 covers neither', async () => {
    const linked = await writeTree({ 'a.js': 'one' });
    await symlink('a.js', join(linked, 'b.js'));
    await expect(codeOf(hashDirectoryH1(linked))).resolves.toBe('E_SIGNATURE');
    const executable = await writeTree({ 'run.sh': '#!/bin/sh\n' });
    await chmod(join(executable, 'run.sh'), 0o755);
    await expect(codeOf(hashDirectoryH1(executable))).resolves.toBe('E_SIGNATURE');
  });

  it('keeps the scan rules: a link out of the folder is E_UNSAFE_PATH', async () => {
    const dir = await writeTree({ 'a.js': 'one' });
    await symlink('../../etc/passwd', join(dir, 'p'));
    await expect(codeOf(hashDirectoryH1(dir))).resolves.toBe('E_UNSAFE_PATH');
  });
});
