/**
 * Snapshots: the whole registry at one revision, as one archive a source hands over (`RegistrySource.snapshot`).
 * Core extracts each revision once, with its guarded extractor, into `<workDir>/snapshots/<hash of the revision id>`,
 * and serves `registry.json` and every entry from that folder. A folder appears by an atomic rename once complete, so
 * another process sharing the cache either sees all of it or nothing; concurrent callers here wait for one download,
 * which is cancelled only when every caller waiting for it has given up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { assertArchiveAnswer, extractArchiveAnswer, releaseArchive } from './archive-answer.js';
import type { MaterializeRequest, RegistrySource, SourceCallContext, SourceRevision } from './contract.js';
import { readFileInside, realPathInside } from './entry-files.js';
import { isRegistryError, type RegistryError } from './errors.js';
import { abortError, missingEntryFolderError, missingIndexError } from './source-errors.js';
import { copyDirectory } from './tree.js';

/** Extracted revisions kept besides the one in use: enough for a rollback or a slow reader of the previous one. */
const KEEP = 3;
/**
 * A revision used this recently is kept whatever KEEP says: every use touches its folder, so one that another process
 * sharing the cache is reading from (an old host still on the previous commit) is not removed under it.
 */
const IN_USE_MS = 10 * 60_000;
/** A partial folder older than this belongs to a process that died mid-download. */
const STALE_PARTIAL_MS = 3_600_000;

/** The registry a snapshot belongs to: its name (for messages) and its source. */
export interface SnapshotRegistry {
  name: string;
  source: RegistrySource;
}

interface Pending {
  folder: string;
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
}

export class Snapshots {
  private readonly pending = new Map<string, Pending>();

  /** The folder holding the registry at `revision`, downloading and extracting it when needed. */
  async tree(reg: SnapshotRegistry, revision: SourceRevision, ctx: SourceCallContext): Promise<string> {
    const what = `Reading revision ${revision.id.slice(0, 12)}`;
    if (ctx.signal.aborted) throw abortError(ctx.signal, what, reg.name);
    const folder = join(ctx.workDir, 'snapshots', createHash('sha256').update(revision.id).digest('hex').slice(0, 32));
    if (await isDirectory(folder)) {
      // Most recently used first when pruning; a failure to touch only makes it look older.
      const now = new Date();
      await utimes(folder, now, now).catch(() => {});
      return folder;
    }
    // The signal may have fired during the stat above; its listener would never run after that.
    if (ctx.signal.aborted) throw abortError(ctx.signal, what, reg.name);
    let pending = this.pending.get(folder);
    if (!pending) {
      const controller = new AbortController();
      const created: Pending = { folder, controller, waiters: 0, promise: this.download(reg, revision, { ...ctx, signal: controller.signal }, folder) };
      pending = created;
      this.pending.set(folder, created);
      const forget = () => {
        if (this.pending.get(folder) === created) this.pending.delete(folder);
      };
      created.promise.then(forget, forget);
    }
    return this.wait(pending, ctx.signal, () => abortError(ctx.signal, what, reg.name));
  }

