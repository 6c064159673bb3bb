/**
 * `createRegistry`: the object a host uses. It ties together the normalized config, the adapters, the index and
 * entry stores, and the loader. Every policy lives here or in the modules it calls, never in a source.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { resolveAdapters } from './adapters.js';
import { didYouMean, type NormalizedConfig, type NormalizedRegistry, normalizeConfig, unknownSourceFields } from './config.js';
import type { RegistrySource, SourceCallContext, SourceRevision } from './contract.js';
import { RegistryError, redactError } from './errors.js';
import { parseRegistryIndex, tierRank } from './index-format.js';
import { loadExtensionPack, loadPersona } from './loader.js';
import { type Logger, redactingLogger, silentLogger } from './logger.js';
import { type PackageJson, readEntryManifest } from './manifest.js';
import { safeJoin } from './paths.js';
import { formatReference, parseReference } from './reference.js';
import { scanTree } from './tree.js';
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
  Provenance,
  Registry,
  RegistryConfig,
  RegistryIndex,
  RegistryWarning,
  ResolvedEntry,
} from './types.js';

interface IndexState {
  revision: SourceRevision;
  index: RegistryIndex;
  checkedAt: number;
}

interface Configured {
  settings: NormalizedRegistry;
  source: RegistrySource;
  sourceType: string;
}

interface StoredEntry {
  dir: string;
  integrity: string;
  packageJson: PackageJson | undefined;
  fetched: Omit<FetchedEntry, 'fromCache' | 'stale' | 'provenance'>;
}

/** Maps whatever a source threw to a RegistryError with a code, keeping the (redacted) cause. */
export function toRegistryError(error: unknown, registry: string, action: string): RegistryError {
  if (error instanceof RegistryError) return error;
  const err = error as NodeJS.ErrnoException;
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') {
    return new RegistryError('E_ABORTED', `${action} in registry "${registry}" was aborted.`, { registry, cause: error });
  }
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'];
  if (err?.code && network.includes(err.code)) {
    return new RegistryError(
      'E_UNREACHABLE',
      `Registry "${registry}" could not be reached while ${action} (${err.code}). Check the network, the location, or use offline mode to serve cached copies.`,
      { registry, cause: error },
    );
  }
  if (err?.code === 'ENOENT') {
    return new RegistryError('E_NOT_FOUND', `${action} in registry "${registry}": ${err.message}`, { registry, cause: error });
  }
  return new RegistryError('E_INTERNAL', `${action} in registry "${registry}" failed: ${err?.message ?? String(error)}`, {
    registry,
    cause: redactError(error),
  });
}

function abortError(signal: AbortSignal, what: string): RegistryError {
  return new RegistryError('E_ABORTED', `${what} was aborted.`, { cause: signal.reason });
}

class RegistryImpl implements Registry {
  readonly registryNames: readonly string[];
  private readonly states = new Map<string, IndexState>();
  private readonly entries = new Map<string, StoredEntry>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private scratch: string | undefined;
  private closed = false;

  constructor(
    private readonly config: NormalizedConfig,
    private readonly configured: Map<string, Configured>,
    private readonly options: CreateRegistryOptions,
  ) {
    this.registryNames = [...config.registries.keys()];
    this.logger = redactingLogger(options.logger ?? silentLogger);
    this.now = options.now ?? Date.now;
  }

  // ── choosing a registry ───────────────────────────────────────────────────────────────────────────────────────

  registryFor(kind: string): string {
    const fromResolver = this.config.resolver?.(kind);
    if (fromResolver !== null && fromResolver !== undefined) return this.checkName(fromResolver, `resolver("${kind}")`);
    const fromDefaults = this.config.defaultRegistries[kind];
    if (fromDefaults) return fromDefaults;
    if (this.configured.has('default')) return 'default';
    throw new RegistryError(
      'E_NO_REGISTRY_FOR_KIND',
      `No registry is configured for kind "${kind}". Add defaultRegistries.${kind}, a resolver that answers "${kind}", a registry named "default", or use a "registry:id" reference.`,
      { details: { kind } },
    );
  }

