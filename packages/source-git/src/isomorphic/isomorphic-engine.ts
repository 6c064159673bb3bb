import * as fs from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import {
  abortError,
  createHttpClient as createCoreHttpClient,
  type HttpClient as CoreHttpClient,
  isRegistryError,
  RegistryError,
  removeInside,
  throwIfAborted,
  type TransferPurpose,
  withWorkLock,
  writeFileInside,
} from '@agentos-registry/core';
import git from 'isomorphic-git';
import type { EngineCall, GitEngine, GitRemote } from '../engine.js';
import type { StepDeadline } from '../deadline.js';
import { classifyGitMessage, deadlineError, entryNotFoundError, type GitFailure, remoteError } from '../errors.js';
import type { RemoteRef, ResolvedRef } from '../refs.js';
import { type TreeFile, writeTree } from '../tree-writer.js';
import { CrossOriginRedirectError, createHttpClient, TransportFaults } from './http-client.js';

/** The mirror, in the registry's work folder (the native engine keeps its own beside it). */
const MIRROR = 'isomorphic.git';
const REVISION_REFS = 'refs/agentos/rev';
/** The local ref whose commit is offered to the server as "have", so a new revision downloads only what changed. */
const HAVE_REF = 'refs/agentos/have';
const KEPT_REVISIONS = 8;
/** isomorphic-git never repacks: past this many packs the mirror is started over on the next fetch. */
const MAX_PACKS = 24;

/**
 * The isomorphic engine: pure JavaScript through isomorphic-git, for hosts without a `git` binary (slim containers,
 * serverless). It speaks smart HTTP only — `ssh://`, `git@host:path` and `git://` need the native engine — and reads
 * repositories on this machine directly, without copying them.
 *
 * Remote repositories go through a bare mirror: `revision` is one request (the v1 ref advertisement); a commit is
 * fetched at depth 1, offering the previously fetched commit as common ground so that a new revision transfers only
 * what changed. isomorphic-git has no partial clone, so the first fetch of a commit brings all of its files; every
 * entry of that revision is then read from the mirror without another request.
 */
export class IsomorphicEngine implements GitEngine {
  readonly name = 'isomorphic' as const;
  readonly partial = false;
  /** isomorphic-git's object cache (parsed pack indexes): reused across calls, dropped by `close()`. */
  private cache: object = {};
  private client: { core: CoreHttpClient; fetch: Record<TransferPurpose, typeof globalThis.fetch> } | undefined;

  constructor(private readonly remote: GitRemote) {}

  private get local(): boolean {
    return this.remote.location.transport === 'file';
  }

  private http(call: EngineCall, faults: TransportFaults) {
    const { origin } = this.remote.location;
    if (!this.client) {
      // One core client per engine: keep-alive connections; the registry's transport options (proxy, ca, timeouts
      // and deadlines, retries, limits, from core's httpClientOptionsOf); proxies and CAs from its environment. Its
      // credential handling is not used: the token is added per request below, to the repository's origin only.
      // A plain http: location is the user's explicit choice (as with native git), so it is not refused.
      const core = createCoreHttpClient({
        ...this.remote.transport.http,
        registry: call.registry,
        allowInsecure: true,
        ...(this.remote.env ? { env: this.remote.env } : {}),
        logger: call.logger,
        ...(this.remote.onProgress ? { onProgress: this.remote.onProgress } : {}),
      });
      this.client = { core, fetch: { index: core.fetchWith({ purpose: 'index' }), entry: core.fetchWith({ purpose: 'entry' }) } };
    }
    return createHttpClient({
      origin: origin ?? '',
      ...(this.remote.authorization === undefined ? {} : { authorization: this.remote.authorization }),
      signal: call.signal,
      fetch: this.client.fetch,
      faults,
    });
  }

  async listRefs(call: EngineCall): Promise<RemoteRef[]> {
    const action = 'listing its branches and tags';
    throwIfAborted(call.signal, action, call.registry);
    const faults = new TransportFaults();
    try {
      if (this.local) return await this.localRefs(await this.localGitdir());
      // Protocol v1: the advertisement of every ref is the answer to a single GET.
      const info = await git.getRemoteInfo2({ http: this.http(call, faults), url: this.remote.location.remote, protocolVersion: 1 });
      // isomorphic-git took a cut stream for its end: the refs it returns are a part of the list, not the list.
      if (faults.first) throw faults.first.error;
      return (info.refs ?? []).map((ref) => ({
        name: ref.ref,
        oid: ref.oid,
        ...(ref.peeled ? { peeled: ref.peeled } : {}),
        ...(ref.target ? { target: ref.target } : {}),
      }));
    } catch (error) {
      throw this.mapped(error, call, action, faults);
    }
  }

