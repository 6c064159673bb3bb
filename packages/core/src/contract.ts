/**
 * The `RegistrySource` contract: what a source adapter must do, and nothing more.
 *
 * Sources are thin transports. A source answers two questions: what is the current revision, and what are the bytes
 * at that revision — either the whole registry as one **snapshot** (an archive core extracts once and serves the
 * index and every entry from), or the index and each entry separately (**per entry**: `readIndex` and
 * `materialize`, which may hand back an archive for core to extract). Core owns every policy around that: config
 * validation, caching and freshness, integrity, path and archive safety, credential redaction, `verified`, and
 * loading code. A third-party source therefore stays small and is secure by default.
 */
import type { HttpResponse, TransferProgress } from './http/types.js';
import type { Logger } from './logger.js';

/**
 * The version of this contract. Version 2 added snapshots, archive answers, the raw index entry in `materialize`,
 * an always-given `workDir`, the index bytes a `revision()` may hand back, and option roles. Core still accepts
 * version 1 adapters (every v1 source is a valid v2 source that uses none of that) and refuses any other version.
 */
export const SOURCE_CONTRACT_VERSION = 2 as const;

/** Contract versions this core accepts. */
export const SUPPORTED_CONTRACT_VERSIONS: readonly number[] = [1, 2];

/** One entry of `registryConfig.registries`: the common fields of the page, plus options of the source type. */
export interface SourceConfig {
  /** Source type: `github`, `git`, `file`, `url`, `npm`, or a third-party type. */
  type: string;
  /** Where the registry lives; its meaning depends on `type` (a folder, a URL, `owner/repo`, a package name). */
  location: string;
  /** Branch, tag or commit (git, github) or dist-tag/version (npm). */
  branch?: string;
  /** Credential for private registries. Never logged, cached or shown. */
  token?: string;
  /** Marks the registry as trusted (the page's Security section). */
  verified?: boolean;
  /** How long (ms) a fetched index is used without asking the source again. */
  cacheDuration?: number;
  /** Source-specific options (declared by the adapter's `options`). */
  [option: string]: unknown;
}

/**
 * What a source declares about itself. Core acts on every flag here (version 1's `immutableRevisions`,
 * `conditionalRevision` and `partialFetch` were never read and are gone; core ignores them if a v1 adapter sets them).
 */
export interface SourceFlags {
  /**
   * The registry is already on this machine: `locate()` returns entry folders that core serves in place (checked and
   * hashed, not copied), offline mode still reads it, and its index revalidates after one second by default.
   */
  local?: boolean;
}

/** The identity of a registry's content at one point in time. */
export interface SourceRevision {
  /** Opaque id; two equal ids mean equal content. Must not contain secrets. */
  id: string;
  /** Validators the source wants back on the next `revision()` call (ETag, Last-Modified…). Never secret. */
  validators?: Record<string, string>;
}

/** What `revision()` answers: a revision, plus the bytes of `registry.json` when asking for it already fetched them. */
export interface RevisionAnswer extends SourceRevision {
  /**
   * The index at this revision, when `revision()` had to download it anyway (a static server has nothing cheaper
   * than a conditional GET of the file): core then never calls `readIndex` for it. Core keeps the bytes, not the
   * source. Never stored as part of the revision.
   */
  index?: Uint8Array | string;
}

/**
 * An archive handed to core to extract: a whole revision (`snapshot`) or one entry (`materialize`). Core extracts it
 * with its guarded extractor (no path out of the folder, no write through a link, size and entry limits), checks
 * `integrity` while the bytes stream, and keeps nothing of an archive that fails.
 */
export interface ArchiveAnswer {
  /**
   * Tar bytes, gzip-compressed or not: a response of core's HTTP client (core reads it, and starts over when the
   * connection is lost mid-body and the request may be retried), a byte stream, or the bytes.
   */
  archive: HttpResponse | AsyncIterable<Uint8Array> | Uint8Array;
  /** Leading path segments to drop from every name (1 for npm's `package/…` or GitHub's `owner-repo-sha/…`). */
  strip?: number;
  /** Only this folder of the archive (after `strip`), written relative to it: where a snapshot's `registry.json` is. */
  subdir?: string;
  /** SRI (`sha512-…`) the archive's bytes must match; a mismatch is `E_INTEGRITY` and nothing of it is kept. */
  integrity?: string;
  /** What the archive is, for messages: "the tarball of web-search@1.2.0 (https://…/web-search-1.2.0.tgz)". No secret. */
  label?: string;
}

/** What core hands a source on every call. */
export interface SourceCallContext {
  /** Name of the configured registry, for messages. */
  registry: string;
  /** Aborts the call; sources pass it to every I/O they start. */
  signal: AbortSignal;
  logger: Logger;
  /** The revision core holds from an earlier call, for conditional requests. */
  previous?: SourceRevision;
  /**
   * A directory this source may keep private data in (a bare mirror, a packument cache). Always given: inside the
   * cache, or a private temporary folder core removes on `close()` when caching is off.
   */
  workDir: string;
}

