/**
 * Entries on disk. A materialized entry is written by its source into a temporary folder, checked (paths,
 * symlinks, special files), hashed, and renamed into the content store under its hash: immutable, shared by every
 * revision whose files are the same, and never seen half-written by another process. Local sources are served in
 * place, still checked and hashed. A stored tree whose files no longer match their fingerprint is discarded and
 * fetched again.
 */
import { realpath } from 'node:fs/promises';
import type { ContentMeta } from './cache-store.js';
import { scanTreeContentHash, scanTreeH1 } from './dirhash.js';
import { RegistryError } from './errors.js';
import type { IndexState } from './index-service.js';
import { type PackageJson, readEntryManifest } from './manifest.js';
import { normalizeRelativePath } from './paths.js';
import type { ConfiguredRegistry, Runtime } from './runtime.js';
import { abortError, toRegistryError } from './source-errors.js';
import { storeFetchedTree } from './store-pipeline.js';
import { copyDirectory } from './tree.js';
import type { ExtensionManifest, IndexEntry, RegistryWarning } from './types.js';

export interface StoredEntry {
  dir: string;
  integrity: string;
  /** The content hash of the files (`h1:…`, see dirhash.ts `contentHashOf`), computed once when they were stored. */
  h1: string;
  /** Content folder name in the store (undefined for in-place and uncached entries). */
  content: string | undefined;
  /** The stored tree's fingerprint, kept so a warm check reads nothing. */
  meta: ContentMeta | undefined;
  manifest: ExtensionManifest;
  manifestSynthesized: boolean;
  packageJson: PackageJson | undefined;
  warnings: RegistryWarning[];
}

/**
 * Called with the content hash of a tree fetched from its source, after it is checked and before it is stored: may
 * throw to refuse it (a lockfile's `E_LOCK_MISMATCH`), so a refused tree never enters the cache.
 */
export type ContentExpectation = (h1: string) => void;

export class EntryService {
  private readonly memory = new Map<string, StoredEntry>();

  constructor(private readonly rt: Runtime) {}

  /** The entry's folder for this revision, from memory, the disk cache, or its source (once for many callers). */
  async get(
    reg: ConfiguredRegistry,
    entry: IndexEntry,
    state: IndexState,
    signal: AbortSignal | undefined,
    expect?: ContentExpectation,
  ): Promise<{ stored: StoredEntry; fromCache: boolean }> {
    if (signal?.aborted) throw abortError(signal, `Fetching ${entry.id}`, reg.name);
    normalizeRelativePath(entry.path, { registry: reg.name, field: `path of ${entry.id}` });
    // Under a signed index the expected h1 is part of the key: a tree checked against one signature is not reused
    // for an index that signs other files at the same revision.
    const memoryKey = `${reg.name}\0${state.revision.id}\0${entry.path}\0${expectedH1(reg, entry, state) ?? ''}`;
    const known = this.memory.get(memoryKey);
    if (known && known.content === undefined && reg.source.flags?.local && reg.source.locate && !(await this.stillInPlace(reg, entry, known.dir))) {
      this.memory.delete(memoryKey);
    } else if (known && (known.content === undefined || (await this.rt.store!.checkContent(known.content, known.meta)))) {
      this.rt.logger.debug(`cache: ${entry.id} of "${reg.name}": already used in this process`, { registry: reg.name });
      return { stored: known, fromCache: true };
    } else if (known) {
      this.memory.delete(memoryKey);
    }
    return this.rt.once(`entry\0${memoryKey}`, async () => {
      try {
        const fromDisk = await this.fromDisk(reg, entry, state);
        this.rt.logger.debug(
          `cache: ${entry.id} of "${reg.name}" at ${state.revision.id}: ${fromDisk ? 'in the disk cache' : 'not cached: fetching it from the source'}`,
          { registry: reg.name },
        );
        const stored = fromDisk ?? (await this.fromSource(reg, entry, state, signal, expect));
        this.memory.set(memoryKey, stored);
        return { stored, fromCache: fromDisk !== undefined };
      } catch (error) {
        throw toRegistryError(error, reg.name, `fetching ${entry.id}`);
      }
    });
  }

  /**
   * An entry served in place is remembered by the real path it was checked at. Its owner can turn that folder (or one
   * above it) into a link while the host runs; every later read would then be inside the link's target, not the
   * registry. So a remembered folder must still be exactly where it was: false when it is gone (the source is asked
   * again), `E_UNSAFE_PATH` when it now leads elsewhere.
   */
  private async stillInPlace(reg: ConfiguredRegistry, entry: IndexEntry, dir: string): Promise<boolean> {
    const now = await realpath(dir).catch(() => undefined);
    if (now === dir) return true;
    if (now === undefined) return false;
    throw new RegistryError(
      'E_UNSAFE_PATH',
      `The folder of ${entry.id} in registry "${reg.name}" (${entry.path}) now leads elsewhere through a link, since it was checked; nothing more is read from it. Ask the registry owner why the folder changed into a link.`,
      { registry: reg.name, details: { path: entry.path } },
    );
  }

  private async fromDisk(reg: ConfiguredRegistry, entry: IndexEntry, state: IndexState): Promise<StoredEntry | undefined> {
    if (!this.rt.store || (reg.source.flags?.local && reg.source.locate && !reg.settings.trust)) return undefined;
    const hit = await this.rt.store.readEntry(reg.key, state.revision.id, entry.path);
    if (!hit) return undefined;
    // Stored trees of a signed registry carry the h1 they were checked against; any other is fetched and checked again.
    const h1 = expectedH1(reg, entry, state);
    if (h1 !== undefined && hit.extra?.h1 !== h1) return undefined;
    // A tree stored before content hashes were recorded is hashed once here (reading files, no network).
    const content = hit.extra?.h1 ?? (await scanTreeContentHash(hit.dir, { registry: reg.name })).h1;
    return this.describe(reg, entry, hit.dir, hit.integrity, content, hit.content, hit.meta);
  }

