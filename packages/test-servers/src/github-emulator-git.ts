import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { gitEnv } from './git-env.js';

/**
 * The git plumbing behind the GitHub emulator: every answer it gives comes from a real bare repository, through
 * `rev-parse`, `ls-tree`, `cat-file`, `log` and `archive`, so what a source downloads is exactly what git holds.
 */

/** One entry of `git ls-tree -l`. */
export interface TreeItem {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  sha: string;
  /** Bytes of a blob; undefined for trees and submodules. */
  size: number | undefined;
  path: string;
}

/** What the commit endpoints report about one commit. */
export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: { name: string; email: string; date: string };
  committer: { name: string; email: string; date: string };
  message: string;
}

/**
 * Refs GitHub would accept in a URL (`main`, `feature/x`, `v1.0.0`, `heads/main`, a full or short sha). Anything with
 * revision syntax (`~`, `^`, `:`, `@{`, `..`) or a leading `-` is refused before it reaches git, so a request can never
 * smuggle an option or an expression into a command line.
 */
export function isPlainRef(ref: string): boolean {
  return (
    ref.length > 0 &&
    ref.length <= 255 &&
    !ref.startsWith('-') &&
    !ref.startsWith('/') &&
    !ref.includes('..') &&
    !ref.includes('@{') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    !/[\x00-\x20~^:?*[\\\x7f]/.test(ref)
  );
}

/** Runs git against one bare repository and returns stdout as bytes; rejects with git's stderr on failure. */
export class BareRepo {
  constructor(
    readonly gitDir: string,
    private readonly home: string,
  ) {}

  private run(args: string[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        { env: gitEnv(this.home, { GIT_DIR: this.gitDir }), encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`git ${args.join(' ')}: ${stderr.toString('utf8').trim() || error.message}`));
          else resolve(stdout);
        },
      );
    });
  }

  private async text(args: string[]): Promise<string> {
    return (await this.run(args)).toString('utf8').trim();
  }

  /** The branch HEAD points at, e.g. `main`. */
  async headBranch(): Promise<string> {
    return (await this.text(['symbolic-ref', '--short', 'HEAD'])).replace(/^refs\/heads\//, '');
  }

  /** Full sha of the object `rev` peels to (`commit` or `tree`), or undefined when there is none. */
  async resolve(rev: string, peel: 'commit' | 'tree'): Promise<string | undefined> {
    if (!isPlainRef(rev)) return undefined;
    try {
      const sha = await this.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{${peel}}`]);
      return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
    } catch {
      return undefined;
    }
  }

  /** The object type of a full sha, or undefined when it does not exist. */
  async objectType(sha: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{40}$/.test(sha)) return undefined;
    try {
      return await this.text(['cat-file', '-t', sha]);
    } catch {
      return undefined;
    }
  }

  async commit(sha: string): Promise<CommitInfo> {
    const format = ['%H', '%T', '%P', '%an', '%ae', '%aI', '%cn', '%ce', '%cI', '%B'].join('%x00');
    const fields = (await this.run(['log', '-1', `--format=${format}`, sha, '--'])).toString('utf8').split('\0');
    const at = (index: number) => fields[index] ?? '';
    return {
      sha: at(0),
      tree: at(1),
      parents: at(2).split(' ').filter(Boolean),
      author: { name: at(3), email: at(4), date: at(5) },
      committer: { name: at(6), email: at(7), date: at(8) },
      message: at(9).replace(/\n+$/, ''),
    };
  }

  /** The items of a tree-ish (a tree sha, or `<commit>` for its root); with `recursive`, every descendant too. */
  async lsTree(treeIsh: string, options: { recursive?: boolean; path?: string } = {}): Promise<TreeItem[]> {
    const args = ['ls-tree', '-z', '-l', ...(options.recursive ? ['-r', '-t'] : []), '--end-of-options', treeIsh];
    if (options.path !== undefined) args.push('--', options.path);
    const out = (await this.run(args)).toString('utf8');
    const items: TreeItem[] = [];
    for (const record of out.split('\0')) {
      if (record === '') continue;
      const tab = record.indexOf('\t');
      const [mode = '', type = '', sha = '', size = '-'] = record.slice(0, tab).split(/ +/);
      items.push({ mode, type: type as TreeItem['type'], sha, size: size === '-' ? undefined : Number(size), path: record.slice(tab + 1) });
    }
    return items;
  }

  /** The bytes of a blob. */
  blob(sha: string): Promise<Buffer> {
    return this.run(['cat-file', 'blob', sha]);
  }

  /**
   * `git archive --format=tar.gz --prefix=<prefix> <sha>` as a child process whose stdout is the archive, streamed
   * rather than buffered so a large registry is sent as git produces it.
   */
  archive(sha: string, prefix: string): ChildProcess {
    return spawn('git', ['archive', '--format=tar.gz', `--prefix=${prefix}`, sha], {
      env: gitEnv(this.home, { GIT_DIR: this.gitDir }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}