/** A request to write one entry's files into a folder that core provides. */
export interface MaterializeRequest {
  /** Entry folder, relative to the registry root, POSIX separators, already checked by core to stay inside it. */
  path: string;
  /** The entry as `registry.json` lists it (every field, including ones core does not know, such as `dist`). */
  entry: Readonly<Record<string, unknown>>;
  /** The revision the index was read at. */
  revision: SourceRevision;
  /**
   * An empty folder to fill (or leave empty and answer with an archive). Core checks, hashes and moves it into the
   * cache afterwards.
   */
  destination: string;
}

/** One configured registry, as built by an adapter. */
export interface RegistrySource {
  /** Capabilities of this source. */
  readonly flags?: SourceFlags;
  /** Where the registry lives, for provenance and messages. Must not contain a secret. */
  readonly displayLocation: string;
  /**
   * True when the source authenticates with a credential that is not in its config (a login it read from a Docker or
   * Podman auth file, a netrc): core then keeps its cached copies apart from those of the same registry read without
   * one, as it does for a configured `token`. Whether, never which.
   */
  readonly credentialed?: boolean;
  /**
   * The current revision, or `'unchanged'` when `ctx.previous` (the revision core holds) is still current, which a
   * source can often tell from its validators without downloading anything.
   */
  revision(ctx: SourceCallContext): Promise<RevisionAnswer | 'unchanged'>;
  /**
   * The whole registry at `revision` as one archive (a GitHub tarball, an npm package). Core extracts it once per
   * revision, shares it between processes, and serves `registry.json` and every entry from it; `readIndex` and
   * `materialize` are then not called. A source has either this or both of those.
   */
  snapshot?(revision: SourceRevision, ctx: SourceCallContext): Promise<ArchiveAnswer>;
  /** Per entry: the bytes of `registry.json` at `revision`. Core parses and validates them. */
  readIndex?(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array | string>;
  /**
   * Per entry: writes the entry folder `request.path` at `request.revision` into `request.destination`, or answers
   * with an archive of it that core extracts there.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a source that fills the folder returns nothing, as in version 1.
  materialize?(request: MaterializeRequest, ctx: SourceCallContext): Promise<void | ArchiveAnswer>;
  /** Local sources only (`flags.local`): the absolute folder of an entry, for serving in place. */
  locate?(path: string, revision: SourceRevision, ctx: SourceCallContext): Promise<string>;
  /** Releases connections, timers and child processes. */
  close?(): Promise<void>;
}

/** A problem an adapter found in its part of a registry's config; core turns it into `E_CONFIG`. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** What core gives an adapter when it builds a source for one configured registry. */
export interface SourceCreateContext {
  /** Name of the configured registry. */
  registry: string;
  /** Folder that relative locations are relative to: the config file's folder, else the working directory. */
  baseDir: string;
  logger: Logger;
  /** The environment the config was expanded with. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * `policy.allowHosts`, when the config sets it: every host this registry's requests go to must match. Core's HTTP
   * client from `createSourceHttpClient` enforces it on every request and redirect; a source with a transport of its
   * own checks each host it contacts with `hostAllowed` and refuses others with `E_POLICY`.
   */
  allowHosts?: readonly string[];
  /**
   * Where a source reports how its downloads are going (core's HTTP client does it when built with
   * `createSourceHttpClient`); absent when nobody listens. Optional for sources: a display without it shows less.
   */
  onProgress?: (progress: TransferProgress) => void;
}

/** A request for a package's code by name and version (npm's `package@version`). */
export interface PackageRequest {
  /** Package name, e.g. `@framers/agentos-ext-web-search`. */
  name: string;
  /** An exact version or a range. */
  version: string;
  /** An empty folder to fill with the package's files (not wrapped in `package/`). */
  destination: string;
  /**
   * Package registry settings for this fetch (`registry` URL, `token`, and other options of the package source such
   * as `npmrc`); absent fields follow the user's own config (`.npmrc`).
   */
  options?: { registry?: string; token?: string; [option: string]: unknown };
  /** The configured registry whose index listed the package, for messages. */
  registry?: string;
}

/** What a package fetch resolved to. */
export interface PackageResult {
  /** The exact version fetched. */
  version: string;
  /** The package manager's own integrity for the tarball (e.g. npm's `sha512-…`). */
  integrity: string;
  /** Where it came from (a tarball URL without credentials). */
  resolved: string;
}

/**
 * A request to install a folder's npm dependencies into its own `node_modules`, with the package manager's
 * semantics (lockfile, ranges, dedupe). Core has already written the `package.json` to install from: it holds only
 * `dependencies` and `optionalDependencies` (never the extension's scripts or dev dependencies). Peers the host
 * application provides are linked in by core afterwards; required peers it lacks are listed in `dependencies`, so
 * they are installed as npm 7+ installs missing peers.
 */
export interface InstallRequest {
  /** The folder: its `package.json` (and lockfile, if the extension ships one) say what to install. */
  dir: string;
  /**
   * Packages of the tree whose install scripts (`preinstall`, `install`, `postinstall`) may run: names, or `true` for
   * every package. Every other package is installed with its scripts off.
   */
  allowScripts: readonly string[] | true;
  /** Install from the adapter's cache only; a package that is not there is `E_NOT_CACHED`. */
  offline: boolean;
  /** Package registry settings, as for {@link PackageRequest.options}. */
  options?: { registry?: string; token?: string; [option: string]: unknown };
  /** The configured registry the extension came from, for messages. */
  registry?: string;
}

/** One package an install placed. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** Folder relative to the install folder, e.g. `node_modules/tiny-lib`. */
  path: string;
  /** The package manager's integrity of its tarball, when known. */
  integrity?: string;
}

