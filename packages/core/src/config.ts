/**
 * Normalizing the page's `registryConfig`: validate every field up front (so a typo fails at start-up, not on the
 * first request), expand `${NAME}` from the environment, and register tokens with the redactor.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMON_SOURCE_FIELDS, type SourceConfig } from './contract.js';
import { RegistryError, registerSecret } from './errors.js';
import { isLoopbackHost } from './http/loopback.js';
import { type NormalizedPolicy, normalizePolicy } from './policy.js';
import { parsePublicKey, type RegistryTrust, type TrustedKey, trustedKey } from './signing.js';
import type { CacheSettings, RegistryConfig } from './types.js';

export const DEFAULT_CACHE_DURATION = 60 * 60 * 1000;
export const DEFAULT_MAX_AGE = 24 * 60 * 60 * 1000;

export interface NormalizedCacheSettings {
  enabled: boolean;
  directory: string;
  maxAge: number;
  /** What chose `directory`, so that a message about an unusable folder names the setting to change. */
  setBy: CacheDirectorySetting;
}

/** Where a cache folder comes from: the config field, the environment variable that overrides it, or the default. */
export type CacheDirectorySetting = 'cacheSettings.directory' | 'AGENTOS_REGISTRY_CACHE' | 'default';

export interface NormalizedRegistry {
  name: string;
  config: SourceConfig;
  cacheDuration: number;
  verified: boolean;
  /** Set when the registry has `publicKeys`: its index must be signed by `threshold` of them. */
  trust?: RegistryTrust;
}

/** Fields of every registry that concern signatures (issue 14); core reads them, sources never see a use for them. */
export const TRUST_FIELDS = ['publicKeys', 'threshold', 'identity'] as const;

/** Validates `publicKeys`, `threshold` and `identity` of one registry. */
function normalizeTrust(name: string, config: Record<string, unknown>): RegistryTrust | undefined {
  const at = (field: string) => `registries.${name}.${field}`;
  const { publicKeys, threshold, identity } = config;
  if (identity !== undefined && (typeof identity !== 'string' || identity.trim() === '')) {
    throw configError(`${at('identity')} must be the name the registry is signed for (a non-empty string).`, name, at('identity'));
  }
  if (publicKeys === undefined) {
    if (threshold !== undefined)
      throw configError(`${at('threshold')} needs ${at('publicKeys')}: a threshold counts signatures by those keys.`, name, at('threshold'));
    if (identity !== undefined) throw configError(`${at('identity')} needs ${at('publicKeys')}: it names what the index is signed for.`, name, at('identity'));
    return undefined;
  }
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) {
    throw configError(
      `${at('publicKeys')} must be a list of { id, key } (key: the base64 Ed25519 public key "agentos-registry keygen" prints), with at least one key.`,
      name,
      at('publicKeys'),
    );
  }
  const keys: TrustedKey[] = [];
  const ids = new Set<string>();
  publicKeys.forEach((raw: unknown, i) => {
    const where = `publicKeys[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(`${at(where)} must be an object { id, key }.`, name, at(where));
    const { id, key, ...other } = raw as Record<string, unknown>;
    const extra = Object.keys(other)[0];
    if (extra !== undefined) throw configError(`${at(`${where}.${extra}`)} is not a field of a public key (id, key).`, name, at(`${where}.${extra}`));
    if (typeof id !== 'string' || id === '')
      throw configError(`${at(`${where}.id`)} must be the key id signatures name (a non-empty string).`, name, at(`${where}.id`));
    if (ids.has(id)) throw configError(`${at(`${where}.id`)} repeats the key id "${id}"; each key needs its own id.`, name, at(`${where}.id`));
    ids.add(id);
    if (typeof key !== 'string')
      throw configError(`${at(`${where}.key`)} must be a string: base64 of the raw Ed25519 public key, or a PEM public key.`, name, at(`${where}.key`));
    let parsed: ReturnType<typeof parsePublicKey>;
    try {
      parsed = parsePublicKey(key);
    } catch (error) {
      throw configError(`${at(`${where}.key`)} is not an Ed25519 public key (${(error as Error).message}).`, name, at(`${where}.key`));
    }
    keys.push(trustedKey(parsed, id));
  });
  const distinct = new Set(keys.map((k) => k.fingerprint)).size;
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isSafeInteger(threshold) && threshold >= 1 && threshold <= distinct)) {
    throw configError(`${at('threshold')} must be a whole number from 1 to ${distinct} (the number of distinct publicKeys).`, name, at('threshold'));
  }
  return { identity: (identity as string | undefined) ?? name, keys, threshold: (threshold as number | undefined) ?? 1 };
}

/** URL schemes whose transport authenticates the server. `http:` and `ws:` count only on loopback. */
const AUTHENTICATED_SCHEMES = new Set(['https:', 'wss:', 'ssh:', 'git+ssh:', 'ssh+git:', 'file:']);

/**
 * `verified: true` without `publicKeys` means "trusted transport only": the location and every URL-valued option
 * (a package registry, an API base) must be HTTPS, SSH, a local path or loopback. A value that is not a URL (a
 * folder, `owner/repo`, a package name, `git@host:path`) is judged by the source's own default, which is HTTPS or SSH.
 */
function checkTrustedTransport(name: string, config: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(config)) {
    // A proxy does not weaken an https:// origin: TLS runs through it end to end (CONNECT).
    if (typeof value !== 'string' || /token|password|secret|proxy/i.test(field)) continue;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value.trim());
    if (!scheme) continue;
    let url: URL | undefined;
    try {
      url = new URL(value.trim());
    } catch {
      url = undefined;
    }
    const protocol = `${scheme[1]!.toLowerCase()}:`;
    if (AUTHENTICATED_SCHEMES.has(protocol)) continue;
    if ((protocol === 'http:' || protocol === 'ws:') && url && isLoopbackHost(url.hostname)) continue;
    throw configError(
      `registries.${name} is marked verified, but its ${field} uses ${protocol}//${url && (protocol === 'http:' || protocol === 'ws:') ? ` to ${url.host}` : ''}, which does not authenticate the server: anyone on the network path could serve another index. Use https:// or ssh://, or sign the registry and configure publicKeys, or drop verified.`,
      name,
      `registries.${name}.${field}`,
    );
  }
}