  async readFile(commit: ResolvedRef, path: string, call: EngineCall): Promise<Uint8Array | undefined> {
    const gitdir = await this.ensureCommit(commit, call);
    try {
      const { blob } = await git.readBlob({ fs, gitdir, oid: commit.sha, filepath: path, cache: this.cache });
      return blob;
    } catch (error) {
      if (codeOf(error) === 'NotFoundError' || codeOf(error) === 'ObjectTypeError') return undefined;
      throw this.mapped(error, call, `reading ${path}`);
    }
  }

  async materialize(commit: ResolvedRef, path: string, destination: string, call: EngineCall): Promise<void> {
    const gitdir = await this.ensureCommit(commit, call);
    const action = `fetching entry '${path}'`;
    let files: TreeFile[];
    try {
      files = await this.listFiles(gitdir, commit.sha, path, call);
    } catch (error) {
      const code = codeOf(error);
      if (code === 'NotFoundError' || code === 'ObjectTypeError') throw entryNotFoundError(this.remote.context, commit, path, code === 'ObjectTypeError');
      throw this.mapped(error, call, action);
    }
    const read = async (oids: string[]) => {
      const blobs = new Map<string, Uint8Array>();
      for (const oid of new Set(oids)) blobs.set(oid, (await git.readBlob({ fs, gitdir, oid, cache: this.cache })).blob);
      return blobs;
    };
    await writeTree(destination, files, read, { registry: call.registry, signal: call.signal, path });
  }

  async close(): Promise<void> {
    this.cache = {};
    const client = this.client;
    this.client = undefined;
    await client?.core.close();
  }

  /** Every non-tree entry below `path`, paths relative to it. */
  private async listFiles(gitdir: string, sha: string, path: string, call: EngineCall): Promise<TreeFile[]> {
    throwIfAborted(call.signal, `reading entry '${path}'`, call.registry);
    const { tree } = await git.readTree({ fs, gitdir, oid: sha, ...(path === '' ? {} : { filepath: path }), cache: this.cache });
    return this.listSubtree(gitdir, tree, '');
  }

  private async listSubtree(gitdir: string, tree: Array<{ mode: string; path: string; oid: string; type: string }>, prefix: string): Promise<TreeFile[]> {
    const files: TreeFile[] = [];
    for (const entry of tree) {
      const relative = `${prefix}${entry.path}`;
      if (entry.type === 'tree') {
        const below = await git.readTree({ fs, gitdir, oid: entry.oid, cache: this.cache });
        files.push(...(await this.listSubtree(gitdir, below.tree, `${relative}/`)));
      } else {
        files.push({ mode: entry.mode, oid: entry.oid, path: relative });
      }
    }
    return files;
  }

  // ── repositories ───────────────────────────────────────────────────────────────────────────────────────────────

  /** The git folder of a repository on this machine: a bare repository, or a work tree's `.git` (folder or file). */
  private async localGitdir(): Promise<string> {
    const root = this.remote.location.remote;
    const dotGit = join(root, '.git');
    const info = await stat(dotGit).catch(() => undefined);
    if (info?.isDirectory()) return dotGit;
    if (info?.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8'))?.[1]?.trim();
      if (pointer) return isAbsolute(pointer) ? pointer : resolve(root, pointer);
    }
    if ((await exists(join(root, 'HEAD'))) && (await exists(join(root, 'objects')))) return root;
    throw remoteError('repo-not-found', this.remote.context, 'opening the repository', 'not a git repository');
  }

