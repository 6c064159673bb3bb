/** Public types of the registry API: the config of the page, and what list/resolve/fetch/load return. */
import type { RegistryError } from './errors.js';
import type { SourceAdapter, SourceConfig } from './contract.js';
import type { InstallRecord } from './install-record.js';
import type { TransferProgress } from './http/types.js';
import type { LockedEntry, Lockfile } from './lockfile.js';
import type { Logger } from './logger.js';

export type { SourceConfig } from './contract.js';

/** The page's global `cacheSettings`. */
export interface CacheSettings {
  /** Keep fetched indexes and entries on disk (default true). */
  enabled?: boolean;
  /** Cache folder (default `$AGENTOS_REGISTRY_CACHE`, else `$XDG_CACHE_HOME/agentos-registry`, else `~/.cache/agentos-registry`). */
  directory?: string;
  /** Oldest cached copy (ms) served when a source is unreachable, and the age past which unused data is pruned (default 24 h). */
  maxAge?: number;
}

/** The page's `registryConfig`, accepted verbatim. */
export interface RegistryConfig {
  /** Named registries. */
  registries: Record<string, SourceConfig>;
  /** Registry name per kind (`tool`, `guardrail`, `workflow`, `persona`, or any other kind string). */
  defaultRegistries?: Record<string, string>;
  /** Picks a registry name for a kind; `null`/`undefined` falls through to `defaultRegistries`. */
  resolver?: (kind: string) => string | null | undefined;
  cacheSettings?: CacheSettings;
  /** What may be activated: `requireVerified`, `allowTypes`, `allowHosts` (see SECURITY.md); refusals are `E_POLICY`. */
  policy?: RegistryPolicy;
}

/** A warning the registry raises instead of failing (index/manifest drift, a stale copy served…). */
export interface RegistryWarning {
  /**
   * `W_STALE` (a cached copy served because the source failed), `W_VERSION_DRIFT` (index and manifest versions
   * differ), `W_MANIFEST_SYNTHESIZED` (no manifest.json), `W_PEER_MISMATCH` (a peer linked to a host copy outside the
   * declared range), `W_LOCK_DRIFT` (an entry differs from its lockfile, without `frozen`), or a code of a third-party source.
   */
  code: string;
  message: string;
  registry?: string;
  entry?: string;
}

/** What `CreateRegistryOptions.onProgress` is told: a revision check starting or ending, or a download's bytes. */
export type RegistryProgress = { type: 'revision'; registry: string; done: boolean } | ({ type: 'download' } & TransferProgress);

