/**
 * `createRegistry`: the object a host uses. It ties together the normalized config, the adapters, the index and
 * entry services (with the disk cache) and the loader. Every policy lives here or in the modules it calls, never
 * in a source.
 */
import semver from 'semver';
import { importAdapter, packageForType, resolveAdapters } from './adapters.js';
import { CacheStore } from './cache-store.js';
import { didYouMean, normalizeConfig, unknownSourceFields } from './config.js';
import type { RegistrySource, SourceAdapter } from './contract.js';
import { EntryService } from './entry-service.js';
import { isRegistryError, RegistryError, registerSecret } from './errors.js';
import { tierRank } from './index-format.js';
import { IndexService, type ServedIndex } from './index-service.js';
import { DependencyInstaller } from './install.js';
import { entryModuleOf, loadExtensionPack } from './loader.js';
import { loadPersona } from './persona.js';
import { checkAllowedTypes, checkPackageHost, checkPackageType, checkRegistryHosts, checkVerified, runBeforeActivate } from './policy.js';
import type { PackageJson } from './manifest.js';
import { PackageService } from './package-service.js';
import { environmentSecrets } from './secrets.js';
import { redactingLogger, silentLogger } from './logger.js';
import { formatReference, parseReference } from './reference.js';
import { signatureStatusOf } from './signing.js';
import { type ConfiguredRegistry, keyFor, Runtime } from './runtime.js';
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
  Provenance,
  Registry,
  RegistryConfig,
  RegistryWarning,
  ResolvedEntry,
} from './types.js';

export { toRegistryError } from './source-errors.js';

interface Resolution {
  reg: ConfiguredRegistry;
  entry: IndexEntry;
  served: ServedIndex;
}

class RegistryImpl implements Registry {
  readonly registryNames: readonly string[];
  private readonly indexes: IndexService;
  private readonly entries: EntryService;
  private readonly packages: PackageService;
  private readonly installer: DependencyInstaller;
  private closed = false;

  constructor(
    private readonly rt: Runtime,
    packageAdapter: (capability: 'fetchPackage' | 'installDependencies' | 'packageVersions') => Promise<SourceAdapter>,
    private readonly packageSettings: { registry?: string; token?: string; [option: string]: unknown },
  ) {
    this.registryNames = [...rt.registries.keys()];
    this.indexes = new IndexService(rt);
    this.entries = new EntryService(rt);
    this.packages = new PackageService(rt, () => packageAdapter('fetchPackage'), packageSettings);
    this.installer = new DependencyInstaller(rt, (capability) => packageAdapter(capability), packageSettings);
  }

  // ── choosing a registry ───────────────────────────────────────────────────────────────────────────────────────

  registryFor(kind: string): string {
    const fromResolver: unknown = this.rt.config.resolver?.(kind);
    if (fromResolver !== null && fromResolver !== undefined) {
      if (typeof fromResolver !== 'string') {
        throw new RegistryError(
          'E_CONFIG',
          `resolver("${kind}") returned ${Array.isArray(fromResolver) ? 'an array' : `a ${typeof fromResolver}`}; it must return a registry name, or null/undefined to fall through to defaultRegistries.`,
          { details: { kind, field: 'resolver' } },
        );
      }
      return this.checkName(fromResolver, `resolver("${kind}")`);
    }
    const fromDefaults = this.rt.config.defaultRegistries.get(kind);
    if (fromDefaults !== undefined) return fromDefaults;
    if (this.rt.registries.has('default')) return 'default';
    throw new RegistryError(
      'E_NO_REGISTRY_FOR_KIND',
      `No registry is configured for kind "${kind}". Add defaultRegistries.${kind}, a resolver that answers "${kind}", a registry named "default", or use a "registry:id" reference.`,
      { details: { kind } },
    );
  }

  private checkName(name: string, origin: string): string {
    if (!this.rt.registries.has(name)) {
      throw new RegistryError(
        'E_CONFIG',
        `${origin} names registry "${name}", which is not configured (configured: ${this.registryNames.join(', ')}).${didYouMean(name, this.registryNames)}`,
        { registry: name },
      );
    }
    return name;
  }

  private reg(name: string): ConfiguredRegistry {
    return this.rt.registries.get(this.checkName(name, 'The request'))!;
  }

