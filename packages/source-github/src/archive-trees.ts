import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { abortError } from './github-api.js';

/**
 * Extracted revisions of a repository, one folder per commit under `<workDir>/trees/<sha>`, each made from ONE
 * tarball and shared by the index and every entry of that revision. A folder appears by an atomic rename once it is
 * complete, so another process sharing the cache directory either sees all of it or nothing; and concurrent callers
 * in this process wait for the same download. The download is cancelled only when every caller waiting for it has
 * given up, so one aborted fetch does not fail its neighbours.
 */

/** Fills `destination` with the repository's files at `sha` (download and safe extraction). */
export type TreeFiller = (sha: string, destination: string, signal: AbortSignal) => Promise<void>;

/** Extracted revisions kept besides the one in use: enough for a rollback or a slow reader of the previous one. */
const KEEP = 3;

interface Pending {
  folder: string;
  promise: Promise<string>;
  controller: AbortController;
  waiters: number;
}

export class ArchiveTrees {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly registry: string,
    private readonly fill: TreeFiller,
  ) {}

  /** The folder holding the repository (or its registry sub-folder) at `sha`, downloading it when needed. */
  async get(root: string, sha: string, signal: AbortSignal): Promise<string> {
    if (signal.aborted) throw abortError(this.registry, `reading revision ${sha.slice(0, 12)}`, signal.reason);
    const folder = join(root, 'trees', sha);
    if (await isDirectory(folder)) {
      // Most recently used first when pruning; a failure to touch only makes it look older.
      const now = new Date();
      await utimes(folder, now, now).catch(() => {});
      return folder;
    }
    // The signal may have fired during the stat above; its listener would never run after that.
    if (signal.aborted) throw abortError(this.registry, `reading revision ${sha.slice(0, 12)}`, signal.reason);
    let pending = this.pending.get(folder);
    if (!pending) {
      const controller = new AbortController();
      const created: Pending = { folder, controller, waiters: 0, promise: this.download(root, sha, folder, controller.signal) };
      pending = created;
      this.pending.set(folder, created);
      const forget = () => {
        if (this.pending.get(folder) === created) this.pending.delete(folder);
      };
      created.promise.then(forget, forget);
    }
    return this.wait(pending, signal, sha);
  }

  /** Waits for a shared download with this caller's signal; the last caller to give up cancels it. */
  private wait(pending: Pending, signal: AbortSignal, sha: string): Promise<string> {
    pending.waiters += 1;
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        pending.waiters -= 1;
        if (pending.waiters === 0) {
          // Nobody waits any more: stop the download, and let the next caller start a fresh one.
          if (this.pending.get(pending.folder) === pending) this.pending.delete(pending.folder);
          pending.controller.abort(signal.reason);
        }
        reject(abortError(this.registry, `reading revision ${sha.slice(0, 12)}`, signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      pending.promise.then(
        (folder) => {
          signal.removeEventListener('abort', onAbort);
          pending.waiters -= 1;
          resolve(folder);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          pending.waiters -= 1;
          reject(error);
        },
      );
    });
  }

  private async download(root: string, sha: string, folder: string, signal: AbortSignal): Promise<string> {
    const trees = join(root, 'trees');
    await mkdir(trees, { recursive: true });
    const temp = join(trees, `.partial-${sha.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(temp);
      await this.fill(sha, temp, signal);
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
      if (signal.aborted && !isRegistryError(error)) throw abortError(this.registry, `reading revision ${sha.slice(0, 12)}`, signal.reason);
      throw error;
    }
    await this.prune(trees, folder);
    return folder;
  }

  /** Removes all but the most recently used extracted revisions, and leftovers of crashed downloads. */
  private async prune(trees: string, keep: string): Promise<void> {
    try {
      const names = await readdir(trees);
      const aged: Array<{ path: string; mtime: number }> = [];
      for (const name of names) {
        const path = join(trees, name);
        const info = await stat(path).catch(() => undefined);
        if (!info) continue;
        // A partial folder older than an hour belongs to a process that died mid-download.
        if (name.startsWith('.partial-')) {
          if (Date.now() - info.mtimeMs > 3_600_000) await rm(path, { recursive: true, force: true });
          continue;
        }
        if (path !== keep) aged.push({ path, mtime: info.mtimeMs });
      }
      aged.sort((a, b) => b.mtime - a.mtime);
      for (const old of aged.slice(KEEP - 1)) await rm(old.path, { recursive: true, force: true });
    } catch {
      // Pruning is housekeeping: a failure must not fail the fetch that triggered it.
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