/** What an install did. */
export interface InstallResult {
  packages: InstalledPackage[];
  /** Names of the packages whose install scripts ran (only allowed ones, and only those that have such scripts). */
  scriptsRan: string[];
  /** Names of the packages that have install scripts which did not run because they are not allowed. */
  scriptsSkipped?: string[];
}

/** A question about a package's published versions (to suggest one that exists in a message). */
export interface PackageVersionsRequest {
  /** Package name, e.g. `@framers/agentos`. */
  name: string;
  /** Package registry settings, as for {@link PackageRequest.options}. */
  options?: { registry?: string; token?: string; [option: string]: unknown };
  /** Answer from the adapter's cache only. */
  offline?: boolean;
}

/** The versions a package registry has published for one name. */
export interface PackageVersions {
  /** Every published version (not sorted). */
  versions: string[];
  /** Dist-tags, e.g. `{ latest: '0.9.164' }`. */
  distTags: Record<string, string>;
}

/** What core hands an adapter when it asks for a package's code. */
export interface PackageContext {
  signal: AbortSignal;
  logger: Logger;
  /**
   * The folder the adapter keeps its own data in (a package cache): in the cache folder, or with the cache off in the
   * registry's private temp folder that `close()` removes. Always given.
   */
  workDir: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The config file's folder (else the working directory), where a project's own package config (`.npmrc`) lives. */
  baseDir: string;
  /**
   * `policy.allowHosts`, when the config sets it: every host a package call contacts (packuments, tarball URLs they
   * name, scoped registries of `.npmrc`, redirects) must match, else `E_POLICY`.
   */
  allowHosts?: readonly string[];
}

/**
 * What an option of a source type is for, which decides what core does with it:
 * - `identity`: it changes what the registry serves (a `subdir`, a package `version`): part of the cache key;
 * - `transport`: how the source reaches its server (`proxy`, `timeouts`, a git `engine`): never in the cache key,
 *   so changing it does not start a cold cache;
 * - `secret`: a credential (`headers`, a password): never in a key, a log line or a file; its value is redacted from
 *   every message, and only whether one is set keeps cached copies apart.
 */
export type OptionRole = 'identity' | 'transport' | 'secret';

/** A source type, registered with `createRegistry(config, { sources: [adapter] })`. */
export interface SourceAdapter {
  /** The `type` string it serves. */
  readonly type: string;
  /** Other spellings of `type` that select this adapter. */
  readonly aliases?: readonly string[];
  /** Must equal `SOURCE_CONTRACT_VERSION`. */
  readonly contractVersion: typeof SOURCE_CONTRACT_VERSION | 1;
  /**
   * The options this type accepts besides the common ones, each with its role; others are refused with `E_CONFIG`.
   * A plain list of names (contract version 1) is still accepted: core's own transport options (`proxy`, `ca`,
   * `timeouts`…) are then `transport`, names that look like credentials `secret`, and every other one `identity`.
   */
  readonly options?: readonly string[] | Readonly<Record<string, OptionRole>>;
  /** Checks the config of one registry before anything runs. */
  validate?(config: SourceConfig): ConfigProblem[];
  /** Builds the source of one configured registry. */
  create(config: SourceConfig, ctx: SourceCreateContext): RegistrySource;
  /**
   * Optional: fetches a package's code by name and version, for index entries that name a `package` but ship no
   * runnable code in their folder (the real AgentOS registry works this way). The npm adapter provides it.
   */
  fetchPackage?(request: PackageRequest, ctx: PackageContext): Promise<PackageResult>;
  /**
   * Optional: installs a folder's dependencies into its `node_modules`, for extensions whose code imports npm
   * packages. The npm adapter provides it; core decides where, when, with which scripts, and links the host's peers.
   */
  installDependencies?(request: InstallRequest, ctx: PackageContext): Promise<InstallResult>;
  /**
   * Optional: the published versions and dist-tags of a package (its packument). Core uses it so that a message never
   * suggests a version the package registry does not have; `E_NOT_FOUND` when the registry has no such package.
   */
  packageVersions?(request: PackageVersionsRequest, ctx: PackageContext): Promise<PackageVersions>;
}

/** The fields every registry may carry whatever its type. */
export const COMMON_SOURCE_FIELDS = ['type', 'location', 'branch', 'token', 'verified', 'cacheDuration'] as const;

/** Identity helper that gives adapter authors type checking and fills in the contract version. */
export function defineSource(adapter: Omit<SourceAdapter, 'contractVersion'>): SourceAdapter {
  return { ...adapter, contractVersion: SOURCE_CONTRACT_VERSION };
}