export interface CreateRegistryOptions {
  /** Source adapters to use; types not listed here are imported from `@agentos-registry/source-<type>` on demand. */
  sources?: SourceAdapter[];
  /**
   * Adapters by type, loaded only when the config has a registry of that type (or, for `npm`, when entry code or
   * dependencies come from npm): a host that bundles many sources pays at start-up only for those it uses.
   * `sources` wins over a loader of the same type; a loader wins over importing `@agentos-registry/source-<type>`.
   */
  sourceLoaders?: Readonly<Record<string, () => Promise<SourceAdapter>>>;
  /** Folder that relative `location`s are relative to (the config file's folder). Default: the working directory. */
  baseDir?: string;
  /** Environment for `${NAME}` expansion. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /**
   * Package registry settings used when an entry's code comes from its npm `package` (`registry` URL, `token`).
   * Default: those of the first configured `npm` registry, else the user's own npm config (`.npmrc`).
   */
  packages?: { registry?: string; token?: string };
  /** Called for every warning (also sent to `logger.warn`). */
  onWarning?: (warning: RegistryWarning) => void;
  /**
   * Told what the registry is waiting on, for progress displays (the CLI's, on a terminal): each revision check of a
   * registry's source as it starts and ends, and each download of an HTTP source (bytes so far, the announced size).
   * A listener that throws is ignored.
   */
  onProgress?: (progress: RegistryProgress) => void;
  /** Never touch a source; serve only what is cached (missing → `E_NOT_CACHED`). */
  offline?: boolean;
  /** Use any cached copy whatever its age, asking a source only when nothing is cached. */
  preferOffline?: boolean;
  /** Revalidate each index at its first use by this registry object, ignoring `cacheDuration`. */
  refresh?: boolean;
  /** Clock in ms, for tests. Default: `Date.now`. */
  now?: () => number;
  /** Values passed to `createExtensionPack` as `options`, and the `getSecret` it gets. */
  extensionContext?: Partial<ExtensionPackContextDefaults>;
  /** How `load` installs the npm dependencies of extension code. */
  dependencies?: DependencyOptions;
  /**
   * Accept a signed index past its `expires` time (a warning instead of `E_SIGNATURE`), for air-gapped sites that
   * cannot re-sign on schedule. Signatures, identity, rollback and entry hashes are still checked.
   */
  allowExpired?: boolean;
  /**
   * Folder of the highest signed index version accepted per registry (rollback protection); relative to `baseDir`.
   * Default: `<cache directory>/trust`, or the install area's `trust/` when the cache is off.
   */
  trustDirectory?: string;
  /**
   * Called with every fetched entry (extensions and personas) and its folder before its code is imported (or the
   * persona returned); may be async. Returning `false` or throwing vetoes it: `E_POLICY`, rule `onBeforeActivate`.
   */
  onBeforeActivate?: BeforeActivateHook;
  /**
   * A lockfile (as `readLockfile` gives it): each locked reference resolves to the locked registry, version and
   * content hash, is served from the cache with no network call when that content is there, and any drift is a
   * `W_LOCK_DRIFT` warning, or `E_LOCK_MISMATCH` with `frozen`. See docs/lockfile.md.
   */
  lockfile?: Lockfile;
  /** With `lockfile`: only locked references are fetched or loaded, and any drift is `E_LOCK_MISMATCH`. */
  frozen?: boolean;
}

/**
 * Installing extension dependencies. Code runs from a per-project install area, never from the download cache;
 * dependencies come from the package settings (`packages`, else the first `npm` registry, else `.npmrc`), from the
 * cache alone when `offline`.
 */
export interface DependencyOptions {
  /**
   * Packages whose install scripts (`preinstall`, `install`, `postinstall`) may run, by name, or `true` for all.
   * Default: none — every package is installed with its scripts off, like `npm install --ignore-scripts`.
   */
  allowScripts?: readonly string[] | boolean;
  /** The install area; relative to `baseDir`. Default: `<hostDir>/node_modules/.agentos-registry`. */
  directory?: string;
  /**
   * The host application's folder: peer dependencies (such as `@framers/agentos`) resolve to the copy installed
   * there, never to a second one. Default: `baseDir`, else the working directory.
   */
  hostDir?: string;
  /**
   * Refuse (`E_PEER_MISSING`) a peer the host provides in a version outside the extension's declared range, as npm's
   * ERESOLVE does. Default `false`: the host's copy is linked anyway with a `W_PEER_MISMATCH` warning, as pnpm does
   * (AgentOS packages declare stale peer ranges, and a second copy of `@framers/agentos` would break identity).
   */
  strictPeers?: boolean;
}

export interface ExtensionPackContextDefaults {
  options: Record<string, unknown>;
  getSecret: (id: string) => string | undefined;
  logger: Logger;
}

/** Where a result came from. Never contains a secret. */
export interface Provenance {
  registry: string;
  sourceType: string;
  location: string;
  revision: string;
  /** SRI hash (sha512) of the entry's files, when fetched. */
  integrity?: string;
  /** Content hash of the entry's files (`h1:…`, the same whatever the source), when fetched. See docs/lockfile.md. */
  h1?: string;
  verified: boolean;
  fromCache: boolean;
  stale: boolean;
  /** `name@version` when the entry's code came from its npm package. */
  package?: string;
}

