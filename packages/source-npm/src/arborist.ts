/**
 * The slice of `@npmcli/arborist` this package uses, typed here because arborist ships no types. Loaded on first use:
 * it is npm's whole install engine, which a registry that never installs dependencies should not pay for.
 */
import { createRequire } from 'node:module';

/** One package in a tree arborist loaded or built. */
export interface ArboristNode {
  name: string;
  packageName: string;
  version: string;
  /** Absolute folder. */
  path: string;
  /** Folder relative to the tree's root, e.g. `node_modules/tiny-lib`. */
  location: string;
  integrity?: string | null;
  /** Where it was fetched from (a tarball URL for registry packages). */
  resolved?: string | null;
  isRoot: boolean;
  isLink: boolean;
  package: { scripts?: Record<string, string> };
}

export interface ArboristTree extends ArboristNode {
  inventory: Map<string, ArboristNode>;
}

export interface ArboristInstance {
  reify(options?: Record<string, unknown>): Promise<ArboristTree>;
  loadActual(options?: Record<string, unknown>): Promise<ArboristTree>;
  rebuild(options: { nodes: ArboristNode[] }): Promise<void>;
}

export type ArboristConstructor = new (options: Record<string, unknown>) => ArboristInstance;

let loaded: ArboristConstructor | undefined;

export function arborist(): ArboristConstructor {
  loaded ??= createRequire(import.meta.url)('@npmcli/arborist') as ArboristConstructor;
  return loaded;
}
