export { createRegistry } from './registry.js';
export { loadConfigFile, type LoadedConfigFile } from './config-file.js';
export {
  COMMON_SOURCE_FIELDS,
  defineSource,
  SOURCE_CONTRACT_VERSION,
  SUPPORTED_CONTRACT_VERSIONS,
  type ArchiveAnswer,
  type ConfigProblem,
  type InstalledPackage,
  type InstallRequest,
  type InstallResult,
  type MaterializeRequest,
  type OptionRole,
  type PackageContext,
  type PackageRequest,
  type PackageResult,
  type PackageVersions,
  type PackageVersionsRequest,
  type RegistrySource,
  type RevisionAnswer,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceFlags,
  type SourceRevision,
} from './contract.js';
export { ERROR_CODES, type ErrorCode, isRegistryError, redact, registerSecret, RegistryError, type RegistryErrorOptions } from './errors.js';
export { consoleLogger, type Logger, silentLogger } from './logger.js';
export type { PolicyRule } from './policy.js';
export { hostAllowed } from './host-rules.js';
export { DEFAULT_CACHE_DURATION, DEFAULT_MAX_AGE, defaultCacheDirectory, expandEnv, type NormalizedCacheSettings, resolveCacheSettings } from './config.js';
export { type CacheSummaryRow, CacheStore, type CacheUsage, type ContentMeta, type EntryRef, type IndexRecord, treeBytes } from './cache-store.js';
export { packageForType } from './adapters.js';
export { parseRegistryIndex, tierRank } from './index-format.js';
export { normalizeRelativePath, safeJoin } from './paths.js';
export { type EntryReference, formatReference, parseReference } from './reference.js';
export { jsonSchemas, type RegistrySchemas, registrySchemas } from './schema.js';
export { copyDirectory, hashDirectory, scanTree, type TreeScan } from './tree.js';
export { type TreeFileOptions, TreeWriter, type TreeWriteResult, type TreeWriterOptions } from './tree-writer.js';
export { DEFAULT_MAX_FILE_BYTES, type InsideOptions, openRegularFile, readFileInside, realPathInside, writeFileInside } from './entry-files.js';
export { readSource, SourceReader } from './snapshots.js';
export { DEFAULT_ARCHIVE_LIMITS, type ExtractOptions, type ExtractResult, extractTarball } from './archive.js';
export { createDeterministicTarball, DETERMINISTIC_MTIME, type DeterministicTarballOptions } from './archive-pack.js';
export { type PackedEntry, type PackOptions, type PackResult, packRegistry } from './site-pack.js';
export {
  abortableSleep,
  createHttpClient,
  createSourceHttpClient,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_HTTP_RETRIES,
  DEFAULT_HTTP_TIMEOUTS,
  type FetchOptions,
  HTTP_SOURCE_OPTIONS,
  HTTP_SOURCE_OPTION_ROLES,
  httpClientOptionsOf,
  type HttpClient,
  type HttpClientOptions,
  type HttpCredentials,
  type HttpLimits,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpSourceOptions,
  type HttpTimeouts,
  isLoopbackHost,
  isRetryableResponse,
  MAX_REDIRECTS,
  malformedAnswerError,
  matchesNoProxy,
  parseRetryAfter,
  readCertificates,
  registerCredential,
  type FailedAnswer,
  type RetryCandidate,
  type StatusWording,
  statusError,
  type TransferProgress,
  type TransferPurpose,
  validateHttpSourceOptions,
} from './http/index.js';
export { type CheckedStream, checkedStream, integrityOf, matchesIntegrity, type ParsedIntegrity, parseIntegrity } from './integrity.js';
export type * from './types.js';
export {
  type AgentOSExtensionManifest,
  type AgentOSPackEntry,
  type AgentOSPersonaLoader,
  createPersonaLoader,
  type ManifestRef,
  stampPack,
  type ToExtensionManifestOptions,
  toExtensionManifest,
} from './agentos.js';
export {
  abortError,
  isNetworkErrorCode,
  isUntrustedCertificateCode,
  type MissingScope,
  missingEntryFolderError,
  missingIndexError,
  throwIfAborted,
  untilAborted,
  untrustedCertificateAdvice,
} from './source-errors.js';
export { removeInside, replaceFolderInside, withTempFolder, type WorkDirOptions, withWorkLock } from './work-dir.js';
export { INSTALL_RECORD, type InstallRecord } from './install-record.js';
export { highestSatisfying } from './peer-advice.js';
export { loadPersona, parseSoul, type SoulDocument } from './persona.js';
export { h1OfFileHashes, hashDirectoryH1, scanTreeH1 } from './dirhash.js';
export {
  canonicalJson,
  generateKeyPair,
  type IndexSignature,
  keyIdOf,
  parseDuration,
  parsePublicKey,
  type RegistryTrust,
  type SignedBlock,
  type SigningKey,
  trustedKey,
  type TrustedKey,
  inspectSignedIndex,
  type SignedIndexParts,
  signedMessage,
  signRegistry,
  type SignRegistryOptions,
  type SignRegistryResult,
  type VerifiedIndex,
  verifyIndex,
} from './signing.js';
// For the CLI (issue 16): validate's checks, run as hosts run them without fetching, and the unknown-kind hint.
export { type PackageJson, readEntryManifest, type ReadManifestResult } from './manifest.js';
export { entryModuleOf } from './loader.js';
export { isSemverVersion } from './versions.js';
export { unknownKindHint } from './select.js';
// ── lockfile and content hash (issue 15) ──
export { CONTENT_HASH, contentHashOf, scanTreeContentHash } from './dirhash.js';
export type { LockSettings } from './config-file.js';
export {
  emptyLockfile,
  findLocked,
  type LockDrift,
  type LockedEntry,
  type LockedPackage,
  type Lockfile,
  LOCKFILE_NAME,
  lockDrift,
  lockLocation,
  parseLockfile,
  readLockfile,
  serializeLockfile,
  withLocked,
  writeLockfile,
} from './lockfile.js';
export {
  MIRROR_MANIFEST,
  MIRROR_SUMS,
  type MirroredEntry,
  type MirroredRegistry,
  type MirrorManifest,
  type MirrorOptions,
  type MirrorProblem,
  type MirrorResult,
  mirrorRegistries,
  verifyMirror,
} from './mirror.js';
