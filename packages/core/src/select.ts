/**
 * Entry selection: which registry answers a kind or a reference (explicit prefix, `resolver`, `defaultRegistries`,
 * "default"), and which index entry of it answers the reference (id, npm package or name; the section of the kind;
 * the semver range; curated before community, then the highest version). Listing and search choose rows the same
 * way. Reads indexes through the index service; fetches nothing else.
 */
import { semverModule as semver } from './lazy-modules.js';
import { closest, didYouMean } from './config.js';
import { RegistryError } from './errors.js';
import { tierRank } from './index-format.js';
import type { IndexService, ServedIndex } from './index-service.js';
import { parseReference } from './reference.js';
import type { ConfiguredRegistry, Runtime } from './runtime.js';
import type { CallOptions, IndexEntry, ListedEntry, ListFilter, Provenance } from './types.js';

/** The registry and index entry chosen for a reference, with the index they came from. */
export interface Resolution {
  reg: ConfiguredRegistry;
  entry: IndexEntry;
  served: ServedIndex;
}

/** The kinds AgentOS itself names, for "did you mean" when a kind has no registry (any other kind string works too). */
const WELL_KNOWN_KINDS = ['tool', 'guardrail', 'workflow', 'persona'];

/**
 * What to say when no entry provides `kind`: a close spelling among the kinds the entries list and the kinds AgentOS
 * names ("did you mean"), or which kinds there are. `listed` are the kinds of the entries looked at.
 */
interface Lookup {
  byId: Map<string, IndexEntry[]>;
  /** Entries whose npm package or name is the key, in index order (an entry is listed once even when both match). */
  byPackageOrName: Map<string, IndexEntry[]>;
}

/** Lookups by id, package and name, built once per index (its entry list) on first use: a resolve costs the same at any size. */
const lookups = new WeakMap<readonly IndexEntry[], Lookup>();

function lookupOf(entries: readonly IndexEntry[]): Lookup {
  let lookup = lookups.get(entries);
  if (lookup) return lookup;
  lookup = { byId: new Map(), byPackageOrName: new Map() };
  const add = (map: Map<string, IndexEntry[]>, key: string, entry: IndexEntry) => {
    const list = map.get(key);
    if (!list) map.set(key, [entry]);
    else if (list.at(-1) !== entry) list.push(entry);
  };
  for (const entry of entries) {
    add(lookup.byId, entry.id, entry);
    if (typeof entry.package === 'string') add(lookup.byPackageOrName, entry.package, entry);
    if (typeof entry.name === 'string') add(lookup.byPackageOrName, entry.name, entry);
  }
  lookups.set(entries, lookup);
  return lookup;
}

/** What `search` looks in, lower case, made once per entry: id, name, package, description, category, keywords, tools. */
const haystacks = new WeakMap<IndexEntry, string>();

function haystackOf(entry: IndexEntry): string {
  let text = haystacks.get(entry);
  if (text === undefined) {
    const raw = entry.raw;
    const words = [
      entry.id,
      entry.name,
      entry.package,
      entry.description,
      raw.category,
      ...(Array.isArray(raw.keywords) ? raw.keywords : []),
      ...(Array.isArray(raw.tools) ? raw.tools : []),
    ];
    // NUL between words: a needle never matches across two of them.
    text = words
      .filter((w): w is string => typeof w === 'string')
      .map((w) => w.toLowerCase())
      .join('\0');
    haystacks.set(entry, text);
  }
  return text;
}

export function unknownKindHint(kind: string, listed: readonly string[]): string {
  const kinds = [...new Set(listed)].sort();
  const near = closest(
    kind,
    [...new Set([...kinds, ...WELL_KNOWN_KINDS])].filter((k) => k !== kind),
  );
  const there = kinds.length > 0 ? ` Kinds the entries provide: ${kinds.join(', ')}.` : '';
  return `No entry provides kind "${kind}".${near !== undefined ? ` Did you mean "${near}"?` : ''}${there}`;
}

export class EntrySelector {
  readonly registryNames: readonly string[];