  private async fromSource(
    reg: ConfiguredRegistry,
    entry: IndexEntry,
    state: IndexState,
    signal: AbortSignal | undefined,
    expect: ContentExpectation | undefined,
  ): Promise<StoredEntry> {
    const ctx = await this.rt.callContext(reg, signal);
    const local = reg.source.flags?.local && reg.source.locate ? reg.source.locate.bind(reg.source) : undefined;
    if (local && !reg.settings.trust) {
      // Local folders are served where they are; core still checks them and records their integrity.
      // Remembered by its real path, so that a later use can tell whether it has been turned into a link since.
      const dir = await realpath(await local(entry.path, state.revision, ctx));
      const { integrity, h1 } = await this.check(reg, entry, state, dir, signal, expect);
      return this.describe(reg, entry, dir, integrity, h1, undefined);
    }
    // A signed local entry is copied, then checked: what was checked against the signature is what is used, whatever
    // happens to the folder afterwards (in place, an edit after the check would be imported unchecked).
    const copyLocal = local
      ? async (destination: string) => copyDirectory(await realpath(await local(entry.path, state.revision, ctx)), destination, { signal, registry: reg.name })
      : undefined;
    if (this.rt.options.offline && !copyLocal) {
      throw new RegistryError('E_NOT_CACHED', `${entry.id} of registry "${reg.name}" is not cached, and offline mode forbids asking its source.`, {
        registry: reg.name,
      });
    }
    let checkedH1 = '';
    return storeFetchedTree(this.rt, {
      label: 'materialize',
      fill: async (temp) => {
        if (copyLocal) await copyLocal(temp);
        else await this.rt.reader(reg).materialize({ path: entry.path, entry: entry.raw, revision: state.revision, destination: temp }, ctx);
        if (signal?.aborted) throw abortError(signal, `Fetching ${entry.id}`, reg.name);
      },
      check: async (temp) => {
        const { integrity, h1 } = await this.check(reg, entry, state, temp, signal, expect);
        checkedH1 = h1;
        return { integrity, extra: { h1 } };
      },
      ref: { key: reg.key, registry: reg.name, revision: state.revision.id, path: entry.path },
      describe: async (dir, integrity, saved) => {
        const h1 = saved?.extra?.h1 ?? checkedH1;
        return saved
          ? this.describe(reg, entry, dir, integrity, h1, saved.content, saved.meta)
          : this.describe(reg, entry, await realpath(dir), integrity, h1, undefined);
      },
    });
  }

  /**
   * Checks a tree (paths, links, special files) and computes its integrity and content hash; under a signed index the
   * h1 must equal the signed one before the tree is stored or used (`E_SIGNATURE` otherwise). `expect` (a lockfile's
   * check) sees the content hash before the tree is stored, and may refuse it.
   */
  private async check(
    reg: ConfiguredRegistry,
    entry: IndexEntry,
    state: IndexState,
    dir: string,
    signal: AbortSignal | undefined,
    expect: ContentExpectation | undefined,
  ): Promise<{ integrity: string; h1: string }> {
    const expected = expectedH1(reg, entry, state);
    if (expected === undefined) {
      const scan = await scanTreeContentHash(dir, { signal, registry: reg.name });
      expect?.(scan.h1);
      return { integrity: scan.integrity, h1: scan.h1 };
    }
    const scan = await scanTreeH1(dir, { signal, registry: reg.name });
    if (scan.h1 !== expected) {
      throw new RegistryError(
        'E_SIGNATURE',
        `The files of ${entry.id} in registry "${reg.name}" (${entry.path}) do not match the h1 hash its signed index gives (got ${scan.h1}, signed ${expected}): the entry was changed after signing, or swapped under the index. Nothing of it is stored or loaded; the registry owner must re-sign or restore the entry.`,
        { registry: reg.name, details: { path: entry.path, h1: scan.h1, expected } },
      );
    }
    expect?.(scan.h1);
    return { integrity: scan.integrity, h1: scan.h1 };
  }

  private async describe(
    reg: ConfiguredRegistry,
    entry: IndexEntry,
    dir: string,
    integrity: string,
    h1: string,
    content: string | undefined,
    meta?: ContentMeta,
  ): Promise<StoredEntry> {
    // Reported by the call that uses the entry (registry.ts), once per call, not here: a remembered entry is used again.
    const { manifest, synthesized, packageJson, warnings } = await readEntryManifest(dir, entry, reg.name);
    return { dir, integrity, h1, content, meta, manifest, manifestSynthesized: synthesized, packageJson, warnings };
  }
}

/** The h1 the signed index gives for an entry's folder, for registries with `publicKeys`. */
function expectedH1(reg: ConfiguredRegistry, entry: IndexEntry, state: IndexState): string | undefined {
  if (!reg.settings.trust) return undefined;
  const h1 = state.signed?.entries.get(entry.path);
  if (h1 === undefined) {
    // verifyIndex refuses an index that leaves an entry uncovered, so this is a state that was never checked.
    throw new RegistryError('E_SIGNATURE', `${entry.id} of registry "${reg.name}" is not covered by a checked signature; it is not fetched.`, {
      registry: reg.name,
      details: { path: entry.path },
    });
  }
  return h1;
}
