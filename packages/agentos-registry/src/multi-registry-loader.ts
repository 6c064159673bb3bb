/**
 * A drop-in for AgentOS's `MultiRegistryLoader` (`@framers/agentos/extensions`): the same constructor and methods,
 * backed by this library, so code written against AgentOS's API gets working registries by changing one import.
 * What it loads is registered in the `ExtensionManager` it is given. The manager is typed structurally: this file
 * needs nothing from `@framers/agentos` at run time.
 */
import { createHash } from 'node:crypto';
import {
  type CreateRegistryOptions,
  DEFAULT_CACHE_DURATION,
  type ExtensionPack,
  formatReference,
  isRegistryError,
  type Logger,
  parseReference,
  type Registry,
  type RegistryConfig,
  type SourceConfig,
  stampPack,
} from '@agentos-registry/core';
import { createRegistry } from './create-registry.js';

/** AgentOS's `ExtensionManager`, structurally: the one member the loader calls. */
export interface ExtensionManagerLike {
  /** Registers a pack's descriptors under `identifier`; a second call with the same identifier does nothing. */
  loadPackFromFactory(pack: ExtensionPack, identifier?: string, options?: Record<string, unknown>): Promise<void>;
}

/**
 * AgentOS's `RegistrySource`: one registry of the page. Written out field by field (no index signature) so AgentOS's
 * own type is accepted; a source's extra options (core's `SourceConfig`) are accepted too, see `MultiRegistryConfig`.
 */
export interface AgentOSRegistrySource {
  /** `npm`, `github`, `git`, `file`, `url`, or a third-party type. */
  type: string;
  location: string;
  branch?: string;
  token?: string;
  verified?: boolean;
  cacheDuration?: number;
  /** Accepted for AgentOS compatibility and ignored: entry code is always installed as its registry says. */
  autoInstall?: boolean;
}

/** A registry as AgentOS writes it, or as core takes it (with a source's own options). */
export type AnyRegistrySource = AgentOSRegistrySource | SourceConfig;

/** AgentOS's `MultiRegistryConfig`: the page's `registryConfig`. */
export interface MultiRegistryConfig extends Omit<RegistryConfig, 'registries' | 'defaultRegistries'> {
  registries: Record<string, AnyRegistrySource>;
  /** Registry name per kind; an `undefined` value is the same as leaving the kind out. */
  defaultRegistries?: Record<string, string | undefined>;
}

/** The loader's own options: `createRegistry`'s (package settings, logger, offline…). */
export type MultiRegistryLoaderOptions = CreateRegistryOptions;

interface CachedLoad {
  pack: ExtensionPack;
  at: number;
  duration: number;
}

/** The name an ad-hoc source of `loadFromSource` is known by: its type and a hash of where it is (no secret in it). */
function adHocName(source: AnyRegistrySource): string {
  const where = createHash('sha256')
    .update(`${source.type}\0${source.location}\0${source.branch ?? ''}`)
    .digest('hex')
    .slice(0, 12);
  return `${String(source.type).replace(/[^\w.-]/g, '-')}-${where}`;
}

function sameSource(a: AnyRegistrySource, b: AnyRegistrySource): boolean {
  return a.type === b.type && a.location === b.location && (a.branch ?? '') === (b.branch ?? '') && (a.token ?? '') === (b.token ?? '');
}

/**
 * AgentOS's `MultiRegistryLoader`, working. `loadExtension(kind, id)` picks the registry the way AgentOS does
 * (`resolver(kind)`, `defaultRegistries[kind]`, `default`), loads the entry (its `createExtensionPack(context)`, or for
 * `persona` its persona definition), registers it in the manager and returns the pack.
 *
 * Answers `null` where AgentOS's does for a missing thing: no registry for the kind (logged as a warning) and no such
 * entry. Throws the `RegistryError` for a broken registry (unreachable with nothing cached, refused credentials,
 * integrity or policy failures, an invalid index, code that fails to load), so a failure is never mistaken for
 * "not there". The config is checked at the first call (`E_CONFIG`).
 */
export class MultiRegistryLoader {
  private readonly manager: ExtensionManagerLike;
  private readonly config: MultiRegistryConfig;
  private readonly options: MultiRegistryLoaderOptions;
  private readonly logger: Pick<Logger, 'warn'>;
  private readonly cache = new Map<string, CachedLoad>();
  private readonly inFlight = new Map<string, Promise<ExtensionPack | null>>();
  private registry: Promise<Registry> | undefined;
  private readonly adHoc = new Map<string, { source: AnyRegistrySource; registry: Promise<Registry> }>();

  constructor(manager: ExtensionManagerLike, config: MultiRegistryConfig, options: MultiRegistryLoaderOptions = {}) {
    this.manager = manager;
    this.config = config;
    this.options = options;
    this.logger = options.logger ?? console;
  }

