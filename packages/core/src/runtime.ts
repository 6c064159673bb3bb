/** What the registry's services share: configured sources, the cache store, the clock, logging and de-duplication. */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedConfig, NormalizedRegistry } from './config.js';
import type { OptionRole, PackageContext, RegistrySource, SourceCallContext, SourceRevision } from './contract.js';
import type { CacheStore } from './cache-store.js';
import { registryKey } from './cache-store.js';
import { RegistryError } from './errors.js';
import type { Logger } from './logger.js';
import { SourceReader } from './snapshots.js';
import type { CreateRegistryOptions, RegistryWarning } from './types.js';

/** Cache key under which package code is stored: packages are immutable per version, whatever registry listed them. */
export const PACKAGES_KEY = registryKey('_packages', { type: 'package', location: 'packages' });

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
  private scratch: Promise<string> | undefined;
  private closed = false;
  private readonly readers = new Map<string, SourceReader>();

  constructor(
    readonly config: NormalizedConfig,
    readonly registries: Map<string, ConfiguredRegistry>,
    readonly store: CacheStore | undefined,
    readonly options: CreateRegistryOptions,
    readonly logger: Logger,
    readonly now: () => number,
  ) {}

  /** Reads a registry's source whatever its shape (snapshot or per entry); one per registry, so snapshots are shared. */
  reader(registry: ConfiguredRegistry): SourceReader {
    const known = this.readers.get(registry.name);
    if (known) return known;
    const reader = new SourceReader(registry);
    this.readers.set(registry.name, reader);
    return reader;
  }

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
    return join(await this.scratchDir(), `${label}-${randomBytes(6).toString('hex')}`);
  }

  /** One private temp folder per registry object, made on first use (concurrent first uses share it). */
  private scratchDir(): Promise<string> {
    this.assertOpen();
    this.scratch ??= mkdtemp(join(tmpdir(), 'agentos-registry-'));
    return this.scratch;
  }

  /**
   * Refuses work once `close()` has run: its sources are closed and, with the cache off, its temp folder is gone, so a
   * late call would otherwise leave a new temp folder that nothing removes.
   */
  assertOpen(): void {
    if (this.closed) {
      throw new RegistryError('E_USAGE', 'This registry has been closed (registry.close()); create a new one with createRegistry() to keep using it.');
    }
  }

  /** Removes the private temp folder (only used with the cache off); later calls get `E_USAGE`. */
  async close(): Promise<void> {
    this.closed = true;
    const scratch = this.scratch;
    this.scratch = undefined;
    if (scratch) await rm(await scratch, { recursive: true, force: true });
  }

  warn(warning: RegistryWarning): void {
    this.logger.warn(warning.message, { code: warning.code, registry: warning.registry, entry: warning.entry });
    this.options.onWarning?.(warning);
  }

  /**
   * The private folder of a registry's source: in the cache, or with the cache off inside the private temp folder
   * `close()` removes (so a source never needs a fallback of its own, and nothing it keeps outlives the registry).
   */
  async workDir(key: string): Promise<string> {
    if (this.store) return this.store.workDir(key);
    const dir = join(await this.scratchDir(), 'work', key.replace(/[^A-Za-z0-9_-]/g, '_'));
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Runs a revision check of `registry`'s source, telling `onProgress` (if any) when it starts and ends. */
  async checking<T>(registry: string, check: () => Promise<T>): Promise<T> {
    const listener = this.options.onProgress;
    const tell = (done: boolean) => {
      try {
        listener?.({ type: 'revision', registry, done });
      } catch {
        // A display that fails is no reason to fail the check.
      }
    };
    tell(false);
    try {
      return await check();
    } finally {
      tell(true);
    }
  }

  async callContext(registry: ConfiguredRegistry, signal: AbortSignal | undefined, previous?: SourceRevision): Promise<SourceCallContext> {
    this.assertOpen();
    return {
      registry: registry.name,
      signal: signal ?? new AbortController().signal,
      logger: this.logger,
      ...(previous ? { previous } : {}),
      workDir: await this.workDir(registry.key),
    };
  }

  /** What a package call (fetch, install, versions) gets: its work folder is the package store's, always given. */
  async packageContext(signal: AbortSignal | undefined): Promise<PackageContext> {
    return {
      signal: signal ?? new AbortController().signal,
      logger: this.logger,
      env: this.options.env ?? process.env,
      baseDir: this.options.baseDir ?? process.cwd(),
      workDir: await this.workDir(PACKAGES_KEY),
      ...(this.config.policy?.allowHosts ? { allowHosts: this.config.policy.allowHosts } : {}),
    };
  }
}

/**
 * What core checks an index against, not what the registry serves: a key rotation must not start a cold cache, nor
 * reset the highest signed version kept under the same key (that would reopen rollback).
 */
const TRUST_FIELDS = new Set(['publicKeys', 'threshold', 'identity']);

/**
 * The cache key of a configured registry: its name, type, public location, branch and the other options that can
 * change what it serves (a `version`, a `subdir`, a package `registry`…), never a credential.
 */
export function keyFor(name: string, settings: NormalizedRegistry, source: RegistrySource, roles: ReadonlyMap<string, OptionRole> = new Map()): string {
  const { type, location: _location, branch, verified: _verified, cacheDuration: _duration, token, ...rest } = settings.config;
  // Only what the adapter calls identity (an undeclared field is refused before this); core names no source option.
  // The role alone decides (a v1 plain list already maps credential-like names to `secret`, see optionRoles).
  const options = Object.fromEntries(Object.entries(rest).filter(([field]) => roles.get(field) === 'identity' && !TRUST_FIELDS.has(field)));
  // Whether credentials are configured, or found by the source itself (never which): what was read with a token is not
  // served, from the cache, to a config of the same registry without one — that config must ask the server, which may
  // refuse it.
  const set = (value: unknown) => (typeof value === 'string' && value !== '') || (typeof value === 'object' && value !== null && Object.keys(value).length > 0);
  const credentials = set(token) || Object.entries(rest).some(([field, value]) => roles.get(field) === 'secret' && set(value)) || source.credentialed === true;
  return registryKey(name, { type, location: source.displayLocation, branch, options, ...(credentials ? { credentials: true } : {}) });
}