export interface NormalizedConfig {
  registries: Map<string, NormalizedRegistry>;
  /**
   * Kind → registry name. A Map, not an object: kinds are any string a caller or config names, and an object
   * lookup of `constructor` or `toString` would find Object.prototype's functions instead of nothing.
   */
  defaultRegistries: ReadonlyMap<string, string>;
  resolver: ((kind: string) => string | null | undefined) | undefined;
  cache: NormalizedCacheSettings;
  /** `policy`, validated (issue 14); undefined when the config sets none. */
  policy?: NormalizedPolicy;
}

const TOP_LEVEL_FIELDS = ['registries', 'defaultRegistries', 'resolver', 'cacheSettings', 'policy'];
const CACHE_FIELDS = ['enabled', 'directory', 'maxAge'];

function configError(message: string, registry?: string, field?: string): RegistryError {
  return new RegistryError('E_CONFIG', message, { registry, details: field ? { field } : undefined });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A close spelling among `candidates`, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (typeof word !== 'string') return undefined;
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = tmp;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestScore = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  return best;
}

const hint = (word: string, candidates: readonly string[]) => {
  const near = closest(word, candidates);
  return near ? ` Did you mean "${near}"?` : '';
};

/**
 * Expands `${NAME}` and `${NAME:-fallback}` in a string from `env`. A variable that is unset (and has no fallback)
 * is `E_CONFIG` naming the variable and where it is used; values are never put in messages.
 */
export function expandEnv(value: string, env: Readonly<Record<string, string | undefined>>, where: string, registry?: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => {
    // Own properties only: `${constructor}` must be an unset variable, not Object.prototype.constructor's source.
    const found = Object.hasOwn(env, name) ? env[name] : undefined;
    if (typeof found === 'string' && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw configError(
      `Environment variable ${name} is not set, but ${where} uses \${${name}}. Set it, or write \${${name}:-default} to give a fallback.`,
      registry,
      where,
    );
  });
}

function expandDeep(value: unknown, env: Readonly<Record<string, string | undefined>>, where: string, registry?: string): unknown {
  if (typeof value === 'string') return expandEnv(value, env, where, registry);
  if (Array.isArray(value)) return value.map((v, i) => expandDeep(v, env, `${where}[${i}]`, registry));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, env, `${where}.${k}`, registry)]));
  }
  return value;
}

