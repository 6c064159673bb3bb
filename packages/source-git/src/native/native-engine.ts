import { access, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  abortError,
  isRegistryError,
  removeInside,
  replaceFolderInside,
  throwIfAborted,
  type Logger,
  type TransferPurpose,
  type TreeWriter,
  withWorkLock,
} from '@agentos-registry/core';
import type { EngineCall, GitEngine, GitRemote } from '../engine.js';
import { Batcher } from '../batcher.js';
import type { StepDeadline } from '../deadline.js';
import { classifyGitMessage, deadlineError, entryNotFoundError, gitReason, remoteError } from '../errors.js';
import { parseLsRemote, type RemoteRef, type ResolvedRef } from '../refs.js';
import { SUBMODULE_MODE, type TreeFile, writeTree } from '../tree-writer.js';
import { ObjectReader, parseTree, type TreeEntry } from './object-reader.js';
import { type GitCommand, GitCommandFailure, type GitRunner } from './runner.js';

/** Refs that keep fetched revisions alive in the mirror; each also marks its commit as completely fetched. */
const REVISION_REFS = 'refs/agentos/rev';
/** Revisions kept in the mirror; older ones are dropped so the mirror does not grow without bound. */
const KEPT_REVISIONS = 8;
/** Blob ids per `fetch` command when fetching an entry's missing files (keeps argv well below its limit). */
const FETCH_BATCH = 1000;
/** In the registry's work folder: the mirror, and the lock held while a fetch writes to it. */
const MIRROR = 'native.git';
const LOCK = 'mirror.lock';

/**
 * The native engine: the `git` binary through simple-git. Every protocol git speaks, the user's git config (proxies,
 * CA, `insteadOf`, credential helpers when no token is set) and SSH agent.
 *
 * The mirror is a bare repository holding only what was asked for:
 * - `revision` is `git ls-remote` (protocol v0: a single request that answers HEAD, branches and tags);
 * - a commit is fetched at depth 1 with `--filter=blob:none` (commit and trees, no file contents) into
 *   `refs/agentos/rev/<sha>`; the ref is written only once the fetch completed, so its presence means "complete";
 * - `registry.json` is read with `git cat-file`, which fetches that one blob from the promisor remote;
 * - an entry's folder is listed from the local trees, its missing blobs are fetched in one request (shared by
 *   entries materialized at the same time), then read through one long-lived `git cat-file --batch` and written out.
 * That is a sparse checkout of `registry.json` plus one entry folder, without a work tree or index, so entries can
 * be materialized concurrently. With `sparse: false`, or a server that does not support filters, the whole commit
 * comes in the first fetch and nothing more is downloaded for it.
 */