/** One entry of a registry index, normalized from either real shape of `registry.json`. */
export interface IndexEntry {
  id: string;
  name: string;
  version: string;
  /** `extensions` or `personas`: the index section the entry is listed in. */
  section: 'extensions' | 'personas';
  /** `curated`, `community`, `templates`, or any other tier the index uses. */
  tier: string;
  /** Entry folder relative to the registry root, POSIX separators. */
  path: string;
  /** The npm package holding the entry's code, when the index names one. */
  package?: string;
  description?: string;
  /** Kinds the index says the entry provides (may be empty when the index does not say). */
  kinds: string[];
  /** The entry's own `verified` mark in the index. */
  verified?: boolean;
  /** Every field of the index entry as written, unknown ones included. */
  raw: Record<string, unknown>;
}

/** A parsed `registry.json`. */
export interface RegistryIndex {
  version?: string;
  updated?: string;
  entries: IndexEntry[];
  /** The whole document as written. */
  raw: Record<string, unknown>;
}

/** A row of `list` and `search`. */
export interface ListedEntry {
  registry: string;
  id: string;
  name: string;
  version: string;
  tier: string;
  kinds: string[];
  verified: boolean;
  description?: string;
  package?: string;
}

/** The outcome of choosing an entry for a reference. */
export interface ResolvedEntry {
  registry: string;
  entry: IndexEntry;
  provenance: Provenance;
}

/** An extension manifest as read from `manifest.json` (unknown fields kept). */
export interface ExtensionManifest {
  id?: string;
  name: string;
  version: string;
  description?: string;
  extensions?: Array<{ kind: string; id: string; displayName?: string; entry?: string; [field: string]: unknown }>;
  entry?: string;
  entryPoint?: string;
  kind?: string;
  [field: string]: unknown;
}

/** An entry's files on disk. */
export interface FetchedEntry {
  registry: string;
  id: string;
  version: string;
  /** Folder holding the entry's files. Treat it as read-only. */
  dir: string;
  revision: string;
  integrity: string;
  /**
   * Content hash of the files in `dir`: Go's dirhash `h1:` (recomputable with coreutils), plus a `;modes:` suffix when
   * the tree holds an executable file or a symlink. Equal for the same files from any source. See docs/lockfile.md.
   */
  h1: string;
  fromCache: boolean;
  stale: boolean;
  /** The manifest (`manifest.json`, or one built from the index entry and `package.json` when the folder has none). */
  manifest: ExtensionManifest;
  /** True when `manifest` was built because the folder has no `manifest.json`. */
  manifestSynthesized: boolean;
  /** `registry`: the entry's registry folder; `package`: its npm package (then `integrity` is npm's). */
  from: 'registry' | 'package';
  entry: IndexEntry;
  provenance: Provenance;
  warnings: RegistryWarning[];
}

/** What `info` returns. */
export interface EntryInfo {
  registry: string;
  id: string;
  version: string;
  manifest: ExtensionManifest;
  entry: IndexEntry;
  provenance: Provenance;
  warnings: RegistryWarning[];
  /** How the registry's index was authenticated, and for a signed one the entry's checked h1. */
  signature: SignatureStatus;
}

/** How the index an entry came from was authenticated (see SECURITY.md, "Signed indexes and `verified`"). */
export type SignatureStatus =
  | {
      /** The registry has `publicKeys`, and its index passed every signature check. */
      mode: 'signed';
      /** The registry identity the index is signed for. */
      identity: string;
      /** The signed, monotonic version. */
      version: number;
      /** ISO time the signature stops being accepted. */
      expires: string;
      /** Past `expires`, and served only because the host set `allowExpired`. */
      expired: boolean;
      /** The configured keys whose signatures were valid. */
      keyIds: string[];
      /** How many of them the config requires. */
      threshold: number;
      /** The entry's folder, its signed h1, and whether the files served were checked against it (false when the code is the entry's npm package). */
      entry: { path: string; h1: string; checked: boolean };
    }
  | {
      /** `trusted-transport`: `verified` without `publicKeys` (HTTPS, SSH, a local path or loopback); `unsigned`: neither. */
      mode: 'trusted-transport' | 'unsigned';
      /** The index carries a `signed` block, which nothing checked: the registry has no `publicKeys`. */
      indexSigned: boolean;
    };