  /** Loads an extension (or, for `persona`, a persona) of a kind from the registry configured for that kind. */
  async loadExtension(kind: string, extensionId: string): Promise<ExtensionPack | null> {
    const registry = await this.getRegistry();
    // `registry:id@range` names its registry itself (an unknown name is E_CONFIG); a plain id goes by its kind.
    const { registry: named, ...rest } = parseReference(extensionId);
    if (named !== undefined) return this.loadFrom(registry, named, kind, formatReference(rest), this.config.registries[named]?.cacheDuration);
    let name: string;
    try {
      name = registry.registryFor(kind);
    } catch (error) {
      if (!isRegistryError(error, 'E_NO_REGISTRY_FOR_KIND')) throw error;
      this.logger.warn(`No registry configured for extension kind: ${kind}`);
      return null;
    }
    const source = this.config.registries[name];
    return this.loadFrom(registry, name, kind, extensionId, source?.cacheDuration);
  }

  /**
   * Loads `resourceId` from one registry source given inline. A source equal to a configured registry (type,
   * location, branch, token) is that registry; any other gets a registry of its own, kept until `close()`, with
   * this loader's `cacheSettings`. The entry's kind is the first one its index entry names (`tool` when none does);
   * a persona entry loads as a persona.
   */
  async loadFromSource(source: AnyRegistrySource, resourceId: string): Promise<ExtensionPack | null> {
    const configured = Object.entries(this.config.registries).find(([, candidate]) => sameSource(candidate, source));
    let registry: Registry;
    let name: string;
    if (configured) {
      registry = await this.getRegistry();
      name = configured[0];
    } else {
      name = adHocName(source);
      let held = this.adHoc.get(name);
      if (!held || !sameSource(held.source, source)) {
        // Same place, another token: the old registry is released, not leaked.
        if (held) void held.registry.then((r) => r.close()).catch(() => {});
        const config: RegistryConfig = {
          registries: { [name]: source as SourceConfig },
          ...(this.config.cacheSettings ? { cacheSettings: this.config.cacheSettings } : {}),
        };
        held = { source, registry: createRegistry(config, this.options) };
        this.adHoc.set(name, held);
      }
      registry = await held.registry;
    }
    let kind: string;
    try {
      const { entry } = await registry.resolve('tool', `${name}:${resourceId}`);
      kind = entry.section === 'personas' ? 'persona' : (entry.kinds[0] ?? 'tool');
    } catch (error) {
      if (isRegistryError(error, 'E_NOT_FOUND')) return null;
      throw error;
    }
    return this.loadFrom(registry, name, kind, resourceId, source.cacheDuration);
  }

  private loadFrom(registry: Registry, name: string, kind: string, id: string, cacheDuration: number | undefined): Promise<ExtensionPack | null> {
    const key = `${name}:${kind === 'persona' ? 'persona:' : ''}${id}`;
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(key);
    if (cached && now - cached.at < cached.duration) return Promise.resolve(cached.pack);
    // Calls for the same entry while one is loading share it: one createExtensionPack, one pack object.
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.loadNow(registry, name, kind, id).then((pack) => {
        if (pack) this.cache.set(key, { pack, at: now, duration: cacheDuration ?? DEFAULT_CACHE_DURATION });
        return pack;
      });
      const settled = () => this.inFlight.delete(key);
      pending.then(settled, settled);
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async loadNow(registry: Registry, name: string, kind: string, id: string): Promise<ExtensionPack | null> {
    // Only "the index has no such entry" answers null; every failure after the entry is chosen is thrown.
    const ref = `${name}:${id}`;
    try {
      const { entry } = await registry.resolve(kind, ref);
      if ((kind === 'persona') !== (entry.section === 'personas')) return null;
    } catch (error) {
      if (isRegistryError(error, 'E_NOT_FOUND')) return null;
      throw error;
    }
    const loaded = await registry.load(kind, ref);
    let stamped: { identifier: string; pack: ExtensionPack };
    if (loaded.type === 'persona') {
      // AgentOS has a `persona` extension kind: the definition is registered as the payload of one descriptor.
      const { persona, fetched } = loaded;
      const pack: ExtensionPack = { name: persona.id, version: persona.version, descriptors: [{ id: persona.id, kind: 'persona', payload: persona }] };
      stamped = stampPack(pack, fetched);
    } else {
      stamped = stampPack(loaded.pack, loaded.fetched);
    }
    await this.manager.loadPackFromFactory(stamped.pack, stamped.identifier, this.options.extensionContext?.options ?? {});
    return stamped.pack;
  }

  /** Forgets the packs this loader returned (memory only: the registries' disk cache stays, see `agentos-registry cache`). */
  clearCache(): void {
    this.cache.clear();
  }

  /** The packs held in memory: how many, and their keys (`<registry>:<id>`, `<registry>:persona:<id>` for personas). */
  getCacheStats(): { size: number; keys: string[] } {
    return { size: this.cache.size, keys: [...this.cache.keys()] };
  }

  /** The registry behind the loader (built at the first call), for what AgentOS's API has no method for: `list`, `search`, a loaded entry's module. */
  getRegistry(): Promise<Registry> {
    this.registry ??= createRegistry(this.config as RegistryConfig, this.options);
    return this.registry;
  }

  /** Releases every source (the configured registries and those of `loadFromSource`). */
  async close(): Promise<void> {
    const all = [this.registry, ...[...this.adHoc.values()].map((held) => held.registry)].filter((r): r is Promise<Registry> => r !== undefined);
    this.registry = undefined;
    this.adHoc.clear();
    await Promise.allSettled(all.map(async (r) => (await r).close()));
  }
}