/** The cache folder when the config names none: `$AGENTOS_REGISTRY_CACHE`, `$XDG_CACHE_HOME/agentos-registry`, `~/.cache/agentos-registry`. */
export function defaultCacheDirectory(env: Readonly<Record<string, string | undefined>>): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'agentos-registry');
  return join(env.HOME || homedir(), '.cache', 'agentos-registry');
}

function normalizeCache(raw: unknown, env: Readonly<Record<string, string | undefined>>, baseDir: string): NormalizedCacheSettings {
  const settings = (raw ?? {}) as CacheSettings;
  if (!isPlainObject(raw) && raw !== undefined) throw configError('cacheSettings must be an object.', undefined, 'cacheSettings');
  for (const key of Object.keys(settings)) {
    if (!CACHE_FIELDS.includes(key)) {
      throw configError(`cacheSettings.${key} is not a known setting.${hint(key, CACHE_FIELDS)}`, undefined, `cacheSettings.${key}`);
    }
  }
  if (settings.enabled !== undefined && typeof settings.enabled !== 'boolean') {
    throw configError('cacheSettings.enabled must be true or false.', undefined, 'cacheSettings.enabled');
  }
  if (settings.directory !== undefined && (typeof settings.directory !== 'string' || settings.directory === '')) {
    throw configError('cacheSettings.directory must be a folder path.', undefined, 'cacheSettings.directory');
  }
  if (settings.maxAge !== undefined && !(typeof settings.maxAge === 'number' && settings.maxAge >= 0 && Number.isFinite(settings.maxAge))) {
    throw configError('cacheSettings.maxAge must be a number of milliseconds (0 or more).', undefined, 'cacheSettings.maxAge');
  }
  // The environment variable wins over the config so that one host (a CI job, a container) can move the cache
  // without editing a shared config file.
  const chosen = env.AGENTOS_REGISTRY_CACHE || settings.directory;
  const directory = chosen
    ? resolve(baseDir, expandEnv(chosen.replace(/^~(?=$|\/)/, env.HOME || homedir()), env, 'cacheSettings.directory'))
    : defaultCacheDirectory(env);
  const setBy: CacheDirectorySetting = env.AGENTOS_REGISTRY_CACHE ? 'AGENTOS_REGISTRY_CACHE' : settings.directory ? 'cacheSettings.directory' : 'default';
  return { enabled: settings.enabled ?? true, directory, maxAge: settings.maxAge ?? DEFAULT_MAX_AGE, setBy };
}

/** Validates the common fields of one registry and returns it with `${NAME}` expanded. */
function normalizeRegistry(name: string, raw: unknown, env: Readonly<Record<string, string | undefined>>): NormalizedRegistry {
  const at = (field: string) => `registries.${name}.${field}`;
  if (name === '' || /[:@\s/]/.test(name)) {
    throw configError(
      `Registry name "${name}" cannot be used: names may not be empty or contain ":", "@", "/" or spaces (a reference "name:id@range" must stay unambiguous).`,
      name,
      `registries.${name}`,
    );
  }
  if (!isPlainObject(raw)) throw configError(`Registry "${name}" must be an object like { type, location }.`, name, `registries.${name}`);
  const config = expandDeep(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)), env, `registries.${name}`, name) as Record<
    string,
    unknown
  >;

  if (typeof config.type !== 'string' || config.type === '') {
    throw configError(`Registry "${name}" needs a "type" (github, git, file, url, npm, or a third-party type).`, name, at('type'));
  }
  if (typeof config.location !== 'string' || config.location.trim() === '') {
    throw configError(`Registry "${name}" needs a "location" (a folder, a URL, owner/repo or a package name).`, name, at('location'));
  }
  if (config.branch !== undefined && (typeof config.branch !== 'string' || config.branch === '')) {
    throw configError(`registries.${name}.branch must be a non-empty string.`, name, at('branch'));
  }
  // The page writes `token: process.env.GITHUB_TOKEN`: an unset variable gives undefined (dropped above) or ''.
  if (config.token === '') delete config.token;
  if (config.token !== undefined && typeof config.token !== 'string') {
    throw configError(`registries.${name}.token must be a string.`, name, at('token'));
  }
  if (config.verified !== undefined && typeof config.verified !== 'boolean') {
    throw configError(`registries.${name}.verified must be true or false.`, name, at('verified'));
  }
  const duration = config.cacheDuration;
  if (duration !== undefined && !(typeof duration === 'number' && duration >= 0 && Number.isFinite(duration))) {
    throw configError(`registries.${name}.cacheDuration must be a number of milliseconds (0 or more).`, name, at('cacheDuration'));
  }
  registerSecret(config.token as string | undefined);
  const trust = normalizeTrust(name, config);
  if (config.verified === true && !trust) checkTrustedTransport(name, config);
  return {
    name,
    config: config as SourceConfig,
    cacheDuration: (duration as number | undefined) ?? DEFAULT_CACHE_DURATION,
    verified: config.verified === true,
    ...(trust ? { trust } : {}),
  };
}