export class NativeEngine implements GitEngine {
  readonly name = 'native' as const;
  /** Blob fetches of concurrent materializations, coalesced per mirror. */
  private readonly blobFetches = new Map<string, Batcher<string>>();
  /** One `git cat-file --batch` per mirror, kept open while entries are read. */
  private readonly readers = new Map<string, ObjectReader>();
  /** Per mirror and revision: the blobs a partial mirror lacks. */
  private readonly absent = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly remote: GitRemote,
    private readonly git: GitRunner,
    private readonly sparse: boolean,
  ) {}

  /** Partial clone needs a server that supports filters; a repository on disk is copied whole (it is local anyway). */
  get partial(): boolean {
    return this.sparse && this.remote.location.transport !== 'file';
  }

  async listRefs(call: EngineCall): Promise<RemoteRef[]> {
    throwIfAborted(call.signal, 'listing the refs', call.registry);
    // Protocol v0 answers with every ref in the response to a single GET; v2 would need a second request.
    const out = await this.remoteCommand(call, 'listing its branches and tags', () =>
      this.logged(call.logger, call.registry, 'ls-remote', () =>
        this.git.text({
          args: ['ls-remote', '--symref', '--', this.remote.location.remote],
          signal: call.signal,
          config: [['protocol.version', '0']],
          deadline: this.deadline('index'),
        }),
      ),
    );
    return parseLsRemote(out);
  }

  async readFile(commit: ResolvedRef, path: string, call: EngineCall): Promise<Uint8Array | undefined> {
    return this.withMirror(commit, call, `reading ${path}`, async (mirror) => {
      try {
        // In a partial mirror the blob is fetched here, in one request, by git's promisor machinery (hence a deadline:
        // the lazy fetch is a child of this command and is killed with it).
        return await this.git.catFile({ args: ['blob', `${commit.sha}:${path}`], gitDir: mirror, signal: call.signal, deadline: this.deadline('index') });
      } catch (error) {
        if (error instanceof GitCommandFailure && /does not exist in|exists on disk, but not in|not a valid object name/i.test(error.stderr)) return undefined;
        throw error;
      }
    });
  }

  async materialize(commit: ResolvedRef, path: string, destination: string, call: EngineCall): Promise<void> {
    await this.withMirror(commit, call, `fetching entry '${path}'`, async (mirror) => {
      const reader = this.reader(mirror);
      const found = await listEntry(reader, commit.sha, path);
      if (found === 'missing' || found === 'file') throw entryNotFoundError(this.remote.context, commit, path, found === 'file');
      if (this.partial) await this.fetchMissingBlobs(commit, found, mirror, call);
      await writeTree(destination, found, (oids) => readBlobs(reader, oids), { registry: call.registry, signal: call.signal, path });
    });
  }

  /**
   * Runs `use` on the mirror once it holds `commit`. Failures are mapped to registry errors; one that says the mirror
   * itself is damaged (not the server) gets the mirror rebuilt and `use` run once more.
   */
  private async withMirror<T>(commit: ResolvedRef, call: EngineCall, action: string, use: (mirror: string) => Promise<T>): Promise<T> {
    throwIfAborted(call.signal, action, call.registry);
    const mirror = await this.ensureCommit(commit, call);
    try {
      return await use(mirror);
    } catch (error) {
      if (!this.isDamage(error, call)) throw this.mapped(error, call, action);
      await this.rebuild(mirror, call, error as GitCommandFailure);
    }
    try {
      return await use(await this.ensureCommit(commit, call));
    } catch (error) {
      throw this.mapped(error, call, action);
    }
  }

  private async rebuild(mirror: string, call: EngineCall, cause: GitCommandFailure): Promise<void> {
    call.logger.warn(`The git mirror of registry '${call.registry}' is damaged (${gitReason(cause.stderr)}); rebuilding it.`);
    this.forget(mirror);
    await withWorkLock(call.workDir, LOCK, () => removeInside(call.workDir, MIRROR), { signal: call.signal, registry: call.registry });
  }

  async close(): Promise<void> {
    for (const reader of this.readers.values()) reader.close();
    this.readers.clear();
    this.absent.clear();
  }

  // ── the mirror ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** The mirror holding `commit` (fetched now if it is not there yet). */
  private async ensureCommit(commit: ResolvedRef, call: EngineCall): Promise<string> {
    const mirror = join(call.workDir, MIRROR);
    if (await hasRevision(mirror, commit.sha)) return mirror;
    const action = `fetching revision ${commit.sha.slice(0, 12)}`;
    throwIfAborted(call.signal, action, call.registry);
    const lock = { signal: call.signal, registry: call.registry };
    await withWorkLock(
      call.workDir,
      LOCK,
      async () => {
        if (await hasRevision(mirror, commit.sha)) return;
        try {
          await this.initMirror(call);
          await this.fetchCommit(commit, mirror, call);
        } catch (error) {
          if (!this.isDamage(error, call)) throw this.mapped(error, call, action);
          // Something local is wrong (a lock file left by a killed git, a damaged pack): start the mirror over once.
          call.logger.warn(`The git mirror of registry '${call.registry}' is damaged (${gitReason((error as GitCommandFailure).stderr)}); rebuilding it.`);
          this.forget(mirror);
          await removeInside(call.workDir, MIRROR);
          try {
            await this.initMirror(call);
            await this.fetchCommit(commit, mirror, call);
          } catch (again) {
            throw this.mapped(again, call, action);
          }
        }
        await this.pruneRevisions(mirror, call);
      },
      lock,
    );
    return mirror;
  }

  /** Drops what is held about a mirror that is being rebuilt. */
  private forget(mirror: string): void {
    this.readers.get(mirror)?.close();
    this.readers.delete(mirror);
    for (const key of [...this.absent.keys()]) if (key.startsWith(`${mirror}\0`)) this.absent.delete(key);
  }

  /**
   * Creates the empty bare repository. Written directly (the layout `git init --bare` makes, minus sample hooks and
   * description) rather than by starting a process: a cold fetch is a handful of git processes, and this saves one.
   * Built beside it and renamed into place by core, so a half-made mirror is never seen.
   */
  private async initMirror(call: EngineCall): Promise<void> {
    if (await exists(join(call.workDir, MIRROR, 'HEAD'))) return;
    const skeleton = async (writer: TreeWriter) => {
      for (const dir of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) await writer.folder(dir);
      await writer.file('HEAD', Buffer.from('ref: refs/heads/main\n'));
      await writer.file('config', Buffer.from('[core]\n\trepositoryformatversion = 0\n\tbare = true\n'));
    };
    await replaceFolderInside(call.workDir, MIRROR, skeleton, { registry: call.registry });
  }

  private async fetchCommit(commit: ResolvedRef, mirror: string, call: EngineCall): Promise<void> {
    const action = `fetching revision ${commit.sha.slice(0, 12)}`;
    const args = ['fetch', '--no-tags', '--no-auto-gc', '--recurse-submodules=no', '--depth=1', this.partial ? '--filter=blob:none' : '--no-filter', 'origin'];
    // Commit and trees only (partial) are about the size of an index; the whole commit holds every entry's files.
    const deadline = this.deadline(this.partial ? 'index' : 'entry');
    try {
      await this.logged(call.logger, call.registry, 'fetch', () =>
        this.git.text({
          args: [...args, `+${commit.sha}:${REVISION_REFS}/${commit.sha}`],
          gitDir: mirror,
          signal: call.signal,
          deadline,
          ...this.progress(call.registry, deadline.purpose),
        }),
      );
      return;
    } catch (error) {
      const byRef = commit.ref.startsWith('refs/') && error instanceof GitCommandFailure && classifyGitMessage(error.stderr) === 'object-not-found';
      if (!byRef) throw this.remoteOrDamage(error, call, action);
    }
    // An old server that refuses to send unadvertised commits: fetch the ref, and take it if it still names `sha`.
    const pending = 'refs/agentos/fetching';
    try {
      await this.logged(call.logger, call.registry, 'fetch', () =>
        this.git.text({
          args: [...args, `+${commit.ref}:${pending}`],
          gitDir: mirror,
          signal: call.signal,
          deadline,
          ...this.progress(call.registry, deadline.purpose),
        }),
      );
      const fetched = (await this.git.text({ args: ['rev-parse', '--verify', '--quiet', `${pending}^{commit}`], gitDir: mirror, signal: call.signal })).trim();
      if (fetched !== commit.sha) throw new GitCommandFailure(`fatal: couldn't find remote ref for ${commit.sha}: ${commit.ref} moved`, false);
      await this.git.text({ args: ['update-ref', `${REVISION_REFS}/${commit.sha}`, commit.sha], gitDir: mirror, signal: call.signal });
    } catch (error) {
      throw this.remoteOrDamage(error, call, action);
    } finally {
      await this.git.text({ args: ['update-ref', '-d', pending], gitDir: mirror, signal: new AbortController().signal }).catch(() => undefined);
    }
  }

  /** Fetches, in one request (shared with concurrent materializations), the entry's blobs the mirror lacks. */
  private async fetchMissingBlobs(commit: ResolvedRef, files: readonly TreeFile[], mirror: string, call: EngineCall): Promise<void> {
    const absent = await this.absentBlobs(commit, mirror, call);
    const missing = [...new Set(files.filter((file) => file.mode !== SUBMODULE_MODE && absent.has(file.oid)).map((file) => file.oid))];
    if (missing.length === 0) return;
    let batcher = this.blobFetches.get(mirror);
    if (!batcher) {
      const { workDir, registry } = call;
      batcher = new Batcher<string>((oids, signal) =>
        withWorkLock(workDir, LOCK, () => this.fetchBlobs(oids, mirror, signal, registry, call.logger), { signal, registry }),
      );
      this.blobFetches.set(mirror, batcher);
    }
    await batcher.run(missing, call.signal);
    for (const oid of missing) absent.delete(oid);
  }

  /**
   * The blobs of `commit` the partial mirror does not hold, listed once per revision: `rev-list --missing=print`
   * walks the local trees and names absent blobs without fetching them (reading them would fetch each alone).
   */
  private absentBlobs(commit: ResolvedRef, mirror: string, call: EngineCall): Promise<Set<string>> {
    const key = `${mirror}\0${commit.sha}`;
    let known = this.absent.get(key);
    if (!known) {
      known = this.git.text({ args: ['rev-list', '--objects', '--missing=print', commit.sha], gitDir: mirror, signal: call.signal }).then((out) => {
        const set = new Set<string>();
        for (const line of out.split('\n')) if (line.startsWith('?')) set.add(line.slice(1).trim());
        return set;
      });
      known.catch(() => this.absent.delete(key));
      this.absent.set(key, known);
      // A few revisions at most: older ones are not read any more.
      while (this.absent.size > 4) this.absent.delete(this.absent.keys().next().value as string);
    }
    return known;
  }

  /** The long-lived object reader of a mirror. */
  private reader(mirror: string): ObjectReader {
    let reader = this.readers.get(mirror);
    if (!reader) {
      reader = new ObjectReader(mirror, () => this.git.environment(mirror));
      this.readers.set(mirror, reader);
    }
    return reader;
  }

  /** One `git fetch` of the given blobs (the union of what concurrent materializations asked for). */
  private async fetchBlobs(oids: string[], mirror: string, signal: AbortSignal, registry: string, logger: Logger): Promise<void> {
    for (let start = 0; start < oids.length; start += FETCH_BATCH) {
      await this.logged(logger, registry, 'fetch', () =>
        this.git.text({
          args: ['fetch', '--no-tags', '--no-auto-gc', '--recurse-submodules=no', '--filter=blob:none', 'origin', ...oids.slice(start, start + FETCH_BATCH)],
          gitDir: mirror,
          signal,
          // What a partial clone does for its own lazy fetches: the server need not negotiate, we want exactly these.
          config: [['fetch.negotiationAlgorithm', 'noop']],
          deadline: this.deadline('entry'),
          ...this.progress(registry, 'entry'),
        }),
      );
    }
  }

  /** Keeps the newest {@link KEPT_REVISIONS} revision refs, and lets git compact the mirror when it has grown. */
  private async pruneRevisions(mirror: string, call: EngineCall): Promise<void> {
    const folder = join(mirror, ...REVISION_REFS.split('/'));
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return;
    }
    if (names.length <= KEPT_REVISIONS) return;
    const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.mtime - a.mtime);
    const old = dated.slice(KEPT_REVISIONS).map(({ name }) => `delete ${REVISION_REFS}/${name}\n`);
    try {
      await this.git.text({ args: ['update-ref', '--stdin'], input: old.join(''), gitDir: mirror, signal: call.signal });
      // Foreground (autoDetach off), and only when git's own thresholds say the mirror needs it.
      await this.git.text({
        args: ['gc', '--auto', '--quiet'],
        gitDir: mirror,
        signal: call.signal,
        config: [
          ['gc.auto', '6700'],
          ['gc.autoDetach', 'false'],
        ],
      });
    } catch (error) {
      call.logger.debug(`Compacting the git mirror of registry '${call.registry}' failed; it is retried after the next fetch.`, {
        reason: error instanceof GitCommandFailure ? gitReason(error.stderr) : String(error),
      });
    }
  }

  /** The deadline of a command by what it downloads: `timeouts.index` or `timeouts.entry` of the registry. */
  private deadline(purpose: TransferPurpose): StepDeadline {
    return { purpose, ms: this.remote.transport.deadlines[purpose] };
  }

  /**
   * Runs a git command that talks to the server and logs it (debug: `--verbose`) as the HTTP client logs a request:
   * the command, the public location (never a token: git gets it in its environment), the outcome and the time.
   */
  private async logged<T>(logger: Logger, registry: string, verb: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const took = () => `${Math.round(performance.now() - started)} ms`;
    try {
      const result = await run();
      logger.debug(`git: ${verb} ${this.remote.context.display} → ok in ${took()}`, { registry });
      return result;
    } catch (error) {
      logger.debug(`git: ${verb} ${this.remote.context.display} failed after ${took()}`, { registry });
      throw error;
    }
  }

  /**
   * git's own progress of a fetch, passed on as object counts (`receiving 12/80`), when someone listens. Only the
   * public location is named.
   */
  private progress(registry: string, purpose: 'index' | 'entry'): { progress?: GitCommand['progress'] } {
    const listener = this.remote.onProgress;
    if (!listener) return {};
    const base = { registry, url: this.remote.context.display, purpose, bytes: 0 };
    return {
      progress: ({ stage, processed, total }) => {
        try {
          listener({ ...base, done: false, objects: { stage, done: processed, total } });
        } catch {
          // A display that fails is no reason to fail the fetch.
        }
      },
    };
  }

  // ── errors ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Runs a command that talks to the server, mapping its failure. */
  private async remoteCommand<T>(call: EngineCall, action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.mapped(error, call, action);
    }
  }

  /** A failure that says the mirror is damaged rather than the server unhappy. */
  private isDamage(error: unknown, call: EngineCall): boolean {
    return error instanceof GitCommandFailure && !error.aborted && !call.signal.aborted && classifyGitMessage(error.stderr) === 'unknown';
  }

  /** Leaves local damage as a GitCommandFailure (so `ensureCommit` can rebuild), maps everything else. */
  private remoteOrDamage(error: unknown, call: EngineCall, action: string): unknown {
    return this.isDamage(error, call) ? error : this.mapped(error, call, action);
  }

  private mapped(error: unknown, call: EngineCall, action: string): unknown {
    if (isRegistryError(error)) return error;
    if (call.signal.aborted) return abortError(call.signal, action, call.registry);
    // Killed by its deadline, not by the caller: the server was too slow, a network fault core may serve stale for.
    if (error instanceof GitCommandFailure && error.deadline) return deadlineError(this.remote.context, action, error.deadline);
    if (error instanceof GitCommandFailure && error.aborted) return abortError(call.signal, action, call.registry);
    if (!(error instanceof GitCommandFailure)) return error;
    const reason = gitReason(error.stderr);
    return remoteError(classifyGitMessage(error.stderr), this.remote.context, action, reason);
  }
}

