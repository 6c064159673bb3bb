import { cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GIT_IDENTITY, runGit } from './git-env.js';
import { makeTempDir } from './temp-dir.js';

/**
 * The content of one commit: a folder to copy (its `.git` is skipped) or a map of
 * repo-relative path → content. In a map, `null` deletes the path (useful with `overlay`).
 */
export type RepoFiles = string | Record<string, string | Uint8Array | null>;

/** Options for {@link createGitRepo}. */
export interface CreateGitRepoOptions {
  /** Folder that will hold `<name>.git` (e.g. a git server's root). Default: a temp folder that `close()` removes. */
  root?: string;
  /** Repository name without `.git`. Default `repo`. */
  name?: string;
  /** Branch of the first commit, also the bare repo's HEAD. Default `main`. */
  defaultBranch?: string;
  /** Extra branches created at the first commit, e.g. `['production', 'stable']`. */
  branches?: string[];
  /** Lightweight tags created at the first commit, e.g. `['v1.0.0']`. */
  tags?: string[];
  /** Message of the first commit. */
  message?: string;
  /** Date of the first commit; each later commit or annotated tag is one minute later. Default 2024-01-01T00:00:00Z. */
  date?: Date | string;
}

/** Options for {@link GitRepo.commit} and {@link GitRepo.forcePush}. */
export interface CommitOptions {
  message?: string;
  /** Lay the files over the parent's tree instead of replacing it; `null` entries delete paths. */
  overlay?: boolean;
}

/** A bare repository on disk plus helpers that change it the way an upstream maintainer would. */
export interface GitRepo {
  /** Repository name as it appears in URLs, e.g. `repo.git`. */
  name: string;
  /** Absolute path of the bare repository. */
  path: string;
  /** Folder that holds the bare repository (what a server's `root` should be). */
  root: string;
  defaultBranch: string;
  /** Sha of the first commit. */
  initialCommit: string;
  /** Adds a commit on top of `branch` (created from the default branch if missing); returns its sha. */
  commit(branch: string, files: RepoFiles, options?: CommitOptions): Promise<string>;
  /** Creates or moves `name` to the commit `from` resolves to (default: the default branch); returns the sha. */
  branch(name: string, from?: string): Promise<string>;
  /** Tags `ref` (default: the default branch); annotated when `message` is given. Returns the tagged commit's sha. */
  tag(name: string, options?: { ref?: string; message?: string }): Promise<string>;
  /**
   * Rewrites history like `git commit --amend && git push --force`: the branch tip is replaced by a new
   * commit on the tip's parent, so the old tip is no longer reachable from the branch. Returns the new sha.
   */
  forcePush(branch: string, files: RepoFiles, options?: CommitOptions): Promise<string>;
  /** Resolves a ref or revision expression to a full sha. */
  revParse(rev: string): Promise<string>;
  /** Every ref in the repository (`refs/heads/main` → sha; annotated tags give the tag object's sha). */
  refs(): Promise<Record<string, string>>;
  /** Removes the repository and the scratch folder. */
  close(): Promise<void>;
}

const DEFAULT_DATE = '2024-01-01T00:00:00Z';

/**
 * Creates a bare repository whose first commit holds `files`. Commits are made with git's plumbing
 * (`write-tree`, `commit-tree`, `update-ref`) under a fixed identity and fixed, increasing dates, so
 * the same calls always produce the same shas.
 */