/** Validates and normalizes a `registryConfig`. Throws `E_CONFIG` naming the registry and field at the first problem. */
export function normalizeConfig(input: RegistryConfig, options: { env: Readonly<Record<string, string | undefined>>; baseDir: string }): NormalizedConfig {
  if (!isPlainObject(input)) throw configError('registryConfig must be an object with a "registries" field.');
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL_FIELDS.includes(key)) {
      throw configError(`registryConfig.${key} is not a known field.${hint(key, TOP_LEVEL_FIELDS)}`, undefined, key);
    }
  }
  if (!isPlainObject(input.registries) || Object.keys(input.registries).length === 0) {
    throw configError(
      'registryConfig.registries must name at least one registry, e.g. { internal: { type: "file", location: "/opt/agentos/extensions" } }.',
      undefined,
      'registries',
    );
  }
  const registries = new Map<string, NormalizedRegistry>();
  for (const [name, raw] of Object.entries(input.registries)) registries.set(name, normalizeRegistry(name, raw, options.env));

  const defaults = new Map<string, string>();
  if (input.defaultRegistries !== undefined) {
    if (!isPlainObject(input.defaultRegistries)) throw configError('defaultRegistries must map kinds to registry names.', undefined, 'defaultRegistries');
    for (const [kind, value] of Object.entries(input.defaultRegistries)) {
      if (value === undefined) continue;
      const target = typeof value === 'string' ? expandEnv(value, options.env, `defaultRegistries.${kind}`) : value;
      if (typeof target !== 'string' || !registries.has(target)) {
        throw configError(
          `defaultRegistries.${kind} names "${String(target)}", which is not a configured registry (configured: ${[...registries.keys()].join(', ')}).${typeof target === 'string' ? hint(target, [...registries.keys()]) : ''}`,
          typeof target === 'string' ? target : undefined,
          `defaultRegistries.${kind}`,
        );
      }
      defaults.set(kind, target);
    }
  }
  if (input.resolver !== undefined && typeof input.resolver !== 'function') {
    throw configError('resolver must be a function (kind) => registry name.', undefined, 'resolver');
  }
  return {
    registries,
    defaultRegistries: defaults,
    resolver: input.resolver,
    cache: normalizeCache(input.cacheSettings, options.env, options.baseDir),
    ...(input.policy !== undefined ? { policy: normalizePolicy(input.policy) } : {}),
  };
}

/** Fields an adapter did not declare: typos like `brnach` are caught up front. */
export function unknownSourceFields(config: SourceConfig, declared: readonly string[] | undefined): string[] {
  if (!declared) return [];
  const known = new Set<string>([...COMMON_SOURCE_FIELDS, ...TRUST_FIELDS, ...declared]);
  return Object.keys(config).filter((k) => !known.has(k));
}

export { hint as didYouMean };

/** The effective cache settings of a config (or of none): directory, enabled and maxAge, as createRegistry uses them. */
export function resolveCacheSettings(
  cacheSettings: CacheSettings | undefined,
  options: { env?: Readonly<Record<string, string | undefined>>; baseDir?: string } = {},
): NormalizedCacheSettings {
  return normalizeCache(cacheSettings, options.env ?? process.env, options.baseDir ?? process.cwd());
}
