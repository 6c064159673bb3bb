import { abortError, type Logger, missingEntryFolderError, missingIndexError, RegistryError, TreeWriter, untilAborted } from '@agentos-registry/core';
import type { GitHubApi, TreeEntry } from './github-api.js';

/** How many blobs are downloaded at once; GitHub asks clients not to hammer it with parallel requests. */
const PARALLEL_BLOBS = 4;
/** Tree listings kept in memory; a long-running host that sees many revisions starts over past this. */
const MAX_LISTINGS = 1000;

/**
 * The per-entry mode: the index through the contents API, each entry through the trees and blobs APIs. One request per
 * file (against the rate limit): it pays off only for repositories whose tarball is far larger than the entries used.
 */
export class PerEntryReader {
  /** Tree listings by sha (content-addressed, so they never change): shared by every entry under one folder. */
  private readonly trees = new Map<string, Promise<{ sha: string; entries: TreeEntry[] }>>();

  constructor(
    private readonly api: GitHubApi,
    private readonly registry: string,
    /** The registry's folder in the repository ('' for the root): index and entry paths are relative to it. */
    private readonly subdir: string,
    private readonly displayLocation: string,
  ) {}

  /**
   * A listing shared by concurrent callers. It runs without any one caller's signal (a single small request), so one
   * caller giving up cannot fail the others; each caller still stops waiting when its own signal fires.
   */
  private listing(sha: string, signal: AbortSignal): Promise<{ sha: string; entries: TreeEntry[] }> {
    let listing = this.trees.get(sha);
    if (!listing) {
      if (this.trees.size >= MAX_LISTINGS) this.trees.clear();
      listing = this.api.tree(sha, false, new AbortController().signal);
      this.trees.set(sha, listing);
      listing.catch(() => this.trees.delete(sha));
    }
    return untilAborted(listing, signal, () => abortError(signal, `listing ${sha.slice(0, 12)}`, this.registry));
  }

  /** `registry.json` at `commit`; `E_NOT_FOUND` when there is none. */
  async readIndex(commit: string, signal: AbortSignal): Promise<Uint8Array> {
    const bytes = await this.api.fileAt(this.subdir ? `${this.subdir}/registry.json` : 'registry.json', commit, signal);
    if (bytes) return bytes;
    throw missingIndexError({ registry: this.registry, where: this.displayLocation, revision: commit });
  }

  /** The tree sha of a folder at `commit`, listing each folder on the way once; undefined when it is missing. */
  private async folderSha(commit: string, folder: string, signal: AbortSignal): Promise<string | undefined> {
    const segments = folder.split('/').filter(Boolean);
    // A commit sha lists the root tree: the walk starts there without asking for the root a second time by its sha.
    let { sha, entries } = await this.listing(commit, signal);
    for (const [i, segment] of segments.entries()) {
      const next = entries.find((entry) => entry.path === segment && entry.type === 'tree');
      if (!next) return undefined;
      sha = next.sha;
      // The entry folder itself is listed recursively by the caller, not here.
      if (i < segments.length - 1) ({ entries } = await this.listing(sha, signal));
    }
    return sha;
  }

  /** Writes the entry folder `path` at `commit` into `destination`: modes, symlinks and bytes as git holds them. */
  async materialize(commit: string, path: string, destination: string, signal: AbortSignal, logger: Logger): Promise<void> {
    const folder = this.subdir ? `${this.subdir}/${path}` : path;
    const sha = await this.folderSha(commit, folder, signal);
    if (!sha) throw missingEntryFolderError({ registry: this.registry, where: this.displayLocation, revision: commit, path });
    const tree = await this.api.tree(sha, true, signal);
    if (tree.truncated) {
      throw new RegistryError(
        'E_UNSUPPORTED',
        `Entry folder '${folder}' of registry '${this.registry}' has more files than GitHub lists in one tree; use mode 'tarball' for this registry.`,
        { registry: this.registry, details: { path: folder } },
      );
    }
    // Every path goes through core's tree writer: it refuses traversal, duplicates and paths below a link of the
    // same tree as they are handed over, writes files without following links, and creates the links last, once they
    // are known to stay inside. Downloads run in parallel; the writer's checks do not depend on their order.
    const writer = new TreeWriter(destination, { registry: this.registry });
    await writer.folder('');
    const blobs: TreeEntry[] = [];
    for (const entry of tree.entries) {
      if (entry.type === 'tree') await writer.folder(entry.path);
      else if (entry.type === 'commit') logger.warn(`Registry '${this.registry}': '${folder}/${entry.path}' is a git submodule; it is left out of the entry.`);
      else if (entry.type === 'blob') blobs.push(entry);
    }
    // A few at a time; every download of a batch settles before the next starts or a failure is thrown, so nothing is
    // still writing when the caller removes the folder after a failure.
    for (let i = 0; i < blobs.length; i += PARALLEL_BLOBS) {
      const settled = await Promise.allSettled(
        blobs.slice(i, i + PARALLEL_BLOBS).map(async (entry) => {
          const bytes = await this.api.blob(entry.sha, signal);
          if (entry.mode === '120000') writer.symlink(entry.path, Buffer.from(bytes).toString('utf8'));
          else await writer.file(entry.path, bytes, { executable: entry.mode === '100755' });
        }),
      );
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
    await writer.finish();
  }
}
