/** What the registry's services share: configured sources, the cache store, the clock, logging and de-duplication. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  private scratch: string | undefined;

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

  /**
   * A fresh path for a partial write: inside the cache (so the final rename is atomic) or, with the cache off, in a
   * private temp folder that `close()` removes, since nothing may then go to the cache folder.
   */
  async tempPath(label: string): Promise<string> {
    if (this.store) return this.store.tempPath(label);
    this.scratch ??= await mkdtemp(join(tmpdir(), 'agentos-registry-'));
    return join(this.scratch, `${label}-${randomBytes(6).toString('hex')}`);
  }

  /** Removes the private temp folder (only used with the cache off). */
  async close(): Promise<void> {
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
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

/** Fields never hashed into a cache key, even though the key is a hash: credentials stay out of everything on disk. */
const SECRET_FIELD = /token|password|secret|auth|headers|credential/i;

/** How a source talks to its server, not what it serves: changing these must not start a cold cache. */
const TRANSPORT_FIELDS = new Set(['proxy', 'ca', 'allowInsecure', 'timeouts', 'retries', 'limits', 'engine', 'mode', 'depth', 'sparse', 'userAgent']);

/**
 * What core checks an index against, not what the registry serves: a key rotation must not start a cold cache, nor
 * reset the highest signed version kept under the same key (that would reopen rollback).
 */
const TRUST_FIELDS = new Set(['publicKeys', 'threshold', 'identity']);

/**
 * The cache key of a configured registry: its name, type, public location, branch and the other options that can
 * change what it serves (a `version`, a `subdir`, a package `registry`…), never a credential.
 */
export function keyFor(name: string, settings: NormalizedRegistry, source: RegistrySource): string {
  const { type, location: _location, branch, verified: _verified, cacheDuration: _duration, ...rest } = settings.config;
  const options = Object.fromEntries(Object.entries(rest).filter(([field]) => !SECRET_FIELD.test(field) && !TRANSPORT_FIELDS.has(field) && !TRUST_FIELDS.has(field)));
  // Whether credentials are configured (never which): what was read with a token is not served, from the cache, to a
  // config of the same registry without one — that config must ask the server, which may refuse it.
  const credentials = Object.entries(settings.config).some(
    ([field, value]) => SECRET_FIELD.test(field) && ((typeof value === 'string' && value !== '') || (typeof value === 'object' && value !== null && Object.keys(value).length > 0)),
  );
  return registryKey(name, { type, location: source.displayLocation, branch, options, ...(credentials ? { credentials: true } : {}) });
}
