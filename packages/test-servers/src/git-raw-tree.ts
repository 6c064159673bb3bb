import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GIT_IDENTITY, runGit } from './git-env.js';
import type { GitRepo } from './git-repo.js';
import { makeTempDir } from './temp-dir.js';

/**
 * Commits trees that `git add` never makes, for tests of what a hostile server may send: a name listed twice, a name
 * holding a `/` (so a listing shows `a` → a symlink next to `a/.bashrc` with no folder `a`), symlinks whose targets
 * climb through other symlinks. The tree objects are written with `git hash-object --literally`, which skips git's
 * own checks, into the real repository; every server then serves them exactly as git holds them.
 */

/** One entry of a raw tree, written as given: names may repeat or contain `/`, and the order is kept. */
export interface RawTreeItem {
  name: string;
  /** `100644`/`100755` files, `120000` symlinks (the content is the target), `40000` a subtree of `items`. */
  mode: '100644' | '100755' | '120000' | '40000';
  content?: string | Uint8Array;
  items?: RawTreeItem[];
}

/** Options for {@link commitRawTree}. */
export interface RawTreeCommitOptions {
  /** Branch to commit on (its tip is the parent). Default: the repository's default branch. */
  branch?: string;
  /** Repository-relative folder replaced by the raw tree, e.g. `registry/curated/tool-0`; created if missing. */
  folder: string;
  items: RawTreeItem[];
  message?: string;
}

interface TreeRecord {
  mode: string;
  name: string;
  sha: string;
}

/** Git's order of tree entries: by name, a subtree compared as if its name ended in `/`. */
function gitOrder(a: TreeRecord, b: TreeRecord): number {
  const key = (record: TreeRecord) => (record.mode === '40000' ? `${record.name}/` : record.name);
  return Buffer.compare(Buffer.from(key(a)), Buffer.from(key(b)));
}

/**
 * Replaces `folder` on `branch` of `repo` by the raw tree `items` (the rest of the commit is kept) and moves the branch
 * to the new commit; returns its sha.
 */
export async function commitRawTree(repo: GitRepo, options: RawTreeCommitOptions): Promise<string> {
  const scratch = await makeTempDir('agentos-raw-tree-');
  let counter = 0;
  const git = async (args: string[], env: Record<string, string> = {}) =>
    (await runGit(args, { home: scratch.path, env: { GIT_DIR: repo.path, ...env } })).stdout.trim();
  const hashFile = async (bytes: Uint8Array, args: string[]) => {
    const file = path.join(scratch.path, `object-${counter++}`);
    await writeFile(file, bytes);
    return git(['hash-object', '-w', ...args, file]);
  };
  const writeTree = (records: TreeRecord[]) =>
    hashFile(Buffer.concat(records.flatMap((record) => [Buffer.from(`${record.mode} ${record.name}\0`), Buffer.from(record.sha, 'hex')])), [
      '-t',
      'tree',
      '--literally',
    ]);
  const writeRaw = async (items: RawTreeItem[]): Promise<string> => {
    const records: TreeRecord[] = [];
    for (const item of items) {
      const sha =
        item.mode === '40000'
          ? await writeRaw(item.items ?? [])
          : await hashFile(typeof item.content === 'string' ? Buffer.from(item.content) : (item.content ?? new Uint8Array()), []);
      records.push({ mode: item.mode, name: item.name, sha });
    }
    return writeTree(records);
  };
  /** `tree` (a sha, or undefined for none) with the folder at `segments` replaced by `sha`. */
  const graft = async (tree: string | undefined, segments: string[], sha: string): Promise<string> => {
    const records: TreeRecord[] = [];
    if (tree) {
      for (const line of (await git(['ls-tree', '-z', tree])).split('\0')) {
        if (line === '') continue;
        const tab = line.indexOf('\t');
        const [mode = '', , itemSha = ''] = line.slice(0, tab).split(' ');
        records.push({ mode: mode === '040000' ? '40000' : mode, name: line.slice(tab + 1), sha: itemSha });
      }
    }
    const [first = '', ...rest] = segments;
    const index = records.findIndex((record) => record.name === first);
    const existing = index >= 0 && records[index]!.mode === '40000' ? records[index]!.sha : undefined;
    const replaced: TreeRecord = { mode: '40000', name: first, sha: rest.length === 0 ? sha : await graft(existing, rest, sha) };
    if (index >= 0) records[index] = replaced;
    else records.push(replaced);
    return writeTree(records.sort(gitOrder));
  };
  try {
    const branch = options.branch ?? repo.defaultBranch;
    const parent = await git(['rev-parse', '--verify', `refs/heads/${branch}^{commit}`]);
    const raw = await writeRaw(options.items);
    const root = await graft(await git(['rev-parse', `${parent}^{tree}`]), options.folder.split('/').filter(Boolean), raw);
    const date = '@1735689600 +0000';
    const commit = await git(['commit-tree', root, '-p', parent, '-m', options.message ?? 'Raw tree'], {
      GIT_AUTHOR_NAME: GIT_IDENTITY.name,
      GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: GIT_IDENTITY.name,
      GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
      GIT_COMMITTER_DATE: date,
    });
    await git(['update-ref', `refs/heads/${branch}`, commit]);
    return commit;
  } finally {
    await scratch.close();
  }
}
