/**
 * Entry code that lives in a package registry. In the real AgentOS registry every entry names its npm `package` and
 * the registry folder holds no built code; whichever source served the index, the code then comes from the package
 * at the entry's version, through an adapter that can fetch packages (the npm source). The package's files are
 * checked, hashed and stored like any entry; the integrity reported is the package manager's own.
 */
import type { SourceAdapter } from './contract.js';
import { RegistryError } from './errors.js';
import { type PackageJson, readEntryManifest } from './manifest.js';
import { packageCodeError } from './package-errors.js';
import { type ConfiguredRegistry, PACKAGES_KEY, type Runtime } from './runtime.js';
import { abortError, toRegistryError } from './source-errors.js';
import { storeFetchedTree } from './store-pipeline.js';
import { scanTreeContentHash } from './dirhash.js';
import type { ExtensionManifest, IndexEntry, RegistryWarning } from './types.js';

export interface StoredPackage {
  dir: string;
  /** Integrity of the files as core hashes them (content address). */
  treeIntegrity: string;
  /** The package manager's integrity of the tarball. */
  integrity: string;
  /** The content hash of the files (`h1:…`), computed once when they were stored. */
  h1: string;
  version: string;
  resolved: string;
  manifest: ExtensionManifest;
  manifestSynthesized: boolean;
  packageJson: PackageJson | undefined;
  warnings: RegistryWarning[];
  fromCache: boolean;
}

export class PackageService {
  private readonly memory = new Map<string, StoredPackage>();

  constructor(
    private readonly rt: Runtime,
    private readonly adapter: () => Promise<SourceAdapter>,
    private readonly settings: { registry?: string; token?: string; [option: string]: unknown },
  ) {}

  /**
   * The files of `entry.package` at `entry.version`, from memory, the disk cache, or the package registry. `reg` is
   * the registry that listed the entry: errors name it, and say what its owner (or the user) can do.
   */
  async get(
    entry: IndexEntry,
    reg: ConfiguredRegistry,
    signal: AbortSignal | undefined,
    expect?: (h1: string, integrity: string) => void,
  ): Promise<StoredPackage> {
    const registry = reg.name;
    if (!entry.package) {
      throw new RegistryError('E_NOT_FOUND', `${entry.id} names no npm package, so its code can only come from its registry folder.`, { registry });
    }
    if (signal?.aborted) throw abortError(signal, `Fetching ${entry.package}`, registry);
    const spec = `${entry.package}@${entry.version}`;
    const known = this.memory.get(spec);
    if (known) return { ...known, fromCache: true };
    return this.rt.once(`package\0${spec}`, async () => {
      try {
        const stored = (await this.fromDisk(entry, registry)) ?? (await this.fromRegistry(entry, registry, signal, expect));
        this.memory.set(spec, stored);
        return stored;
      } catch (error) {
        throw toRegistryError(packageCodeError(error, entry, reg), registry, `fetching the code of ${entry.id} (${spec})`);
      }
    });
  }

  private async fromDisk(entry: IndexEntry, registry: string): Promise<StoredPackage | undefined> {
    const hit = await this.rt.store?.readEntry(PACKAGES_KEY, entry.version, entry.package!);
    if (!hit?.extra?.integrity) return undefined;
    return this.describe(
      entry,
      registry,
      hit.dir,
      hit.integrity,
      {
        integrity: hit.extra.integrity,
        version: hit.extra.version ?? entry.version,
        resolved: hit.extra.resolved ?? '',
        // A package stored before content hashes were recorded is hashed once here (reading files, no network).
        h1: hit.extra.h1 ?? (await scanTreeContentHash(hit.dir, { registry })).h1,
      },
      true,
    );
  }

  private async fromRegistry(
    entry: IndexEntry,
    registry: string,
    signal: AbortSignal | undefined,
    expect: ((h1: string, integrity: string) => void) | undefined,
  ): Promise<StoredPackage> {
    if (this.rt.options.offline) {
      throw new RegistryError(
        'E_NOT_CACHED',
        `The code of ${entry.id} (${entry.package}@${entry.version}) is not cached, and offline mode forbids fetching it.`,
        { registry },
      );
    }
    const adapter = await this.adapter();
    let checkedH1 = '';
    return storeFetchedTree(this.rt, {
      label: 'package',
      fill: async (temp) =>
        adapter.fetchPackage!(
          { name: entry.package!, version: entry.version, destination: temp, options: this.settings, registry },
          await this.rt.packageContext(signal),
        ),
      check: async (temp, result) => {
        const { integrity: treeIntegrity, h1 } = await scanTreeContentHash(temp, { signal, registry });
        checkedH1 = h1;
        expect?.(h1, result.integrity);
        return { integrity: treeIntegrity, extra: { integrity: result.integrity, version: result.version, resolved: result.resolved, h1 } };
      },
      ref: { key: PACKAGES_KEY, registry: '_packages', revision: entry.version, path: entry.package! },
      describe: async (dir, treeIntegrity, _saved, result) => this.describe(entry, registry, dir, treeIntegrity, { ...result, h1: checkedH1 }, false),
    });
  }

  private async describe(
    entry: IndexEntry,
    registry: string,
    dir: string,
    treeIntegrity: string,
    result: { integrity: string; version: string; resolved: string; h1: string },
    fromCache: boolean,
  ): Promise<StoredPackage> {
    const { manifest, synthesized, packageJson, warnings } = await readEntryManifest(dir, entry, registry, `package ${entry.package}@${result.version}`);
    return {
      dir,
      treeIntegrity,
      integrity: result.integrity,
      h1: result.h1,
      version: result.version,
      resolved: result.resolved,
      manifest,
      manifestSynthesized: synthesized,
      packageJson,
      warnings,
      fromCache,
    };
  }
}