/** An AgentOS extension descriptor, structurally (no dependency on `@framers/agentos`). */
export interface ExtensionDescriptor {
  id: string;
  kind: string;
  /** What the runtime consumes (a tool object, a guardrail service, a workflow…). */
  payload: unknown;
  priority?: number;
  enableByDefault?: boolean;
  metadata?: Record<string, unknown>;
  /** Where the descriptor came from; `toExtensionManifest` fills it in. */
  source?: { sourceName: string; sourceVersion?: string; identifier?: string };
  [field: string]: unknown;
}

/** An AgentOS extension pack, structurally. */
export interface ExtensionPack {
  name: string;
  version?: string;
  descriptors: ExtensionDescriptor[];
  [field: string]: unknown;
}

/** The context AgentOS's ExtensionManager passes to `createExtensionPack`. */
export interface ExtensionPackContext {
  options: Record<string, unknown>;
  getSecret: (id: string) => string | undefined;
  logger: Logger;
  manifestEntry: { identifier: string; options: Record<string, unknown>; [field: string]: unknown };
}

/** An AgentOS persona definition (required fields checked, the rest kept). */
export interface PersonaDefinition {
  id: string;
  name: string;
  version: string;
  baseSystemPrompt: string;
  [field: string]: unknown;
}

export interface LoadedExtension {
  type: 'extension';
  pack: ExtensionPack;
  fetched: FetchedEntry;
  /** The imported ES module. Loading the same entry again gives this same object (Node's module cache). */
  module: Record<string, unknown>;
  /** The file the module was imported from: in the entry's cached folder, or in its install folder when it has dependencies. */
  entryFile: string;
  /** What was installed for it (dependencies, linked host peers, scripts that ran); absent for an entry that needs nothing. */
  install?: InstallRecord;
  /** The secrets its manifest declares as required, and whether this load provided each; absent when it declares none. */
  secrets?: ExtensionSecretStatus[];
}

/** A required secret of an extension and whether its load had it (from `options.secrets` or `getSecret`). Never its value. */
export interface ExtensionSecretStatus {
  id: string;
  provided: boolean;
}

export interface LoadedPersona {
  type: 'persona';
  persona: PersonaDefinition;
  fetched: FetchedEntry;
}

/**
 * What `load(kind, …)` answers: a persona for `persona`, an extension for every other literal kind, and either one
 * when the kind is only known as a `string`.
 */
export type LoadResult<K extends string> = string extends K ? LoadedExtension | LoadedPersona : K extends 'persona' ? LoadedPersona : LoadedExtension;

/** Per-call options of resolve/fetch/load. */
export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Where an entry's files come from: `registry` (its registry folder; the default of `fetch`), `package` (its npm
   * `package` at the entry's version), or `auto` (the folder when it holds runnable code, else the package; the
   * default of `load`).
   */
  code?: 'registry' | 'package' | 'auto';
  /** Options handed to `createExtensionPack` (load only). */
  options?: Record<string, unknown>;
  /** Revalidate the indexes this call reads now, ignoring `cacheDuration` (one cheap revision check each). */
  refresh?: boolean;
}

/** What `update` did for one registry. */
export interface RegistryUpdate {
  registry: string;
  /** `unchanged`: the source confirmed the cached revision; `updated`: a new revision (or the first) was read; `failed`: see `error`. */
  status: 'unchanged' | 'updated' | 'failed';
  /** The revision now cached (absent when failed). */
  revision?: string;
  /** The revision cached before, when there was one. */
  previous?: string;
  error?: RegistryError;
}