  private namesFor(filter: ListFilter): string[] {
    if (filter.registry) return [this.checkName(filter.registry, 'The registry filter')];
    if (filter.kind) return [this.registryFor(filter.kind)];
    return [...this.registryNames];
  }

  // ── listing ───────────────────────────────────────────────────────────────────────────────────────────────────

  private listedRow(name: string, entry: IndexEntry): ListedEntry {
    return {
      registry: name,
      id: entry.id,
      name: entry.name,
      version: entry.version,
      tier: entry.tier,
      kinds: entry.kinds,
      verified: this.reg(name).settings.verified,
      ...(entry.description ? { description: entry.description } : {}),
      ...(entry.package ? { package: entry.package } : {}),
    };
  }

  private static servesKind(entry: IndexEntry, kind: string | undefined): boolean {
    if (kind === undefined) return true;
    if (kind === 'persona') return entry.section === 'personas';
    return entry.section === 'extensions' && (entry.kinds.length === 0 || entry.kinds.includes(kind));
  }

  async list(filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    const rows: ListedEntry[] = [];
    for (const name of this.namesFor(filter)) {
      const { state } = await this.indexes.get(this.reg(name), options.signal, options.refresh);
      const entries = state.index.entries
        .map((entry, order) => ({ entry, order }))
        .filter(({ entry }) => RegistryImpl.servesKind(entry, filter.kind))
        .sort((a, b) => tierRank(a.entry.tier) - tierRank(b.entry.tier) || a.order - b.order);
      for (const { entry } of entries) rows.push(this.listedRow(name, entry));
    }
    return rows;
  }

  async search(text: string, filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    const needle = text.trim().toLowerCase();
    const rows = await this.list(filter, options);
    const byKey = new Map<string, IndexEntry>();
    for (const name of this.namesFor(filter)) {
      const { state } = await this.indexes.get(this.reg(name), options.signal, options.refresh);
      for (const entry of state.index.entries) byKey.set(`${name}\0${entry.id}\0${entry.version}`, entry);
    }
    return rows.filter((row) => {
      const entry = byKey.get(`${row.registry}\0${row.id}\0${row.version}`);
      if (!entry) return false;
      const raw = entry.raw;
      const words = [entry.id, entry.name, entry.package, entry.description, raw.category, ...(Array.isArray(raw.keywords) ? raw.keywords : []), ...(Array.isArray(raw.tools) ? raw.tools : [])];
      return needle === '' || words.some((w) => typeof w === 'string' && w.toLowerCase().includes(needle));
    });
  }

  // ── resolving ─────────────────────────────────────────────────────────────────────────────────────────────────