/** Whether `refs/agentos/rev/<sha>` exists, loose or packed (read from disk: no process, no object access). */
async function hasRevision(mirror: string, sha: string): Promise<boolean> {
  if (await exists(join(mirror, ...REVISION_REFS.split('/'), sha))) return true;
  try {
    const packed = await readFile(join(mirror, 'packed-refs'), 'utf8');
    return packed.includes(`${sha} ${REVISION_REFS}/${sha}\n`);
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * The files of the folder `path` at `commit`, read tree by tree through the object reader (trees are always in the
 * mirror, even a partial one): `'missing'` when there is no such path, `'file'` when it is not a folder.
 */
async function listEntry(reader: ObjectReader, sha: string, path: string): Promise<TreeFile[] | 'missing' | 'file'> {
  const oidBytes = sha.length / 2;
  const readTree = async (spec: string): Promise<TreeEntry[]> => {
    const object = await reader.read(spec);
    if (object?.type !== 'tree') throw new GitCommandFailure(`fatal: the mirror lacks tree ${spec}`, false);
    return parseTree(object.data, oidBytes);
  };
  let entries = await readTree(`${sha}^{tree}`);
  const parts = path === '' ? [] : path.split('/');
  for (const [index, name] of parts.entries()) {
    const entry = entries.find((candidate) => candidate.name === name);
    if (!entry) return 'missing';
    if (entry.mode !== TREE_MODE) return index === parts.length - 1 ? 'file' : 'missing';
    entries = await readTree(entry.oid);
  }
  const files: TreeFile[] = [];
  const walk = async (list: TreeEntry[], prefix: string): Promise<void> => {
    for (const entry of list) {
      if (entry.mode === TREE_MODE) await walk(await readTree(entry.oid), `${prefix}${entry.name}/`);
      else files.push({ mode: entry.mode, oid: entry.oid, path: `${prefix}${entry.name}` });
    }
  };
  await walk(entries, '');
  return files.length === 0 ? 'missing' : files;
}

const TREE_MODE = '040000';

/** Reads blobs through the object reader (pipelined: every request is written at once). */
async function readBlobs(reader: ObjectReader, oids: string[]): Promise<Map<string, Uint8Array>> {
  const unique = [...new Set(oids)];
  const objects = await Promise.all(unique.map((oid) => reader.read(oid)));
  const blobs = new Map<string, Uint8Array>();
  unique.forEach((oid, index) => {
    const object = objects[index];
    if (object?.type !== 'blob') throw new GitCommandFailure(`fatal: the mirror lacks blob ${oid}`, false);
    blobs.set(oid, object.data);
  });
  return blobs;
}