/** Narrows `list` and `search`. */
export interface ListFilter {
  /** Only the registry chosen for this kind, and only entries that can provide it (`persona` → the personas section). */
  kind?: string;
  /** Only this configured registry. */
  registry?: string;
}

/** The object `createRegistry` returns. */
export interface Registry {
  /** Names of the configured registries. */
  readonly registryNames: readonly string[];
  /** The registry used for a kind: `resolver(kind)` → `defaultRegistries[kind]` → `default` → the only registry, when there is one and no `defaultRegistries` → `E_NO_REGISTRY_FOR_KIND`. */
  registryFor(kind: string): string;
  /** Entries of every registry (or of the filtered ones), curated tiers first. */
  list(filter?: ListFilter, options?: CallOptions): Promise<ListedEntry[]>;
  /** Entries whose id, name, package, description or keywords contain `text` (case-insensitive). */
  search(text: string, filter?: ListFilter, options?: CallOptions): Promise<ListedEntry[]>;
  /**
   * Revalidates every configured registry (or the named ones) now, like `helm repo update`: one revision check each,
   * ignoring `cacheDuration`, and the index downloaded when it changed. A registry that fails is reported, not thrown.
   */
  update(names?: readonly string[], options?: Pick<CallOptions, 'signal'>): Promise<RegistryUpdate[]>;
  /** Picks the entry for a reference: `id`, `id@1.2.0`, `id@^1.2`, `registry:id@range`, or an npm package name. */
  resolve(kind: string, ref: string, options?: CallOptions): Promise<ResolvedEntry>;
  /** The entry with its manifest, and warnings such as index/manifest version drift. */
  info(kind: string, ref: string, options?: CallOptions): Promise<EntryInfo>;
  /** The entry's files on disk, with integrity and provenance. */
  fetch(kind: string, ref: string, options?: CallOptions): Promise<FetchedEntry>;
  /**
   * What a lockfile records for a reference: the entry fetched (its code's npm package, for an entry whose code is
   * one), and for extension code with dependencies those installed and the peers taken from the host. Installs but
   * never imports the code. Checked against the registry's own lockfile, if it has one, like `fetch`.
   */
  lock(kind: string, ref: string, options?: CallOptions): Promise<LockedEntry>;
  /**
   * For `persona`, the persona definition; for any other kind, the extension pack built by its `createExtensionPack`
   * (an id that names a persona is then `E_NOT_FOUND`, saying to load it as a persona).
   */
  load<K extends string>(kind: K, ref: string, options?: CallOptions): Promise<LoadResult<K>>;
  /** Releases every source. */
  close(): Promise<void>;
}

/** `registryConfig.policy`. */
export interface RegistryPolicy {
  /**
   * Refuse to load from a registry whose results are not verified (`provenance.verified` false): `true` for every kind
   * (personas included), or the kinds it applies to (`'persona'` for personas).
   */
  requireVerified?: true | readonly string[];
  /** Source types registries may use (`file`, `url`, `git`, `github`, `npm`, …); also governs entry code from npm (`npm`). */
  allowTypes?: readonly string[];
  /**
   * Hosts registries and the package registry may be on: `example.com` (any port), `example.com:8443`, or
   * `*.example.com` (its subdomains). Loopback is a host like any other (`127.0.0.1`, `localhost`, `[::1]`); local
   * folders have no host and are judged by `allowTypes` alone.
   */
  allowHosts?: readonly string[];
}

/** What `onBeforeActivate` is told besides the entry and its folder. */
export interface ActivationContext {
  /** The kind asked for (`'persona'` for personas). */
  kind: string;
}

/**
 * Called for every fetched entry (extensions and personas) before its code is imported or the persona is returned;
 * may be async. Veto by returning `false` or by throwing: `load` then fails with `E_POLICY` (rule `onBeforeActivate`),
 * the thrown message included, redacted.
 */
export type BeforeActivateHook = (entry: FetchedEntry, dir: string, context: ActivationContext) => unknown;