export async function createGitRepo(files: RepoFiles, options: CreateGitRepoOptions = {}): Promise<GitRepo> {
  const scratch = await makeTempDir('agentos-git-repo-');
  const home = path.join(scratch.path, 'home');
  await mkdir(home);
  const root = options.root ?? path.join(scratch.path, 'repos');
  await mkdir(root, { recursive: true });
  const name = `${(options.name ?? 'repo').replace(/\.git$/, '')}.git`;
  const repoPath = path.join(root, name);
  const defaultBranch = options.defaultBranch ?? 'main';
  let clock = Math.floor(new Date(options.date ?? DEFAULT_DATE).getTime() / 1000);

  const git = async (args: string[], env: Record<string, string> = {}, cwd?: string) =>
    (await runGit(args, { home, cwd, env: { GIT_DIR: repoPath, ...env } })).stdout.trim();

  // Every object that records a person also records a time; giving both a fixed value is what makes shas stable.
  const identityEnv = (): Record<string, string> => {
    const date = `@${clock} +0000`;
    clock += 60;
    return {
      GIT_AUTHOR_NAME: GIT_IDENTITY.name,
      GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: GIT_IDENTITY.name,
      GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
      GIT_COMMITTER_DATE: date,
    };
  };

  const tryRevParse = async (rev: string): Promise<string | undefined> => {
    try {
      return await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    } catch {
      return undefined;
    }
  };

  /** Commits `content` with `parents`; the tree starts empty, or from `base` when overlaying. */
  const writeCommit = async (content: RepoFiles, parents: string[], message: string, base?: string) => {
    const work = await mkdtemp(path.join(scratch.path, 'tree-'));
    // The index lives outside the work tree so it can never be committed itself.
    const env = { GIT_WORK_TREE: work, GIT_INDEX_FILE: `${work}.index` };
    try {
      await git(base ? ['read-tree', base] : ['read-tree', '--empty'], env);
      const deleted = await materialize(content, work);
      // -f: every file the caller listed is committed even if a .gitignore in the content matches it.
      await git(['add', '-f', base ? '--ignore-removal' : '-A', '--', '.'], env, work);
      if (deleted.length > 0) await git(['rm', '-q', '--cached', '--ignore-unmatch', '--', ...deleted], env, work);
      const tree = await git(['write-tree'], env);
      const parentArgs = parents.flatMap((parent) => ['-p', parent]);
      return await git(['commit-tree', tree, ...parentArgs, '-m', message], identityEnv());
    } finally {
      await rm(work, { recursive: true, force: true });
      await rm(`${work}.index`, { force: true });
    }
  };

  const setRef = (ref: string, sha: string) => git(['update-ref', ref, sha]);

  if (await stat(repoPath).catch(() => undefined)) {
    await scratch.close();
    throw new Error(`createGitRepo: ${repoPath} already exists`);
  }
  let initialCommit: string;
  try {
    await runGit(['init', '-q', '--bare', `--initial-branch=${defaultBranch}`, repoPath], { home });
    initialCommit = await writeCommit(files, [], options.message ?? 'Initial commit');
    await setRef(`refs/heads/${defaultBranch}`, initialCommit);
    for (const branch of options.branches ?? []) await setRef(`refs/heads/${branch}`, initialCommit);
    for (const tag of options.tags ?? []) await setRef(`refs/tags/${tag}`, initialCommit);
  } catch (error) {
    // Nobody gets a handle to close on failure, so nothing may be left behind.
    await rm(repoPath, { recursive: true, force: true });
    await scratch.close();
    throw error;
  }

  const repo: GitRepo = {
    name,
    path: repoPath,
    root,
    defaultBranch,
    initialCommit,
    async commit(branch, content, commitOptions = {}) {
      const parent = (await tryRevParse(`refs/heads/${branch}`)) ?? (await repo.revParse(defaultBranch));
      const message = commitOptions.message ?? `Update ${branch}`;
      const sha = await writeCommit(content, [parent], message, commitOptions.overlay ? parent : undefined);
      await setRef(`refs/heads/${branch}`, sha);
      return sha;
    },
    async branch(branchName, from = defaultBranch) {
      const sha = await repo.revParse(from);
      await setRef(`refs/heads/${branchName}`, sha);
      return sha;
    },
    async tag(tagName, tagOptions = {}) {
      const sha = await repo.revParse(tagOptions.ref ?? defaultBranch);
      if (tagOptions.message === undefined) await setRef(`refs/tags/${tagName}`, sha);
      else await git(['tag', '-a', '-m', tagOptions.message, tagName, sha], identityEnv());
      return sha;
    },
    async forcePush(branch, content, commitOptions = {}) {
      const tip = await repo.revParse(`refs/heads/${branch}`);
      const grandparent = await tryRevParse(`${tip}^`);
      // Like an amend: an overlay starts from the old tip's tree, but the new commit hangs off the tip's parent.
      const message = commitOptions.message ?? `Rewrite ${branch}`;
      const sha = await writeCommit(content, grandparent ? [grandparent] : [], message, commitOptions.overlay ? tip : undefined);
      await setRef(`refs/heads/${branch}`, sha);
      return sha;
    },
    async revParse(rev) {
      const sha = await tryRevParse(rev);
      if (!sha) throw new Error(`${name}: cannot resolve ${rev}`);
      return sha;
    },
    async refs() {
      const out = await git(['for-each-ref', '--format=%(refname) %(objectname)']);
      const refs: Record<string, string> = {};
      for (const line of out.split('\n').filter(Boolean)) {
        const [ref, sha] = line.split(' ');
        if (ref && sha) refs[ref] = sha;
      }
      return refs;
    },
    async close() {
      await rm(repoPath, { recursive: true, force: true });
      await scratch.close();
    },
  };

  return repo;
}

/** Writes `content` into `dir` and returns the paths that should be deleted from the index. */
async function materialize(content: RepoFiles, dir: string): Promise<string[]> {
  if (typeof content === 'string') {
    if (!(await stat(content)).isDirectory()) throw new Error(`createGitRepo: ${content} is not a directory`);
    await cp(content, dir, {
      recursive: true,
      filter: (source) => path.basename(source) !== '.git',
    });
    return [];
  }
  const deleted: string[] = [];
  for (const [relative, value] of Object.entries(content)) {
    const normalized = path.posix.normalize(relative.replaceAll('\\', '/'));
    if (normalized.startsWith('../') || path.posix.isAbsolute(normalized)) {
      throw new Error(`createGitRepo: path ${relative} leaves the repository`);
    }
    if (value === null) {
      deleted.push(normalized);
      continue;
    }
    const target = path.join(dir, normalized);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, value);
  }
  return deleted;
}
