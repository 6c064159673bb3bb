import type { SourceAdapter, SourceConfig } from '@agentos-registry/core';
import type { ConformanceFixture } from './fixture.js';
import type { ConformanceTls } from './tls.js';

/** A change the kit applies to a published registry: it edits the registry folder `dir` in place. */
export type ConformanceMutation = (dir: string) => Promise<void>;

/** A fixture registry published through the source's medium. */
export interface PublishedRegistry {
  /** The registry config that reaches it (`type`, `location`, and whatever the source needs). */
  config: SourceConfig;
  /** Adapters to register with core for this registry; defaults to the harness's `adapter`. */
  sources?: SourceAdapter[];
  /** Folder that a relative `location` is relative to; defaults to the working directory. */
  baseDir?: string;
  /**
   * Applies `mutate` to the registry's folder and republishes it (commit and push, re-publish, or nothing for a
   * plain folder). When it resolves, a new `revision()` call must see the change.
   */
  update(mutate: ConformanceMutation): Promise<void>;
  /** Stops servers and removes what `setup` created (the kit removes the fixture folder itself). */
  teardown?(): Promise<void>;
}

/** How the suite reaches a source: a name for the test titles, and a way to publish the fixture registry. */
export interface SourceHarness {
  /** Shown in the suite's title, e.g. `file` or `git (smart HTTP)`. */
  name: string;
  /** The adapter(s) under test. The one whose `type` (or alias) matches the published config is checked directly. */
  adapter?: SourceAdapter | SourceAdapter[];
  /** Publishes the freshly written fixture folder through the source's medium. Called once per group of tests. */
  setup(fixture: ConformanceFixture): Promise<PublishedRegistry>;
  /**
   * Publishes the fixture like `setup`, but served over HTTPS on 127.0.0.1 (or `localhost`) with `tls.key` and
   * `tls.cert`, a certificate signed by the kit's private CA `tls.ca`; the returned config must not set `ca` itself.
   * Optional: without it (or without `openssl` on the machine) the transport checks are skipped. In-repo harnesses
   * put test-servers' `startTlsFront` in front of their plain-HTTP server; `update` is never called on it.
   */
  https?(fixture: ConformanceFixture, tls: ConformanceTls): Promise<PublishedRegistry>;
}

/** Groups of checks that a source may switch off when its medium cannot support them. */
export interface ConformanceSkips {
  /** The registry cannot be changed after `setup` (also switches off the `../` index and symlink checks). */
  mutation?: boolean;
  /** The source cannot be cancelled. */
  abort?: boolean;
  /** The medium cannot carry symlinks (npm tarballs, plain HTTP), so the escaping-symlink check cannot be published. */
  unsafePath?: boolean;
  /** The source cannot be configured with a token. */
  credentials?: boolean;
  /** The transport checks (`ca` over HTTPS); also skipped when the harness has no `https` hook. */
  tls?: boolean;
  /** The download-limit check (`limits.entry`); also skipped when the harness has no `https` hook. */
  limits?: boolean;
}

export interface ConformanceOptions {
  skip?: ConformanceSkips;
  /**
   * Fields the medium adds to every entry of the published `registry.json` (a static site made by
   * `agentos-registry pack` adds `dist`). The index check then requires them on every entry and compares the rest
   * with the fixture exactly.
   */
  indexEntryAdditions?: readonly string[];
  /** Timeout of each test in ms, passed to the runner (default 30 000); raise it for slow media. */
  timeout?: number;
}
