import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One node of a folder as the suite compares it: a file's bytes or a symlink's target. */
export type TreeNode = { kind: 'file'; bytes: Uint8Array } | { kind: 'symlink'; target: string } | { kind: 'other' };

/**
 * Reads every file and symlink below `dir`, keyed by relative POSIX path in byte order. Folders appear only through
 * what they hold, because the fixture has no empty folders and not every medium can carry one.
 */
export async function readTree(dir: string): Promise<Map<string, TreeNode>> {
  const tree = new Map<string, TreeNode>();
  async function walk(relative: string): Promise<void> {
    const names = (await readdir(relative === '' ? dir : join(dir, relative))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const info = await lstat(join(dir, path));
      if (info.isDirectory()) await walk(path);
      else if (info.isSymbolicLink()) tree.set(path, { kind: 'symlink', target: await readlink(join(dir, path)) });
      else if (info.isFile()) tree.set(path, { kind: 'file', bytes: await readFile(join(dir, path)) });
      else tree.set(path, { kind: 'other' });
    }
  }
  await walk('');
  return tree;
}