  private checkName(name: string, origin: string): string {
    if (!this.configured.has(name)) {
      throw new RegistryError(
        'E_CONFIG',
        `${origin} names registry "${name}", which is not configured (configured: ${this.registryNames.join(', ')}).${didYouMean(name, this.registryNames)}`,
        { registry: name },
      );
    }
    return name;
  }

  private get(name: string): Configured {
    this.checkName(name, 'The request');
    return this.configured.get(name)!;
  }

  // ── indexes ───────────────────────────────────────────────────────────────────────────────────────────────────

  private callContext(name: string, signal: AbortSignal | undefined, previous?: SourceRevision): SourceCallContext {
    return {
      registry: name,
      signal: signal ?? new AbortController().signal,
      logger: this.logger,
      ...(previous ? { previous } : {}),
    };
  }

  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async index(name: string, signal?: AbortSignal): Promise<IndexState> {
    if (signal?.aborted) throw abortError(signal, `Reading the index of "${name}"`);
    const { settings, source } = this.get(name);
    const held = this.states.get(name);
    const fresh = held && !this.options.refresh && (this.options.preferOffline || this.now() - held.checkedAt < settings.cacheDuration);
    if (held && (fresh || this.options.offline)) return held;
    if (this.options.offline) {
      throw new RegistryError('E_NOT_CACHED', `Registry "${name}" has no cached index and offline mode forbids asking its source. Run once online, or leave offline mode.`, {
        registry: name,
      });
    }
    return this.once(`index\0${name}`, async () => {
      const ctx = this.callContext(name, signal, held?.revision);
      try {
        const answer = await source.revision(ctx);
        if (answer === 'unchanged' && held) {
          held.checkedAt = this.now();
          return held;
        }
        const revision = answer === 'unchanged' ? await source.revision(this.callContext(name, signal)) : answer;
        if (revision === 'unchanged') throw new RegistryError('E_CONTRACT', `The source of "${name}" answered "unchanged" without a previous revision.`, { registry: name });
        if (held && held.revision.id === revision.id) {
          held.checkedAt = this.now();
          return held;
        }
        const bytes = await source.readIndex(revision, ctx);
        const index = parseRegistryIndex(bytes, { registry: name });
        const state: IndexState = { revision, index, checkedAt: this.now() };
        this.states.set(name, state);
        return state;
      } catch (error) {
        throw toRegistryError(error, name, 'reading the index');
      }
    });
  }

