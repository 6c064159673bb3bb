/** What the registry's services share: configured sources, the cache store, the clock, logging and de-duplication. */
import type { NormalizedConfig, NormalizedRegistry } from './config.js';
import type { RegistrySource, SourceCallContext, SourceRevision } from './contract.js';
import type { CacheStore } from './cache-store.js';
import { registryKey } from './cache-store.js';
import type { Logger } from './logger.js';
import type { CreateRegistryOptions, RegistryWarning } from './types.js';

export interface ConfiguredRegistry {
  name: string;
  settings: NormalizedRegistry;
  source: RegistrySource;
  sourceType: string;
  /** Cache key: name, type and public location; never a secret. */
  key: string;
}

export class Runtime {
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    readonly config: NormalizedConfig,
    readonly registries: Map<string, ConfiguredRegistry>,
    readonly store: CacheStore | undefined,
    readonly options: CreateRegistryOptions,
    readonly logger: Logger,
    readonly now: () => number,
  ) {}

  /** Runs `work` once for every concurrent caller with the same key: N callers, one source call. */
  once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  warn(warning: RegistryWarning): void {
    this.logger.warn(warning.message, { code: warning.code, registry: warning.registry, entry: warning.entry });
    this.options.onWarning?.(warning);
  }

  async callContext(registry: ConfiguredRegistry, signal: AbortSignal | undefined, previous?: SourceRevision): Promise<SourceCallContext> {
    return {
      registry: registry.name,
      signal: signal ?? new AbortController().signal,
      logger: this.logger,
      ...(previous ? { previous } : {}),
      ...(this.store ? { workDir: await this.store.workDir(registry.key) } : {}),
    };
  }
}

export function keyFor(name: string, settings: NormalizedRegistry, source: RegistrySource): string {
  return registryKey(name, { type: settings.config.type, location: source.displayLocation, branch: settings.config.branch });
}