  constructor(
    private readonly rt: Runtime,
    private readonly indexes: IndexService,
  ) {
    this.registryNames = [...rt.registries.keys()];
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
    const defaults = this.rt.config.defaultRegistries;
    const fromDefaults = defaults.get(kind);
    if (fromDefaults !== undefined) return fromDefaults;
    if (this.rt.registries.has('default')) return 'default';
    // One registry and no defaultRegistries: nothing else could be meant, so it serves every kind. A config that
    // lists kinds in defaultRegistries has said which kinds it serves, and the rest stay unserved (as in AgentOS).
    if (this.registryNames.length === 1 && defaults.size === 0) return this.registryNames[0]!;
    const near = closest(
      kind,
      [...new Set([...WELL_KNOWN_KINDS, ...defaults.keys()])].filter((k) => k !== kind),
    );
    const howToServe = (k: string) => `defaultRegistries.${k}, a resolver that answers "${k}", a registry named "default", or use a "registry:id" reference`;
    // A kind a letter or two off a known one is a typo far more often than a new kind, so the hint is about the known one.
    let advice = `Add ${howToServe(kind)}.`;
    if (near !== undefined) advice = `Did you mean "${near}"?${defaults.has(near) ? '' : ` No registry serves that either: add ${howToServe(near)}.`}`;
    throw new RegistryError('E_NO_REGISTRY_FOR_KIND', `No registry is configured for kind "${kind}". ${advice}`, {
      details: { kind, ...(near !== undefined ? { didYouMean: near } : {}) },
    });
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
    return this.rows(filter, options, () => true);
  }

  async search(text: string, filter: ListFilter = {}, options: CallOptions = {}): Promise<ListedEntry[]> {
    const needle = text.trim().toLowerCase();
    return this.rows(filter, options, (entry) => needle === '' || haystackOf(entry).includes(needle));
  }

  /** The rows of every registry the filter names, in list order (curated first, then index order), for entries that pass `keep`. */
  private async rows(filter: ListFilter, options: CallOptions, keep: (entry: IndexEntry) => boolean): Promise<ListedEntry[]> {
    const rows: ListedEntry[] = [];
    for (const name of this.namesFor(filter)) {
      const { state } = await this.indexes.get(this.reg(name), options.signal, options.refresh);
      const entries = state.index.entries
        .map((entry, order) => ({ entry, order }))
        .filter(({ entry }) => EntrySelector.servesKind(entry, filter.kind) && keep(entry))
        .sort((a, b) => tierRank(a.entry.tier) - tierRank(b.entry.tier) || a.order - b.order);
      for (const { entry } of entries) rows.push(this.listedRow(name, entry));
    }
    return rows;
  }

  // ── resolving ─────────────────────────────────────────────────────────────────────────────────────────────────

  /** `locked`: the registry revision a lockfile pins for this reference (a cached index at it is served as is). */
  async choose(kind: string, ref: string, options: CallOptions, locked?: string): Promise<Resolution> {
    const reg = this.registryOf(kind, ref);
    return this.pick(kind, ref, reg, await this.indexes.get(reg, options.signal, options.refresh, locked));
  }

  /** The configured registry a reference names (its `registry:` prefix), else the one chosen for its kind. */
  registryOf(kind: string, ref: string): ConfiguredRegistry {
    const parsed = parseReference(ref);
    return this.reg(parsed.registry ? this.checkName(parsed.registry, `The reference "${ref}"`) : this.registryFor(kind));
  }

  /** The entry of `served` (an index of `reg`) that answers the reference. */
  private pick(kind: string, ref: string, reg: ConfiguredRegistry, served: ServedIndex): Resolution {
    const parsed = parseReference(ref);
    const name = reg.name;
    const all = served.state.index.entries;
    const section = kind === 'persona' ? 'personas' : 'extensions';
    const lookup = lookupOf(all);
    const byId = lookup.byId.get(parsed.id) ?? [];
    const candidates = byId.length > 0 ? byId : (lookup.byPackageOrName.get(parsed.id) ?? []);
    const inSection = candidates.filter((e) => e.section === section);
    const pool = inSection.length > 0 ? inSection : candidates;
    if (pool.length === 0) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has no entry "${parsed.id}" (looked for an id, npm package or name among ${all.length} entries).${didYouMean(
          parsed.id,
          all.map((e) => e.id),
        )} Run "agentos-registry list --registry ${name}" to see what it holds.`,
        { registry: name, details: { ref } },
      );
    }
    const matching = parsed.range ? pool.filter((e) => semver().valid(e.version) && semver().satisfies(e.version, parsed.range!)) : pool;
    if (matching.length === 0) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry "${name}" has "${parsed.id}" in version${pool.length > 1 ? 's' : ''} ${pool.map((e) => e.version).join(', ')}, none of which satisfies "${parsed.range}".`,
        { registry: name, details: { ref, versions: pool.map((e) => e.version) } },
      );
    }
    // Curated before community, then the highest version.
    const entry = [...matching].sort(
      (a, b) => tierRank(a.tier) - tierRank(b.tier) || (semver().valid(a.version) && semver().valid(b.version) ? semver().rcompare(a.version, b.version) : 0),
    )[0]!;
    return { reg, entry, served };
  }
}

/** Where a result came from: registry, source, location (no secrets), revision, integrity, cache and staleness. */
export function provenanceOf(reg: ConfiguredRegistry, served: ServedIndex, integrity: string | undefined, fromCache: boolean): Provenance {
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