  private listedRow(name: string, entry: IndexEntry): ListedEntry {
    return {
      registry: name,
      id: entry.id,
      name: entry.name,
      version: entry.version,
      tier: entry.tier,
      kinds: entry.kinds,
      verified: this.get(name).settings.verified,
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
    const names = filter.registry
      ? [this.checkName(filter.registry, 'list({ registry })')]
      : filter.kind
        ? [this.registryFor(filter.kind)]
        : [...this.registryNames];
    const rows: ListedEntry[] = [];
    for (const name of names) {
      const { index } = await this.index(name, options.signal);
      const entries = index.entries
        .map((entry, order) => ({ entry, order }))
        .filter(({ entry }) => RegistryImpl.servesKind(entry, filter.kind))
        .sort((a, b) => tierRank(a.entry.tier) - tierRank(b.entry.tier) || a.order - b.order);
      for (const { entry } of entries) rows.push(this.listedRow(name, entry));
    }
    return rows;
  }

  async search(text: string, filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    const needle = text.trim().toLowerCase();
    const names = filter.registry ? [filter.registry] : filter.kind ? [this.registryFor(filter.kind)] : [...this.registryNames];
    const rows: ListedEntry[] = [];
    for (const name of names) {
      const { index } = await this.index(name, options.signal);
      for (const entry of index.entries) {
        if (!RegistryImpl.servesKind(entry, filter.kind)) continue;
        const raw = entry.raw;
        const haystack = [entry.id, entry.name, entry.package, entry.description, raw.category, ...(Array.isArray(raw.keywords) ? raw.keywords : []), ...(Array.isArray(raw.tools) ? raw.tools : [])]
          .filter((v): v is string => typeof v === 'string')
          .join('\n')
          .toLowerCase();
        if (needle === '' || haystack.includes(needle)) rows.push(this.listedRow(name, entry));
      }
    }
    return rows.sort((a, b) => tierRank(a.tier) - tierRank(b.tier));
  }

  // ── resolving ─────────────────────────────────────────────────────────────────────────────────────────────────

  async resolve(kind: string, ref: string, options: CallOptions = {}): Promise<ResolvedEntry> {
    const parsed = parseReference(ref);
    const name = parsed.registry ? this.checkName(parsed.registry, `The reference "${ref}"`) : this.registryFor(kind);
    const state = await this.index(name, options.signal);
    const section = kind === 'persona' ? 'personas' : 'extensions';
    const all = state.index.entries;
    const byId = all.filter((e) => e.id === parsed.id);
    const candidates = byId.length > 0 ? byId : all.filter((e) => e.package === parsed.id || e.name === parsed.id);
    const inSection = candidates.filter((e) => e.section === section);
    const pool = inSection.length > 0 ? inSection : candidates;
    if (pool.length === 0) {
      const ids = all.map((e) => e.id);
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has no entry "${parsed.id}" (looked for an id, npm package or name among ${all.length} entries).${didYouMean(parsed.id, ids)} Run "agentos-registry list --registry ${name}" to see what it holds.`,
        { registry: name, details: { ref } },
      );
    }
    const matching = parsed.range ? pool.filter((e) => semver.valid(e.version) && semver.satisfies(e.version, parsed.range!, { includePrerelease: false })) : pool;
    if (matching.length === 0) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has "${parsed.id}" in version${pool.length > 1 ? 's' : ''} ${pool.map((e) => e.version).join(', ')}, none of which satisfies "${parsed.range}".`,
        { registry: name, details: { ref, versions: pool.map((e) => e.version) } },
      );
    }
    // Curated before community, then the highest version.
    const best = [...matching].sort(
      (a, b) => tierRank(a.tier) - tierRank(b.tier) || (semver.valid(a.version) && semver.valid(b.version) ? semver.rcompare(a.version, b.version) : 0),
    )[0]!;
    return { registry: name, entry: best, provenance: this.provenance(name, state, undefined, false) };
  }

  private provenance(name: string, state: IndexState, integrity: string | undefined, fromCache: boolean): Provenance {
    const { settings, source, sourceType } = this.get(name);
    return {
      registry: name,
      sourceType,
      location: source.displayLocation,
      revision: state.revision.id,
      ...(integrity ? { integrity } : {}),
      verified: settings.verified,
      fromCache,
      stale: false,
    };
  }

  // ── fetching ──────────────────────────────────────────────────────────────────────────────────────────────────

  private async scratchDir(): Promise<string> {
    if (this.config.cache.enabled) {
      const dir = join(this.config.cache.directory, 'tmp');
      await mkdir(dir, { recursive: true });
      return dir;
    }
    // With the cache off nothing goes to the cache folder; entries live in a private temp folder until close().
    this.scratch ??= await mkdtemp(join(tmpdir(), 'agentos-registry-'));
    return this.scratch;
  }

  private async materialize(name: string, entry: IndexEntry, state: IndexState, signal: AbortSignal | undefined): Promise<StoredEntry> {
    const { source } = this.get(name);
    const ctx = this.callContext(name, signal);
    let dir: string;
    let integrity: string;
    if (source.flags?.local && source.locate) {
      // Local folders are served in place; core still checks them and records their integrity.
      dir = await source.locate(entry.path, state.revision, ctx);
      integrity = (await scanTree(dir, { signal, registry: name })).integrity;
    } else {
      const base = await this.scratchDir();
      const temp = join(base, `.partial-${process.pid}-${randomBytes(6).toString('hex')}`);
      await mkdir(temp, { recursive: true });
      try {
        await source.materialize({ path: entry.path, revision: state.revision, destination: temp }, ctx);
        integrity = (await scanTree(temp, { signal, registry: name })).integrity;
        const hex = Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex').slice(0, 40);
        dir = join(this.config.cache.enabled ? join(this.config.cache.directory, 'content') : base, hex);
        await mkdir(join(dir, '..'), { recursive: true });
        try {
          await rename(temp, dir);
        } catch (error) {
          // Another caller stored the same content first: identical bytes, keep theirs.
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
          await rm(temp, { recursive: true, force: true });
        }
      } catch (error) {
        await rm(temp, { recursive: true, force: true });
        throw error;
      }
    }
    const { manifest, synthesized, packageJson, warnings } = await readEntryManifest(dir, entry, name);
    for (const warning of warnings) this.warn(warning);
    return {
      dir,
      integrity,
      packageJson,
      fetched: {
        registry: name,
        id: entry.id,
        version: entry.version,
        dir,
        revision: state.revision.id,
        integrity,
        manifest,
        manifestSynthesized: synthesized,
        entry,
        warnings,
      },
    };
  }