  /** The refs of a local repository, in the shape a server advertises them. */
  private async localRefs(gitdir: string): Promise<RemoteRef[]> {
    const refs: RemoteRef[] = [];
    const head = await git.resolveRef({ fs, gitdir, ref: 'HEAD', depth: 1 }).catch(() => undefined);
    const headOid = await git.resolveRef({ fs, gitdir, ref: 'HEAD' }).catch(() => undefined);
    if (headOid) refs.push({ name: 'HEAD', oid: headOid, ...(head?.startsWith('refs/') ? { target: head } : {}) });
    for (const branch of await git.listBranches({ fs, gitdir })) {
      refs.push({ name: `refs/heads/${branch}`, oid: await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` }) });
    }
    for (const tag of await git.listTags({ fs, gitdir })) {
      const oid = await git.resolveRef({ fs, gitdir, ref: `refs/tags/${tag}` });
      refs.push({ name: `refs/tags/${tag}`, oid, peeled: await this.peel(gitdir, oid) });
    }
    return refs;
  }

  /** The commit an (annotated, possibly nested) tag points at; the oid itself for anything else. */
  private async peel(gitdir: string, oid: string): Promise<string> {
    let current = oid;
    for (let depth = 0; depth < 10; depth++) {
      const object = await git.readObject({ fs, gitdir, oid: current, format: 'parsed', cache: this.cache }).catch(() => undefined);
      if (object?.type !== 'tag') return current;
      current = (object.object as { object: string }).object;
    }
    return current;
  }

  /** The git folder holding `commit`: the local repository itself, or the mirror (fetched now if needed). */
  private async ensureCommit(commit: ResolvedRef, call: EngineCall): Promise<string> {
    const action = `fetching revision ${commit.sha.slice(0, 12)}`;
    throwIfAborted(call.signal, action, call.registry);
    if (this.local) {
      try {
        return await this.localGitdir();
      } catch (error) {
        throw this.mapped(error, call, action);
      }
    }
    const gitdir = join(call.workDir, MIRROR);
    if (await hasRevision(gitdir, commit.sha)) return gitdir;
    const faults = new TransportFaults();
    try {
      const work = async () => {
        if (await hasRevision(gitdir, commit.sha)) return;
        if ((await packCount(gitdir)) > MAX_PACKS) {
          await removeInside(call.workDir, MIRROR);
          this.cache = {};
        }
        await this.initMirror(gitdir);
        await this.fetchCommit(commit, gitdir, call, faults);
        await pruneRevisions(gitdir);
      };
      await withWorkLock(call.workDir, 'mirror.lock', work, { signal: call.signal, registry: call.registry });
    } catch (error) {
      throw this.mapped(error, call, action, faults);
    }
    return gitdir;
  }

  private async initMirror(gitdir: string): Promise<void> {
    if (await exists(join(gitdir, 'HEAD'))) return;
    await git.init({ fs, gitdir, bare: true });
    // isomorphic-git insists on a fetch refspec; nothing is fetched through it (the commit is asked for by sha).
    await git.setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
  }

  /**
   * Fetches depth 1 of `commit`. isomorphic-git records the new shallow boundary before the pack has arrived, so a
   * transfer cut short would leave the mirror claiming a commit it lacks and the next fetch would ask for nothing:
   * the shallow file is put back as it was when the fetch fails, and the commit is read back before it counts.
   */
  private async fetchCommit(commit: ResolvedRef, gitdir: string, call: EngineCall, faults: TransportFaults): Promise<void> {
    const shallowBefore = await readFile(join(gitdir, 'shallow')).catch(() => undefined);
    try {
      await git.fetch({
        fs,
        http: this.http(call, faults),
        gitdir,
        url: this.remote.location.remote,
        remote: 'origin',
        ref: HAVE_REF,
        remoteRef: commit.sha,
        singleBranch: true,
        depth: 1,
        tags: false,
        cache: this.cache,
      });
      await git.readCommit({ fs, gitdir, oid: commit.sha, cache: this.cache });
    } catch (error) {
      if (shallowBefore === undefined) await removeInside(gitdir, 'shallow');
      else await writeFileInside(gitdir, 'shallow', shallowBefore);
      this.cache = {};
      throw error;
    }
    await git.writeRef({ fs, gitdir, ref: `${REVISION_REFS}/${commit.sha}`, value: commit.sha, force: true });
    await git.writeRef({ fs, gitdir, ref: HAVE_REF, value: commit.sha, force: true });
  }

  // ── errors ─────────────────────────────────────────────────────────────────────────────────────────────────────

  private mapped(error: unknown, call: EngineCall, action: string, faults?: TransportFaults): unknown {
    // A response that failed as it streamed is what went wrong, whatever isomorphic-git made of the short stream
    // (an empty or unparsable answer, a missing object): a network fault, so that a cached copy can be served.
    const fault = faults?.first;
    if (fault !== undefined) {
      if (call.signal.aborted) return abortError(call.signal, action, call.registry);
      if (isRegistryError(fault.error) && fault.error.code !== 'E_UNREACHABLE') return fault.error;
      error = fault.error;
      if (!isRegistryError(error)) return remoteError('unreachable', this.remote.context, action, describe(error), error);
    }
    // Core's HTTP client reports a transport failure as E_UNREACHABLE in its own words; say it as this source does
    // for both engines (the location, what was being done, what to check) — for a deadline, which one and the
    // option that raises it.
    if (isRegistryError(error, 'E_UNREACHABLE')) {
      const deadline = deadlineOf(error);
      if (deadline) return deadlineError(this.remote.context, action, deadline, error);
      const cause = (error.cause ?? {}) as { code?: string; message?: string };
      return remoteError('unreachable', this.remote.context, action, cause.code ?? cause.message ?? '', error);
    }
    if (isRegistryError(error)) return error;
    if (call.signal.aborted) return abortError(call.signal, action, call.registry);
    // isomorphic-git refuses `..`, `.`, backslash and slash names in a tree itself, before core's tree writer sees
    // them; the tree is hostile either way, and the native engine (through core) says E_UNSAFE_PATH for it too.
    if (codeOf(error) === 'UnsafeFilepathError') {
      const filepath = (error as { data?: { filepath?: unknown } }).data?.filepath;
      const name = typeof filepath === 'string' ? ` ${JSON.stringify(filepath.slice(0, 200))}` : '';
      return new RegistryError(
        'E_UNSAFE_PATH',
        `Registry '${call.registry}' (${this.remote.context.display}): the git tree holds the unsafe path name${name} while ${action}; entries may only hold names that stay inside their folder. Ask the registry owner to fix the repository.`,
        { registry: call.registry, cause: error, details: { location: this.remote.context.display } },
      );
    }
    const reason = describe(error);
    return remoteError(classify(error), this.remote.context, action, reason, error);
  }
}

/** The deadline that core's HTTP client says stopped a request (its `details`: `deadline: 'timeouts.<purpose>'`, `ms`). */
function deadlineOf(error: RegistryError): StepDeadline | undefined {
  const { deadline, ms } = error.details ?? {};
  if ((deadline !== 'timeouts.index' && deadline !== 'timeouts.entry') || typeof ms !== 'number') return undefined;
  return { purpose: deadline === 'timeouts.index' ? 'index' : 'entry', ms };
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The reason to show for an isomorphic-git or fetch failure (never holds a header: only statuses and messages). */
function describe(error: unknown): string {
  const code = codeOf(error);
  if (code === 'HttpError') {
    const data = (error as { data?: { statusCode?: number; statusMessage?: string } }).data;
    return `HTTP ${data?.statusCode ?? '?'} ${data?.statusMessage ?? ''}`.trim();
  }
  // These two quote what the server sent ("but received …"): say what was expected, never the bytes.
  if (code === 'ParseError') {
    const expected = (error as { data?: { expected?: unknown } }).data?.expected;
    return `the server's answer is not the git protocol${typeof expected === 'string' ? ` (expected ${expected})` : ''}`;
  }
  if (code === 'SmartHttpError') return "the server did not answer with git's smart HTTP protocol";
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ? `${message}: ${cause.code}` : message;
}

function classify(error: unknown): GitFailure {
  if (error instanceof CrossOriginRedirectError) return 'redirect';
  const code = codeOf(error);
  if (code === 'HttpError') {
    const status = (error as { data?: { statusCode?: number } }).data?.statusCode ?? 0;
    if (status === 401 || status === 403) return 'auth';
    if (status === 404) return 'repo-not-found';
    return 'unreachable';
  }
  if (code === 'SmartHttpError') return 'repo-not-found';
  // An empty or garbled answer is a transfer that went wrong (native git says "protocol error", "early EOF").
  if (code === 'ParseError' || code === 'EmptyServerResponseError') return 'unreachable';
  if (code === 'UserCanceledError') return 'auth';
  const byMessage = classifyGitMessage(describe(error));
  if (byMessage !== 'unknown') return byMessage;
  // A transfer that broke in a way isomorphic-git reports as a parse error (a truncated pack) is still the network.
  if (error instanceof TypeError || code === undefined || /pack|EOF|unexpected end|terminated|socket/i.test(describe(error))) return 'unreachable';
  return 'unknown';
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function hasRevision(gitdir: string, sha: string): Promise<boolean> {
  return exists(join(gitdir, ...REVISION_REFS.split('/'), sha));
}

async function packCount(gitdir: string): Promise<number> {
  const names = await readdir(join(gitdir, 'objects', 'pack')).catch(() => [] as string[]);
  return names.filter((name) => name.endsWith('.pack')).length;
}

async function pruneRevisions(gitdir: string): Promise<void> {
  const folder = join(gitdir, ...REVISION_REFS.split('/'));
  const names = await readdir(folder).catch(() => [] as string[]);
  if (names.length <= KEPT_REVISIONS) return;
  const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(dated.slice(KEPT_REVISIONS).map(({ name }) => git.deleteRef({ fs, gitdir, ref: `${REVISION_REFS}/${name}` })));
}
