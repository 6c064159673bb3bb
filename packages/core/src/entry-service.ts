/**
 * Entries on disk. A materialized entry is written by its source into a temporary folder, checked (paths,
 * symlinks, special files), hashed, and renamed into the content store under its hash: immutable, shared by every
 * revision whose files are the same, and never seen half-written by another process. Local sources are served in
 * place, still checked and hashed. A stored tree whose files no longer match their fingerprint is discarded and
 * fetched again.
 */
import { mkdir, realpath, rm } from 'node:fs/promises';
import type { ContentMeta } from './cache-store.js';
import { RegistryError } from './errors.js';
import type { IndexState } from './index-service.js';
import { type PackageJson, readEntryManifest } from './manifest.js';
import { normalizeRelativePath } from './paths.js';
import type { ConfiguredRegistry, Runtime } from './runtime.js';
import { abortError, toRegistryError } from './source-errors.js';
import { scanTree } from './tree.js';
import type { ExtensionManifest, IndexEntry, RegistryWarning } from './types.js';

export interface StoredEntry {
  dir: string;
  integrity: string;
  /** Content folder name in the store (undefined for in-place and uncached entries). */
  content: string | undefined;
  /** The stored tree's fingerprint, kept so a warm check reads nothing. */
  meta: ContentMeta | undefined;
  manifest: ExtensionManifest;
  manifestSynthesized: boolean;
  packageJson: PackageJson | undefined;
  warnings: RegistryWarning[];
}

export class EntryService {
  private readonly memory = new Map<string, StoredEntry>();

  constructor(private readonly rt: Runtime) {}

  /** The entry's folder for this revision, from memory, the disk cache, or its source (once for many callers). */
  async get(reg: ConfiguredRegistry, entry: IndexEntry, state: IndexState, signal: AbortSignal | undefined): Promise<{ stored: StoredEntry; fromCache: boolean }> {
    if (signal?.aborted) throw abortError(signal, `Fetching ${entry.id}`, reg.name);
    normalizeRelativePath(entry.path, { registry: reg.name, field: `path of ${entry.id}` });
    const memoryKey = `${reg.name}\0${state.revision.id}\0${entry.path}`;
    const known = this.memory.get(memoryKey);
    if (known && known.content === undefined && reg.source.flags?.local && reg.source.locate && !(await this.stillInPlace(reg, entry, known.dir))) {
      this.memory.delete(memoryKey);
    } else if (known && (known.content === undefined || (await this.rt.store!.checkContent(known.content, known.meta)))) {
      return { stored: known, fromCache: true };
    } else if (known) {
      this.memory.delete(memoryKey);
    }
    return this.rt.once(`entry\0${memoryKey}`, async () => {
      try {
        const fromDisk = await this.fromDisk(reg, entry, state);
        const stored = fromDisk ?? (await this.fromSource(reg, entry, state, signal));
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
    if (!this.rt.store || (reg.source.flags?.local && reg.source.locate)) return undefined;
    const hit = await this.rt.store.readEntry(reg.key, state.revision.id, entry.path);
    if (!hit) return undefined;
    return this.describe(reg, entry, hit.dir, hit.integrity, hit.content, hit.meta);
  }

  private async fromSource(reg: ConfiguredRegistry, entry: IndexEntry, state: IndexState, signal: AbortSignal | undefined): Promise<StoredEntry> {
    const ctx = await this.rt.callContext(reg, signal);
    if (reg.source.flags?.local && reg.source.locate) {
      // Local folders are served where they are; core still checks them and records their integrity.
      // Remembered by its real path, so that a later use can tell whether it has been turned into a link since.
      const dir = await realpath(await reg.source.locate(entry.path, state.revision, ctx));
      const { integrity } = await scanTree(dir, { signal, registry: reg.name });
      return this.describe(reg, entry, dir, integrity, undefined);
    }
    if (this.rt.options.offline) {
      throw new RegistryError('E_NOT_CACHED', `${entry.id} of registry "${reg.name}" is not cached, and offline mode forbids asking its source.`, {
        registry: reg.name,
      });
    }
    const store = this.rt.store;
    const temp = await this.rt.tempPath('materialize');
    await mkdir(temp, { recursive: true });
    try {
      await reg.source.materialize({ path: entry.path, revision: state.revision, destination: temp }, ctx);
      if (signal?.aborted) throw abortError(signal, `Fetching ${entry.id}`, reg.name);
      const { integrity } = await scanTree(temp, { signal, registry: reg.name });
      if (store) {
        const saved = await store.storeEntry(temp, integrity, { key: reg.key, registry: reg.name, revision: state.revision.id, path: entry.path }, this.rt.now());
        return this.describe(reg, entry, saved.dir, integrity, saved.content, saved.meta);
      }
      return this.describe(reg, entry, temp, integrity, undefined);
    } catch (error) {
      // Nothing half-made survives: what was cached before stays as it was.
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  private async describe(
    reg: ConfiguredRegistry,
    entry: IndexEntry,
    dir: string,
    integrity: string,
    content: string | undefined,
    meta?: ContentMeta,
  ): Promise<StoredEntry> {
    // Reported by the call that uses the entry (registry.ts), once per call, not here: a remembered entry is used again.
    const { manifest, synthesized, packageJson, warnings } = await readEntryManifest(dir, entry, reg.name);
    return { dir, integrity, content, meta, manifest, manifestSynthesized: synthesized, packageJson, warnings };
  }
}