  private warn(warning: RegistryWarning): void {
    this.logger.warn(warning.message, { code: warning.code, registry: warning.registry, entry: warning.entry });
    this.options.onWarning?.(warning);
  }

  private async fetchStored(kind: string, ref: string, options: CallOptions): Promise<{ stored: StoredEntry; fromCache: boolean; state: IndexState }> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, `Fetching "${ref}"`);
    const { registry: name, entry } = await this.resolve(kind, ref, options);
    const state = this.states.get(name)!;
    safeJoin('/registry-root', entry.path, { registry: name, field: `${entry.id} path` });
    const key = `${name}\0${state.revision.id}\0${entry.path}`;
    const known = this.entries.get(key);
    if (known) return { stored: known, fromCache: true, state };
    const stored = await this.once(`entry\0${key}`, async () => {
      try {
        const made = await this.materialize(name, entry, state, signal);
        this.entries.set(key, made);
        return made;
      } catch (error) {
        throw toRegistryError(error, name, `fetching ${entry.id}`);
      }
    });
    return { stored, fromCache: false, state };
  }

  async fetch(kind: string, ref: string, options: CallOptions = {}): Promise<FetchedEntry> {
    const { stored, fromCache, state } = await this.fetchStored(kind, ref, options);
    const provenance = this.provenance(stored.fetched.registry, state, stored.integrity, fromCache);
    return { ...stored.fetched, fromCache, stale: false, provenance };
  }

  async info(kind: string, ref: string, options: CallOptions = {}): Promise<EntryInfo> {
    const fetched = await this.fetch(kind, ref, options);
    return {
      registry: fetched.registry,
      id: fetched.id,
      version: fetched.version,
      manifest: fetched.manifest,
      entry: fetched.entry,
      provenance: fetched.provenance,
      warnings: fetched.warnings,
    };
  }

  async load(kind: string, ref: string, options: CallOptions = {}): Promise<LoadedExtension | LoadedPersona> {
    const { stored, fromCache, state } = await this.fetchStored(kind, ref, options);
    const fetched: FetchedEntry = {
      ...stored.fetched,
      fromCache,
      stale: false,
      provenance: this.provenance(stored.fetched.registry, state, stored.integrity, fromCache),
    };
    if (kind === 'persona' || fetched.entry.section === 'personas') {
      return { type: 'persona', persona: await loadPersona(fetched), fetched };
    }
    const defaults = this.options.extensionContext ?? {};
    const pack = await loadExtensionPack(fetched, stored.packageJson, {
      options: { ...(defaults.options ?? {}), ...(options.options ?? {}) },
      getSecret: defaults.getSecret ?? ((id: string) => process.env[id]),
      logger: defaults.logger ?? this.logger,
    });
    return { type: 'extension', pack, fetched };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.configured.values()].map((c) => c.source.close?.()));
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
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
  const needed = new Map<string, string>();
  for (const [name, r] of normalized.registries) if (!needed.has(r.config.type)) needed.set(r.config.type, name);
  const adapters = await resolveAdapters(needed, options.sources ?? [], [baseDir, process.cwd()]);
  const logger = redactingLogger(options.logger ?? silentLogger);
  const configured = new Map<string, Configured>();
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
    configured.set(name, { settings, source, sourceType: adapter.type });
  }
  return new RegistryImpl(normalized, configured, options);
}

export { formatReference };
