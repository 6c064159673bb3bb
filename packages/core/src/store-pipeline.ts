/**
 * The one way a tree fetched from outside enters the content store, for registry entries (entry-service.ts) and for
 * package code (package-service.ts): a fresh temporary folder is filled, checked and hashed, moved into the content
 * store under its hash (when the cache is on), then described. On any failure the temporary folder is removed:
 * nothing half-made survives, and what was cached before stays as it was.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { StoredContent } from './cache-store.js';
import type { Runtime } from './runtime.js';

export interface StoreSteps<Filled, Described> {
  /** Names the temporary folder (`materialize`, `package`). */
  label: string;
  /** Writes the tree into `temp`, an empty folder. */
  fill(temp: string): Promise<Filled>;
  /** Checks the tree (paths, links, special files) and hashes it; `extra` is kept with the store's ref. */
  check(temp: string, filled: Filled): Promise<{ integrity: string; extra?: Record<string, string> }>;
  /** Where the tree is recorded in the store. */
  ref: { key: string; registry: string; revision: string; path: string };
  /** The result for the caller: `dir` is the stored folder, or `temp` itself with the cache off (`saved` undefined). */
  describe(dir: string, integrity: string, saved: StoredContent | undefined, filled: Filled): Promise<Described>;
}

export async function storeFetchedTree<Filled, Described>(rt: Runtime, steps: StoreSteps<Filled, Described>): Promise<Described> {
  const store = rt.store;
  const temp = await rt.tempPath(steps.label);
  await mkdir(temp, { recursive: true });
  try {
    const filled = await steps.fill(temp);
    const { integrity, extra } = await steps.check(temp, filled);
    if (store) {
      const saved = await store.storeEntry(temp, integrity, { ...steps.ref, ...(extra ? { extra } : {}) }, rt.now());
      return steps.describe(saved.dir, integrity, saved, filled);
    }
    // Not awaited, as before the two services shared this: a tree that was filled and checked is not removed
    // because describing it (reading its manifest) failed.
    return steps.describe(temp, integrity, undefined, filled);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}