  /** `registry.json` of a snapshot: a regular file inside it, never through a link out of it. */
  async readIndex(reg: SnapshotRegistry, revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array> {
    const root = await this.tree(reg, revision, ctx);
    const bytes = await readFileInside(root, 'registry.json', { registry: reg.name });
    if (!bytes) throw missingIndexError({ registry: reg.name, where: reg.source.displayLocation, revision: revision.id });
    return bytes;
  }

  /** Copies an entry's folder out of a snapshot into `destination` (by real path: a linked folder on the way stays inside). */
  async copyEntry(reg: SnapshotRegistry, path: string, revision: SourceRevision, destination: string, ctx: SourceCallContext): Promise<void> {
    const root = await this.tree(reg, revision, ctx);
    const notFound = () => missingEntryFolderError({ registry: reg.name, where: reg.source.displayLocation, revision: revision.id, path });
    let real: string | undefined;
    try {
      real = await realPathInside(root, path, { registry: reg.name, label: `Entry folder '${path}'` });
    } catch (error) {
      if (isRegistryError(error)) throw error;
      throw notFound();
    }
    if (real === undefined || !(await lstat(real)).isDirectory()) throw notFound();
    await copyDirectory(real, destination, { signal: ctx.signal, registry: reg.name });
  }

  /** Waits for a shared download with this caller's signal; the last caller to give up cancels it. */
  private wait(pending: Pending, signal: AbortSignal, aborted: () => RegistryError): Promise<string> {
    pending.waiters += 1;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        pending.waiters -= 1;
        if (pending.waiters === 0) {
          // Nobody waits any more: stop the download, and let the next caller start a fresh one.
          if (this.pending.get(pending.folder) === pending) this.pending.delete(pending.folder);
          pending.controller.abort(signal.reason);
        }
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        signal.removeEventListener('abort', onAbort);
        pending.waiters -= 1;
      };
      pending.promise.then(
        (folder) => {
          settle();
          resolve(folder);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  private async download(reg: SnapshotRegistry, revision: SourceRevision, ctx: SourceCallContext, folder: string): Promise<string> {
    const parent = join(ctx.workDir, 'snapshots');
    await mkdir(parent, { recursive: true });
    const temp = join(parent, `.partial-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const answer: unknown = await reg.source.snapshot!(revision, ctx);
      try {
        assertArchiveAnswer(answer, 'snapshot()', reg.name);
        // Made only once the source has answered: a source that never answers (or answers after every caller gave
        // up, or after close() removed a private work folder) leaves nothing on disk. Not recursive: a work folder
        // removed meanwhile is not made again, and the extraction fails instead of writing where nobody cleans up.
        await mkdir(temp);
      } catch (error) {
        await releaseArchive((answer as { archive?: unknown } | null | undefined)?.archive);
        throw error;
      }
      await extractArchiveAnswer({ label: `The snapshot at ${revision.id.slice(0, 12)}`, ...answer }, temp, { registry: reg.name, signal: ctx.signal });
      try {
        await rename(temp, folder);
      } catch (error) {
        // Another process finished the same revision first: its folder has the same files, keep it.
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !(await isDirectory(folder))) throw error;
        await rm(temp, { recursive: true, force: true });
      }
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      if (ctx.signal.aborted && !isRegistryError(error)) throw abortError(ctx.signal, `Reading revision ${revision.id.slice(0, 12)}`, reg.name);
      throw error;
    }
    await prune(parent, folder);
    return folder;
  }
}

/**
 * Removes extracted revisions beyond the KEEP most recently used, unless one was used within IN_USE_MS (by this
 * process or another), and leftovers of crashed downloads.
 */
async function prune(parent: string, keep: string): Promise<void> {
  try {
    const aged: Array<{ path: string; mtime: number }> = [];
    for (const name of await readdir(parent)) {
      const path = join(parent, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      if (name.startsWith('.partial-')) {
        if (Date.now() - info.mtimeMs > STALE_PARTIAL_MS) await rm(path, { recursive: true, force: true });
        continue;
      }
      if (path !== keep) aged.push({ path, mtime: info.mtimeMs });
    }
    aged.sort((a, b) => b.mtime - a.mtime);
    for (const old of aged.slice(KEEP - 1)) {
      if (Date.now() - old.mtime > IN_USE_MS) await rm(old.path, { recursive: true, force: true });
    }
  } catch {
    // Pruning is housekeeping: a failure must not fail the fetch that triggered it.
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Reads a source the way core does, whatever its shape: the index and entries of a snapshot source from its extracted
 * snapshot, those of a per-entry source from `readIndex` and `materialize`, with an archive answer extracted. For
 * tools and tests that drive a source without a registry (the conformance kit does); core itself uses one per registry.
 */
export class SourceReader {
  private readonly snapshots = new Snapshots();

  constructor(private readonly reg: SnapshotRegistry) {}

  /** The bytes of `registry.json` at `revision`. */
  readIndex(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array | string> {
    const { source } = this.reg;
    if (source.snapshot) return this.snapshots.readIndex(this.reg, revision, ctx);
    return source.readIndex!(revision, ctx);
  }

  /** Fills `request.destination` with the entry's files (not yet checked: core checks and hashes what is there). */
  async materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<void> {
    const { source } = this.reg;
    if (source.snapshot) return this.snapshots.copyEntry(this.reg, request.path, request.revision, request.destination, ctx);
    const answer: unknown = await source.materialize!(request, ctx);
    // Nothing (a source that filled the folder itself), or an archive answer; anything else is the source's mistake.
    if (answer === undefined || answer === null) return;
    try {
      assertArchiveAnswer(answer, 'materialize()', this.reg.name);
    } catch (error) {
      await releaseArchive((answer as { archive?: unknown }).archive);
      throw error;
    }
    const id = typeof request.entry.id === 'string' ? request.entry.id : request.path;
    const version = typeof request.entry.version === 'string' ? `@${request.entry.version}` : '';
    await extractArchiveAnswer({ label: `The archive of ${id}${version}`, ...answer }, request.destination, { registry: this.reg.name, signal: ctx.signal });
  }
}

/** A {@link SourceReader} for one source, named `registry` in messages. */
export function readSource(source: RegistrySource, registry: string): SourceReader {
  return new SourceReader({ name: registry, source });
}
