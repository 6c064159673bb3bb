/**
 * `createRegistry`: the object a host uses. A thin facade over the parts that do the work: the composition root
 * (compose.ts: config, adapters, sources, runtime), entry selection (select.ts: which registry and entry answer a
 * reference), the entry and package services (content on disk) and the loader. Every policy lives in core, never in a
 * source. Only `load` runs or even judges an entry's code; `fetch`, `info`, `resolve`, `list` and `search` never do.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compose, type PackageCapability, type PackageSettings } from './compose.js';
import type { SourceAdapter } from './contract.js';
import { EntryService } from './entry-service.js';
import { isRegistryError, RegistryError } from './errors.js';
import { didYouMean } from './config.js';
import { IndexService } from './index-service.js';
import { DependencyInstaller } from './install.js';
import type { InstallRecord } from './install-record.js';
import { findLocked, type LockDrift, type LockedEntry, type LockedPackage, lockDrift, lockLocation } from './lockfile.js';
import { entryModuleOf, loadExtensionPack } from './loader.js';
import type { PackageJson } from './manifest.js';
import { PackageService } from './package-service.js';
import { loadPersona } from './persona.js';
import { checkPackageHost, checkPackageType, checkVerified, runBeforeActivate } from './policy.js';
import type { Runtime } from './runtime.js';
import { environmentSecrets } from './secrets.js';
import { EntrySelector, provenanceOf, type Resolution } from './select.js';
import { toRegistryError } from './source-errors.js';
import { signatureStatusOf } from './signing.js';
import type {
  CallOptions,
  CreateRegistryOptions,
  EntryInfo,
  FetchedEntry,
  IndexEntry,
  ListedEntry,
  ListFilter,
  LoadedExtension,
  LoadedPersona,
  LoadResult,
  Registry,
  RegistryConfig,
  RegistryUpdate,
  RegistryWarning,
  ResolvedEntry,
} from './types.js';

class RegistryImpl implements Registry {
  readonly registryNames: readonly string[];
  private readonly select: EntrySelector;
  private readonly indexes: IndexService;
  private readonly entries: EntryService;
  private readonly packages: PackageService;
  private readonly installer: DependencyInstaller;
  private closed = false;
  /** With a lockfile and `frozen`: drift is `E_LOCK_MISMATCH` instead of a warning, and unlocked references fail. */
  private readonly frozen: boolean;

  constructor(
    private readonly rt: Runtime,
    packageAdapter: (capability: PackageCapability) => Promise<SourceAdapter>,
    private readonly packageSettings: PackageSettings,
  ) {
    this.indexes = new IndexService(rt);
    this.select = new EntrySelector(rt, this.indexes);
    this.registryNames = this.select.registryNames;
    this.entries = new EntryService(rt);
    this.packages = new PackageService(rt, () => packageAdapter('fetchPackage'), packageSettings);
    this.installer = new DependencyInstaller(rt, (capability) => packageAdapter(capability), packageSettings);
    this.frozen = rt.options.frozen === true;
    if (this.frozen && !rt.options.lockfile) {
      throw new RegistryError('E_CONFIG', 'frozen is set but no lockfile is given; pass { lockfile: await readLockfile(file), frozen: true }.', {
        details: { field: 'frozen' },
      });
    }
  }

  // ── choosing (select.ts) ──────────────────────────────────────────────────────────────────────────────────────

  registryFor(kind: string): string {
    return this.select.registryFor(kind);
  }

  list(filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    return this.select.list(filter, options);
  }

  search(text: string, filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    return this.select.search(text, filter, options);
  }

  async update(names: readonly string[] = this.registryNames, options: Pick<CallOptions, 'signal'> = {}): Promise<RegistryUpdate[]> {
    const results: RegistryUpdate[] = [];
    for (const name of names) {
      const reg = this.rt.registries.get(name);
      try {
        if (!reg) {
          throw new RegistryError(
            'E_CONFIG',
            `Registry "${name}" is not configured (configured: ${this.registryNames.join(', ')}).${didYouMean(name, this.registryNames)}`,
            {
              registry: name,
            },
          );
        }
        const { previous, served } = await this.indexes.update(reg, options.signal);
        const revision = served.state.revision.id;
        results.push({ registry: name, status: previous === revision ? 'unchanged' : 'updated', revision, ...(previous !== undefined ? { previous } : {}) });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        results.push({ registry: name, status: 'failed', error: isRegistryError(error) ? error : toRegistryError(error, name, 'updating the index') });
      }
    }
    return results;
  }

  async resolve(kind: string, ref: string, options: CallOptions = {}): Promise<ResolvedEntry> {
    const { reg, entry, served } = await this.select.choose(kind, ref, options);
    return { registry: reg.name, entry, provenance: provenanceOf(reg, served, undefined, served.fromCache) };
  }

  // ── the lockfile (lockfile.ts, docs/lockfile.md) ──────────────────────────────────────────────────────────────

  /** The lock entry of a reference; under `frozen`, a reference the lockfile does not hold is refused. */
  private lockedFor(kind: string, ref: string): LockedEntry | undefined {
    const lock = this.rt.options.lockfile;
    if (!lock) return undefined;
    const locked = findLocked(lock, kind, ref);
    if (!locked && this.frozen) {
      throw new RegistryError(
        'E_LOCK_MISMATCH',
        `${kind} "${ref}" is not in the lockfile, and frozen mode loads only locked entries (expected: a locked reference; actual: none). Add it with "agentos-registry lock ${ref}${kind === 'tool' ? '' : ` --kind ${kind}`}".`,
        { details: { kind, ref, drift: [{ field: 'ref', expected: '(locked)', actual: '(not locked)' }] } },
      );
    }
    return locked;
  }

  /** Chooses the entry for a reference; a locked one from the index at the locked revision when cached, and at the locked version when the index still lists it. */
  private async choose(kind: string, ref: string, options: CallOptions): Promise<Resolution & { locked?: LockedEntry }> {
    const locked = this.lockedFor(kind, ref);
    const chosen =
      (locked?.index && !options.refresh && !this.rt.options.refresh ? await this.fromLockedIndex(kind, ref, locked, locked.index) : undefined) ??
      (await this.select.choose(kind, ref, options, locked?.revision));
    if (!locked) return chosen;
    if (chosen.entry.version !== locked.version && chosen.reg.name === locked.registry) {
      const same = chosen.served.state.index.entries.find(
        (e) => e.id === chosen.entry.id && e.section === chosen.entry.section && e.version === locked.version,
      );
      if (same) return { ...chosen, entry: same, locked };
    }
    this.checkLock(locked, { registry: chosen.reg.name, version: chosen.entry.version });
    return { ...chosen, locked };
  }

  /**
   * A locked reference answered from the store alone: the index the lockfile was written from (by its hash) and the
   * entry's files at the locked revision, both still cached, whatever revision the registry's cached index names now.
   * `undefined` (the usual path, which may ask the source) when either is missing, or for a folder read in place.
   */
  private async fromLockedIndex(kind: string, ref: string, locked: LockedEntry, index: string): Promise<Resolution | undefined> {
    const store = this.rt.store;
    const reg = this.select.registryOf(kind, ref);
    if (!store || reg.name !== locked.registry || (reg.source.flags?.local && reg.source.locate && !reg.settings.trust)) return undefined;
    const served = await this.indexes.lockedIndex(reg, locked.revision, Buffer.from(index.slice('sha512-'.length), 'base64').toString('hex'));
    if (!served) return undefined;
    const entry = served.state.index.entries.find((e) => e.id === locked.id && e.version === locked.version);
    if (!entry) return undefined;
    if (!(await store.readEntry(reg.key, locked.revision, entry.path))) return undefined;
    return { reg, entry, served };
  }

  /** Drift between a locked entry and what was found: `E_LOCK_MISMATCH` under `frozen` (nothing is used), else `W_LOCK_DRIFT`. */
  private checkLock(locked: LockedEntry, actual: Partial<LockedEntry>): void {
    const drift = lockDrift(locked, actual);
    if (drift.length === 0) return;
    const what = drift.map((d: LockDrift) => `${d.field}: expected ${d.expected}, actual ${d.actual}`).join('; ');
    const message = `${locked.kind} "${locked.ref}" (${locked.id} in registry "${locked.registry}") differs from the lockfile — ${what}.`;
    if (this.frozen) {
      throw new RegistryError(
        'E_LOCK_MISMATCH',
        `${message} Frozen mode uses nothing that differs; the cache is left as it was. If the change is wanted, run "agentos-registry lock --update ${locked.ref}".`,
        { registry: locked.registry, details: { kind: locked.kind, ref: locked.ref, id: locked.id, drift } },
      );
    }
    this.rt.warn({
      code: 'W_LOCK_DRIFT',
      message: `${message} Run "agentos-registry lock --update ${locked.ref}" to accept it.`,
      registry: locked.registry,
      entry: locked.id,
    });
  }

  /** Under `frozen`, a check that runs on freshly fetched files before they are stored, so refused files never enter the cache. */
  private expectation(locked: LockedEntry | undefined, actual: (h1: string, integrity?: string) => Partial<LockedEntry>) {
    if (!locked || !this.frozen) return undefined;
    return (h1: string, integrity?: string) => this.checkLock(locked, actual(h1, integrity));
  }

  async lock(kind: string, ref: string, options: CallOptions = {}): Promise<LockedEntry> {
    const chosen = await this.choose(kind, ref, options);
    const { reg, entry, served } = chosen;
    // A persona reference asked for as an extension kind is locked as the persona it is (as the CLI's load does).
    const lockedKind = kind !== 'persona' && entry.section === 'personas' ? 'persona' : kind;
    const folder = (await this.fetchWith(lockedKind, ref, { ...options, code: 'registry' }, 'registry', chosen)).fetched;
    let pkg: LockedEntry['package'];
    let install: InstallRecord | undefined;
    if (lockedKind !== 'persona') {
      const { fetched, packageJson } = await this.fetchWith(lockedKind, ref, options, 'auto', chosen);
      if (fetched.from === 'package' && entry.package) {
        const version = fetched.provenance.package?.slice(entry.package.length + 1) ?? entry.version;
        pkg = { name: entry.package, version, integrity: fetched.integrity, h1: fetched.h1 };
      }
      install = (await this.installer.prepare(fetched, packageJson, options.signal)).install;
    }
    const dependencies: LockedPackage[] | undefined = install?.packages.map((p) => ({
      name: p.name,
      version: p.version,
      ...(p.integrity ? { integrity: p.integrity } : {}),
    }));
    const peers = install ? await hostPeers({ ...(install.dependencyPeers ?? {}), ...install.peers }) : undefined;
    return {
      kind: lockedKind,
      ref,
      registry: reg.name,
      source: { type: reg.sourceType, location: lockLocation(reg.source.displayLocation) },
      id: entry.id,
      version: entry.version,
      revision: served.state.revision.id,
      ...(served.state.record?.revision.id === served.state.revision.id
        ? { index: `sha512-${Buffer.from(served.state.record.indexHash, 'hex').toString('base64')}` }
        : {}),
      h1: folder.h1,
      ...(pkg ? { package: pkg } : {}),
      ...(dependencies?.length ? { dependencies } : {}),
      ...(peers?.length ? { peers } : {}),
    };
  }

  // ── fetching and loading ──────────────────────────────────────────────────────────────────────────────────────

  private async fetchWith(
    kind: string,
    ref: string,
    options: CallOptions,
    defaultCode: 'registry' | 'auto',
    chosen?: Resolution & { locked?: LockedEntry },
  ): Promise<{ fetched: FetchedEntry; packageJson: PackageJson | undefined }> {
    const { reg, entry, served, locked } = chosen ?? (await this.choose(kind, ref, options));
    const code = options.code ?? defaultCode;
    if (code !== 'package') {
      const { stored, fromCache } = await this.entries.get(
        reg,
        entry,
        served.state,
        options.signal,
        this.expectation(locked, (h1) => ({ h1 })),
      );
      if (locked) this.checkLock(locked, { h1: stored.h1 });
      // fetch and info (code 'registry') never judge the entry's module: only load runs code.
      const hasCode = code === 'registry' || entry.section === 'personas' || this.hasRunnableCode(stored, entry, reg.name, kind, code);
      if (code === 'registry' || hasCode || !entry.package) {
        // Locked with its code from an npm package, and now run from the registry folder: that is drift too.
        if (locked?.package && code !== 'registry') this.checkLock(locked, { package: undefined });
        const fetched: FetchedEntry = {
          registry: reg.name,
          id: entry.id,
          version: entry.version,
          dir: stored.dir,
          revision: served.state.revision.id,
          integrity: stored.integrity,
          h1: stored.h1,
          fromCache,
          stale: served.stale,
          manifest: stored.manifest,
          manifestSynthesized: stored.manifestSynthesized,
          from: 'registry',
          entry,
          provenance: { ...provenanceOf(reg, served, stored.integrity, fromCache), h1: stored.h1 },
          warnings: stored.warnings,
        };
        this.report(fetched.warnings);
        return { fetched, packageJson: stored.packageJson };
      }
    }
    // The code is the entry's npm package at the entry's version, whichever source served the index.
    if (entry.package) {
      checkPackageType(this.rt.config.policy, reg.name, entry.package);
      checkPackageHost(
        this.rt.config.policy,
        reg.name,
        entry.package,
        typeof this.packageSettings.registry === 'string' ? this.packageSettings.registry : undefined,
      );
    }
    const asLocked = (h1: string, integrity: string, version: string): Partial<LockedEntry> => ({
      package: { name: entry.package!, version, integrity, h1 },
    });
    const pkg = await this.packages.get(
      entry,
      reg,
      options.signal,
      this.expectation(locked, (h1, integrity) => asLocked(h1, integrity ?? '', locked?.package?.version ?? entry.version)),
    );
    if (locked) this.checkLock(locked, asLocked(pkg.h1, pkg.integrity, pkg.version));
    const fetched: FetchedEntry = {
      registry: reg.name,
      id: entry.id,
      version: entry.version,
      dir: pkg.dir,
      revision: served.state.revision.id,
      integrity: pkg.integrity,
      h1: pkg.h1,
      fromCache: pkg.fromCache,
      stale: served.stale,
      manifest: pkg.manifest,
      manifestSynthesized: pkg.manifestSynthesized,
      from: 'package',
      entry,
      // A signed index covers the registry's folders (h1), not an npm tarball: such code is not verified by it.
      provenance: {
        ...provenanceOf(reg, served, pkg.integrity, pkg.fromCache),
        h1: pkg.h1,
        package: `${entry.package}@${pkg.version}`,
        ...(reg.settings.trust ? { verified: false } : {}),
      },
      // The warnings of what is used: the package's manifest, not the registry folder's looked at on the way.
      warnings: pkg.warnings,
    };
    this.report(fetched.warnings);
    return { fetched, packageJson: pkg.packageJson };
  }

  /**
   * Gives the warnings of one call to the logger and `onWarning`, each once: the services only return them (an entry
   * or package remembered from an earlier call comes back with its warnings), so every call reports what it used,
   * exactly as its result's `warnings` lists it.
   */
  private report(warnings: readonly RegistryWarning[]): void {
    for (const warning of warnings) this.rt.warn(warning);
  }

  /**
   * Whether a fetched folder holds a module to run. In `auto` mode a folder whose entry point is unusable (say a
   * TypeScript source) counts as holding none when the entry names an npm package to take the code from instead.
   */
  private hasRunnableCode(
    stored: { dir: string; manifest: FetchedEntry['manifest']; packageJson: PackageJson | undefined },
    entry: IndexEntry,
    registry: string,
    kind: string,
    code: 'registry' | 'package' | 'auto',
  ): boolean {
    try {
      return entryModuleOf(stored.dir, stored.manifest, stored.packageJson, { id: entry.id, registry }, kind) !== undefined;
    } catch (error) {
      if (code === 'auto' && entry.package && isRegistryError(error, 'E_LOAD')) return false;
      throw error;
    }
  }

  async fetch(kind: string, ref: string, options: CallOptions = {}): Promise<FetchedEntry> {
    return (await this.fetchWith(kind, ref, options, 'registry')).fetched;
  }

  async info(kind: string, ref: string, options: CallOptions = {}): Promise<EntryInfo> {
    const chosen = await this.choose(kind, ref, options);
    const { fetched } = await this.fetchWith(kind, ref, options, 'registry', chosen);
    const { registry, id, version, manifest, entry, provenance, warnings } = fetched;
    const { settings } = chosen.reg;
    const { signed, index } = chosen.served.state;
    const signature = signatureStatusOf({
      trust: settings.trust,
      verified: settings.verified,
      signed,
      index,
      path: entry.path,
      fromRegistry: fetched.from === 'registry',
      now: this.rt.now(),
    });
    return { registry, id, version, manifest, entry, provenance, warnings, signature };
  }

  async load<K extends string>(kind: K, ref: string, options: CallOptions = {}): Promise<LoadResult<K>> {
    return (await this.loadAny(kind, ref, options)) as LoadResult<K>;
  }

  private async loadAny(kind: string, ref: string, options: CallOptions): Promise<LoadedExtension | LoadedPersona> {
    const chosen = await this.choose(kind, ref, options);
    const { entry, reg } = chosen;
    if (kind !== 'persona') {
      // Checked before anything is fetched: a persona is never run as an extension, whatever the reference says.
      if (entry.section === 'personas') {
        throw new RegistryError(
          'E_NOT_FOUND',
          `"${entry.id}" in registry "${reg.name}" is a persona, not a ${kind} extension. Load it as a persona: registry.load('persona', '${ref}') (CLI: --kind persona).`,
          { registry: reg.name, details: { ref, section: entry.section } },
        );
      }
    }
    // requireVerified: judged before anything is fetched when the registry is unverified, and again on the result
    // (code from an npm package under a signed index is not verified by it).
    const policy = this.rt.config.policy;
    const kinds = [kind, ...entry.kinds.filter((k) => k !== kind)];
    checkVerified(policy, reg.name, entry.id, kinds, reg.settings.verified);
    const { fetched: got, packageJson } = await this.fetchWith(kind, ref, options, 'auto', chosen);
    let fetched = got;
    const declared = kind === 'persona' ? [] : (fetched.manifest.extensions ?? []).map((e) => e?.kind).filter((k): k is string => typeof k === 'string');
    checkVerified(
      policy,
      reg.name,
      entry.id,
      [...kinds, ...declared],
      fetched.provenance.verified,
      fetched.from === 'package' ? `its code is the npm package ${fetched.provenance.package}` : 'its registry',
    );
    await runBeforeActivate(this.rt.options.onBeforeActivate, fetched, fetched.dir, kind);
    if (kind === 'persona') {
      return { type: 'persona', persona: await loadPersona(fetched), fetched };
    }
    const defaults = this.rt.options.extensionContext ?? {};
    const prepared = await this.installer.prepare(fetched, packageJson, options.signal);
    // The dependency tree is checked before any code is imported.
    if (chosen.locked) {
      this.checkLock(chosen.locked, {
        dependencies: (prepared.install?.packages ?? []).map((p) => ({ name: p.name, version: p.version, ...(p.integrity ? { integrity: p.integrity } : {}) })),
      });
    }
    // Raised once per load (W_PEER_MISMATCH), and carried by the result like the fetch's own warnings.
    for (const warning of prepared.warnings ?? []) this.rt.warn(warning);
    if (prepared.warnings?.length) fetched = { ...fetched, warnings: [...fetched.warnings, ...prepared.warnings] };
    const { pack, module, entryFile, secrets } = await loadExtensionPack(
      fetched,
      packageJson,
      {
        options: { ...(defaults.options ?? {}), ...(options.options ?? {}) },
        // By default the environment: the variable named by the id, else the one named after it (DISCORD_BOT_TOKEN).
        getSecret: defaults.getSecret ?? environmentSecrets(process.env),
        logger: defaults.logger ?? this.rt.logger,
      },
      prepared.dir,
      kind,
    ).catch(async (error: unknown) => {
      throw await this.installer.explainLoadFailure(error, fetched, prepared, options.signal);
    });
    return {
      type: 'extension',
      pack,
      fetched,
      module,
      entryFile,
      ...(prepared.install ? { install: prepared.install } : {}),
      ...(secrets.length > 0 ? { secrets } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.rt.registries.values()].map((c) => c.source.close?.()));
    await this.rt.close();
  }
}

/**
 * Builds a registry from the page's `registryConfig`. Validates the whole config and loads every adapter up front,
 * so mistakes surface here: `E_CONFIG` (naming registry and field) or `E_SOURCE_NOT_INSTALLED` (naming the package).
 */
export async function createRegistry(config: RegistryConfig, options: CreateRegistryOptions = {}): Promise<Registry> {
  const { runtime, packageAdapter, packageSettings } = await compose(config, options);
  return new RegistryImpl(runtime, packageAdapter, packageSettings);
}

/** The host's version of each peer it provides (name → the host folder linked), read from the folder's package.json. */
async function hostPeers(linked: Record<string, string>): Promise<Array<{ name: string; version: string }>> {
  const peers: Array<{ name: string; version: string }> = [];
  for (const [name, dir] of Object.entries(linked)) {
    const version = await readFile(join(dir, 'package.json'), 'utf8')
      .then((text) => (JSON.parse(text) as { version?: unknown }).version)
      .catch(() => undefined);
    peers.push({ name, version: typeof version === 'string' ? version : 'unknown' });
  }
  return peers;
}
