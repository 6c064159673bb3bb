import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRegistry,
  type Logger,
  type MaterializeRequest,
  readSource,
  type Registry,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceRevision,
  silentLogger,
} from '@agentos-registry/core';

/**
 * A source as the checks call it: the adapter's own object for `revision`, `flags`, `locate`, and core's reader for
 * the index and entries, so a snapshot source and a per-entry one are checked alike (core extracts a snapshot or an
 * archive answer exactly as it does in a registry).
 */
export interface CheckedSource extends RegistrySource {
  readIndex(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array | string>;
  materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<void>;
  /** The object the adapter built. */
  readonly built: RegistrySource;
}
import { type ConformanceFixture, writeConformanceFixture } from './fixture.js';
import type { PublishedRegistry, SourceHarness } from './harness.js';
import { type ConformanceTls, makeConformanceCertificates } from './tls.js';

/** Name of the registry the suite configures; it shows in error messages. */
export const CONFORMANCE_REGISTRY = 'conformance';

/**
 * The token the credentials checks configure when the harness's config has none. A harness whose server checks
 * tokens can make it accept this value, or set its own `config.token`, which the checks then use instead.
 */
export const CONFORMANCE_TOKEN = 'agentos-conformance-secret-7c1e94b05d2a';

/**
 * One published copy of the fixture registry and everything made around it (temp folders, registries, sources),
 * so that a check can be run against a registry nobody else changes and everything is cleaned up afterwards.
 */
export class ConformanceSession {
  private readonly registries: Registry[] = [];
  private readonly sources: RegistrySource[] = [];
  private reference: Promise<string> | undefined;

  private constructor(
    /** Private temp folder of this session; every other folder it makes is inside. */
    readonly root: string,
    readonly fixture: ConformanceFixture,
    readonly published: PublishedRegistry,
    private readonly harness: SourceHarness,
    /** The private CA and server certificate, when the registry was published over HTTPS. */
    readonly tls?: ConformanceTls,
  ) {}

  /**
   * Writes a fresh fixture and has the harness publish it: with `setup`, or with `https` (`over: 'https'`) behind a
   * certificate the kit makes for this session.
   */
  static async start(harness: SourceHarness, over: 'setup' | 'https' = 'setup'): Promise<ConformanceSession> {
    const root = await mkdtemp(join(tmpdir(), 'agentos-conformance-'));
    try {
      const fixture = await writeConformanceFixture(join(root, 'fixture'));
      if (over === 'https') {
        if (!harness.https) throw new Error(`Harness '${harness.name}' has no \`https\` hook.`);
        const tls = await makeConformanceCertificates(join(root, 'tls'));
        return new ConformanceSession(root, fixture, await harness.https(fixture, tls), harness, tls);
      }
      const published = await harness.setup(fixture);
      return new ConformanceSession(root, fixture, published, harness);
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** A pristine copy of the fixture that nothing publishes or mutates, to compare fetched folders against. */
  referenceDir(): Promise<string> {
    this.reference ??= writeConformanceFixture(join(this.root, 'reference')).then((fixture) => fixture.dir);
    return this.reference;
  }

  /** A new empty folder inside the session's temp folder. */
  tempDir(label: string): Promise<string> {
    return mkdtemp(join(this.root, `${label}-`));
  }

  /** The adapters registered with core: the published registry's, else the harness's. */
  adapters(): SourceAdapter[] {
    const given = this.published.sources ?? this.harness.adapter ?? [];
    return Array.isArray(given) ? given : [given];
  }

  /** The adapter serving the published config's `type`, for the checks that call a source directly. */
  adapter(): SourceAdapter {
    const type = this.published.config.type;
    const found = this.adapters().find((adapter) => adapter.type === type || adapter.aliases?.includes(type));
    if (!found) {
      throw new Error(
        `Harness '${this.harness.name}' gives no adapter for type '${type}': set \`adapter\` on the harness or \`sources\` in what setup returns.`,
      );
    }
    return found;
  }

  /** The published config, with a token when one is asked for. */
  config(token?: string): SourceConfig {
    return token === undefined ? { ...this.published.config } : { ...this.published.config, token };
  }

  /** Folder that a relative `location` or `ca` is relative to: the published registry's, else the working directory. */
  baseDir(): string {
    return this.published.baseDir ?? process.cwd();
  }

  /**
   * A registry through core with only the published registry, a private cache folder (`cacheDir`, or a new one), and
   * the harness's adapters. `extra` adds fields to the published config (the transport checks' `ca`).
   */
  async registry(options: { token?: string; logger?: Logger; extra?: SourceConfig | Record<string, unknown>; cacheDir?: string } = {}): Promise<Registry> {
    const registry = await createRegistry(
      {
        registries: { [CONFORMANCE_REGISTRY]: { ...this.config(options.token), ...options.extra } },
        defaultRegistries: { tool: CONFORMANCE_REGISTRY, persona: CONFORMANCE_REGISTRY },
        cacheSettings: { enabled: true, directory: options.cacheDir ?? (await this.tempDir('cache')) },
      },
      {
        sources: this.adapters(),
        baseDir: this.baseDir(),
        // The variable would override the private cache folder and let runs see each other's entries.
        env: { ...process.env, AGENTOS_REGISTRY_CACHE: undefined },
        logger: options.logger ?? silentLogger,
      },
    );
    this.registries.push(registry);
    return registry;
  }

  /** The source instance built by the adapter itself, bypassing core's registry, for the checks on the contract. */
  source(options: { token?: string; logger?: Logger } = {}): CheckedSource {
    const built = this.adapter().create(this.config(options.token), {
      registry: CONFORMANCE_REGISTRY,
      baseDir: this.baseDir(),
      logger: options.logger ?? silentLogger,
      env: process.env,
    });
    this.sources.push(built);
    const reader = readSource(built, CONFORMANCE_REGISTRY);
    return {
      built,
      displayLocation: built.displayLocation,
      ...(built.flags ? { flags: built.flags } : {}),
      revision: (ctx) => built.revision(ctx),
      readIndex: (revision, ctx) => reader.readIndex(revision, ctx),
      materialize: (request, ctx) => reader.materialize(request, ctx),
      ...(built.locate ? { locate: built.locate.bind(built) } : {}),
    };
  }

  /** What core would hand a source on a call. */
  async callContext(options: { signal?: AbortSignal; logger?: Logger } = {}): Promise<SourceCallContext> {
    return {
      registry: CONFORMANCE_REGISTRY,
      signal: options.signal ?? new AbortController().signal,
      logger: options.logger ?? silentLogger,
      workDir: await this.tempDir('work'),
    };
  }

  /** Closes every registry and source, tears the harness down, and removes the temp folder. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.registries.map((r) => r.close()), ...this.sources.map((s) => s.close?.())]);
    try {
      await this.published.teardown?.();
    } finally {
      await rm(this.root, { recursive: true, force: true });
    }
  }
}