  private async choose(kind: string, ref: string, options: CallOptions): Promise<Resolution> {
    const parsed = parseReference(ref);
    const name = parsed.registry ? this.checkName(parsed.registry, `The reference "${ref}"`) : this.registryFor(kind);
    const reg = this.reg(name);
    const served = await this.indexes.get(reg, options.signal, options.refresh);
    const all = served.state.index.entries;
    const section = kind === 'persona' ? 'personas' : 'extensions';
    const byId = all.filter((e) => e.id === parsed.id);
    const candidates = byId.length > 0 ? byId : all.filter((e) => e.package === parsed.id || e.name === parsed.id);
    const inSection = candidates.filter((e) => e.section === section);
    const pool = inSection.length > 0 ? inSection : candidates;
    if (pool.length === 0) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has no entry "${parsed.id}" (looked for an id, npm package or name among ${all.length} entries).${didYouMean(parsed.id, all.map((e) => e.id))} Run "agentos-registry list --registry ${name}" to see what it holds.`,
        { registry: name, details: { ref } },
      );
    }
    const matching = parsed.range ? pool.filter((e) => semver.valid(e.version) && semver.satisfies(e.version, parsed.range!)) : pool;
    if (matching.length === 0) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has "${parsed.id}" in version${pool.length > 1 ? 's' : ''} ${pool.map((e) => e.version).join(', ')}, none of which satisfies "${parsed.range}".`,
        { registry: name, details: { ref, versions: pool.map((e) => e.version) } },
      );
    }
    // Curated before community, then the highest version.
    const entry = [...matching].sort(
      (a, b) => tierRank(a.tier) - tierRank(b.tier) || (semver.valid(a.version) && semver.valid(b.version) ? semver.rcompare(a.version, b.version) : 0),
    )[0]!;
    return { reg, entry, served };
  }

  private provenance(reg: ConfiguredRegistry, served: ServedIndex, integrity: string | undefined, fromCache: boolean): Provenance {
    return {
      registry: reg.name,
      sourceType: reg.sourceType,
      location: reg.source.displayLocation,
      revision: served.state.revision.id,
      ...(integrity ? { integrity } : {}),
      verified: reg.settings.verified,
      fromCache,
      stale: served.stale,
    };
  }

  async resolve(kind: string, ref: string, options: CallOptions = {}): Promise<ResolvedEntry> {
    const { reg, entry, served } = await this.choose(kind, ref, options);
    return { registry: reg.name, entry, provenance: this.provenance(reg, served, undefined, served.fromCache) };
  }

  // ── fetching and loading ──────────────────────────────────────────────────────────────────────────────────────

  private async fetchWith(
    kind: string,
    ref: string,
    options: CallOptions,
    defaultCode: 'registry' | 'auto',
    chosen?: Resolution,
  ): Promise<{ fetched: FetchedEntry; packageJson: PackageJson | undefined }> {
    const { reg, entry, served } = chosen ?? (await this.choose(kind, ref, options));
    const code = options.code ?? defaultCode;
    if (code !== 'package') {
      const { stored, fromCache } = await this.entries.get(reg, entry, served.state, options.signal);
      // fetch and info (code 'registry') never judge the entry's module: only load runs code.
      const hasCode = code === 'registry' || entry.section === 'personas' || this.hasRunnableCode(stored, entry, reg.name, kind, code);
      if (code === 'registry' || hasCode || !entry.package) {
        const fetched: FetchedEntry = {
          registry: reg.name,
          id: entry.id,
          version: entry.version,
          dir: stored.dir,
          revision: served.state.revision.id,
          integrity: stored.integrity,
          fromCache,
          stale: served.stale,
          manifest: stored.manifest,
          manifestSynthesized: stored.manifestSynthesized,
          from: 'registry',
          entry,
          provenance: this.provenance(reg, served, stored.integrity, fromCache),
          warnings: stored.warnings,
        };
        this.report(fetched.warnings);
        return { fetched, packageJson: stored.packageJson };
      }
    }
    // The code is the entry's npm package at the entry's version, whichever source served the index.
    if (entry.package) {
      checkPackageType(this.rt.config.policy, reg.name, entry.package);
      checkPackageHost(this.rt.config.policy, reg.name, entry.package, typeof this.packageSettings.registry === 'string' ? this.packageSettings.registry : undefined);
    }
    const pkg = await this.packages.get(entry, reg, options.signal);
    const fetched: FetchedEntry = {
      registry: reg.name,
      id: entry.id,
      version: entry.version,
      dir: pkg.dir,
      revision: served.state.revision.id,
      integrity: pkg.integrity,
      fromCache: pkg.fromCache,
      stale: served.stale,
      manifest: pkg.manifest,
      manifestSynthesized: pkg.manifestSynthesized,
      from: 'package',
      entry,
      // A signed index covers the registry's folders (h1), not an npm tarball: such code is not verified by it.
      provenance: { ...this.provenance(reg, served, pkg.integrity, pkg.fromCache), package: `${entry.package}@${pkg.version}`, ...(reg.settings.trust ? { verified: false } : {}) },
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
    const signature = signatureStatusOf({ trust: settings.trust, verified: settings.verified, signed, index, path: entry.path, fromRegistry: fetched.from === 'registry', now: this.rt.now() });
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
    checkVerified(policy, reg.name, entry.id, [...kinds, ...declared], fetched.provenance.verified, fetched.from === 'package' ? `its code is the npm package ${fetched.provenance.package}` : 'its registry');
    await runBeforeActivate(this.rt.options.onBeforeActivate, fetched, fetched.dir, kind);
    if (kind === 'persona') {
      return { type: 'persona', persona: await loadPersona(fetched), fetched };
    }
    const defaults = this.rt.options.extensionContext ?? {};
    const prepared = await this.installer.prepare(fetched, packageJson, options.signal);
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
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const normalized = normalizeConfig(config, { env, baseDir });
  // Before any adapter is imported or any request made.
  checkAllowedTypes(normalized.policy, [...normalized.registries].map(([name, r]) => [name, r.config.type] as [string, string]));
  if (options.onBeforeActivate !== undefined && typeof options.onBeforeActivate !== 'function') {
    throw new RegistryError('E_CONFIG', 'onBeforeActivate must be a function (entry, dir, { kind }) => void | boolean | Promise of one.', { details: { field: 'onBeforeActivate' } });
  }
  const needed = new Map<string, string>();
  for (const [name, r] of normalized.registries) if (!needed.has(r.config.type)) needed.set(r.config.type, name);
  const adapters = await resolveAdapters(needed, options.sources ?? [], [baseDir, process.cwd()]);
  const logger = redactingLogger(options.logger ?? silentLogger);
  const configured = new Map<string, ConfiguredRegistry>();
  for (const [name, settings] of normalized.registries) {
    const adapter = adapters.get(settings.config.type)!;
    const unknown = unknownSourceFields(settings.config, adapter.options);
    if (unknown.length > 0) {
      const field = unknown[0]!;
      throw new RegistryError(
        'E_CONFIG',
        `registries.${name}.${field} is not an option of type "${settings.config.type}".${didYouMean(field, [...(adapter.options ?? []), 'branch', 'token', 'verified', 'cacheDuration', 'location'])}`,
        { registry: name, details: { field: `registries.${name}.${field}` } },
      );
    }
    const problems = adapter.validate?.(settings.config) ?? [];
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new RegistryError('E_CONFIG', `registries.${name}.${first.field}: ${first.message}`, {
        registry: name,
        details: { field: `registries.${name}.${first.field}` },
      });
    }
    let source: RegistrySource;
    try {
      source = adapter.create(settings.config, { registry: name, baseDir, logger, env });
    } catch (error) {
      throw error instanceof RegistryError ? error : new RegistryError('E_CONFIG', `Registry "${name}" could not be set up: ${(error as Error).message}`, { registry: name, cause: error });
    }
    try {
      checkRegistryHosts(normalized.policy, name, source, settings.config);
    } catch (error) {
      // Refused before any request: release what was built so far.
      await Promise.allSettled([source, ...[...configured.values()].map((c) => c.source)].map((s) => s.close?.()));
      throw error;
    }
    configured.set(name, { name, settings, source, sourceType: adapter.type, key: keyFor(name, settings, source) });
  }
  const store = normalized.cache.enabled ? new CacheStore(normalized.cache.directory, { setBy: normalized.cache.setBy }) : undefined;
  const runtime = new Runtime(normalized, configured, store, options, logger, options.now ?? Date.now);
  // Entry code from npm, and the dependencies of extension code: any adapter with that capability (the npm source),
  // loaded only when first needed.
  const packageAdapter = async (capability: 'fetchPackage' | 'installDependencies' | 'packageVersions'): Promise<SourceAdapter> => {
    const found = [...adapters.values()].find((a) => typeof a[capability] === 'function') ?? (await importAdapter('npm', [baseDir, process.cwd()]));
    if (typeof found?.[capability] !== 'function') {
      const what = capability === 'fetchPackage' ? "This entry's code is an npm package, and fetching packages" : 'This extension has npm dependencies, and installing them';
      throw new RegistryError(
        'E_SOURCE_NOT_INSTALLED',
        `${what} needs ${packageForType('npm')}. Install it (npm install ${packageForType('npm')}) or use the "agentos-registry" package that bundles it.`,
        { details: { package: packageForType('npm') } },
      );
    }
    return found!;
  };
  // Package settings: the option, else those of the first configured npm registry (minus what names the registry
  // package itself), else nothing — the package source then follows the user's own npm config.
  const npmRegistry = [...normalized.registries.values()].find((r) => r.config.type === 'npm')?.config;
  const { type: _t, location: _l, branch: _b, version: _v, verified: _ve, cacheDuration: _c, ...npmOptions } = npmRegistry ?? ({} as Record<string, unknown>);
  const packageSettings: { registry?: string; token?: string; [option: string]: unknown } = options.packages ?? npmOptions;
  if (typeof packageSettings.token === 'string') registerSecret(packageSettings.token);
  return new RegistryImpl(runtime, packageAdapter, packageSettings);
}

export { formatReference };
