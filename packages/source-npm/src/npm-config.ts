/**
 * Which npm registry a package comes from and which credentials go with it, decided the way npm decides it, so that a
 * machine already set up for `npm install` (a company `.npmrc` with a scoped registry and a token) works unchanged.
 *
 * Precedence, highest first: the registry config's own `registry` and `token` → `npm_config_*` variables of the
 * environment core was given → the project `.npmrc` (next to the nearest package.json above `baseDir`) → the user
 * `.npmrc` (`npm_config_userconfig`, else `~/.npmrc`) → pacote's own default registry. A scoped registry
 * (`@scope:registry=…`) beats the plain `registry` of the same layer set, as in npm; the config's `registry` beats both.
 *
 * Credentials are handed to pacote as npm stores them, keyed by the registry's "nerf dart" (`//host/path/:_authToken`),
 * so npm-registry-fetch sends each one only to URLs under that registry, never to a tarball host elsewhere.
 *
 * The registry's own transport options `proxy`, `ca` and `retries` are every HTTP source's (checked by core's
 * `validateHttpSourceOptions`, `ca` read by its `readCertificates`) and beat `.npmrc`'s proxy, ca/cafile and
 * fetch-retries. npm's `timeouts` and `limits` are in network-bounds.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RegistryError, readCertificates, registerSecret, type SourceConfig, validateHttpSourceOptions } from '@agentos-registry/core';
import { scopeOf } from './package-spec.js';
import { pacoteDefaultRegistry } from './pacote.js';

/** The registry used when nothing else is configured: pacote's own default (see `pacoteDefaultRegistry`). */
export function defaultRegistry(): string {
  return pacoteDefaultRegistry();
}

/** What decides the registry settings of one package. */
export interface NpmSettingsInput {
  /** The package the settings are for (its scope picks a scoped registry). */
  packageName: string;
  /** Explicit registry URL; beats every `.npmrc`. */
  registry?: string;
  /** Explicit token for that registry; beats every `.npmrc` credential for it. */
  token?: string;
  /** `false`: read no `.npmrc` and no `npm_config_*` variable. A path: the user config file to read instead of `~/.npmrc`. */
  npmrc?: boolean | string;
  /** The environment to read `HOME` and `npm_config_*` from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder the project `.npmrc` is searched from (and relative paths are resolved against). */
  baseDir: string;
  /** Configured registry name, for error messages. */
  registryName: string;
  /**
   * Also hand over every scoped registry of `.npmrc` (`@scope:registry`), for installs that fetch many packages of
   * different scopes; by default only the scope of `packageName` is.
   */
  allScopes?: boolean;
  /** The registry's `proxy`, `ca` and `retries` (see {@link NpmTransportOptions}). */
  transport?: NpmTransportOptions;
}

/** Transport options an npm registry shares with every HTTP source; they beat `.npmrc`'s. */
export interface NpmTransportOptions {
  /** Proxy URL for every request (npm's `proxy` and `https-proxy`). */
  proxy?: string;
  /** Extra trusted CA certificates: PEM text or a PEM file's path (relative to the config file's folder). */
  ca?: string | string[];
  /** Retries of a failed request (npm's `fetch-retries`), 0 to 10. */
  retries?: number;
}

/** Problems with `proxy`, `ca` and `retries`, in core's words. */
export function npmTransportProblems({ proxy, ca, retries }: NpmTransportOptions) {
  return validateHttpSourceOptions({ type: 'npm', location: '', proxy, ca, retries } as SourceConfig);
}

/** The outcome: a registry URL and the options to hand pacote. */
export interface NpmSettings {
  /** Registry URL with a trailing slash and no credentials. */
  registry: string;
  /** Where `registry` came from, for log lines: `option`, `.npmrc (scope @x)`, `default`… */
  registrySource: string;
  /** True when some credential applies to `registry` (explicit or from `.npmrc`), to word auth errors. */
  authenticated: boolean;
  /** Options for pacote / npm-registry-fetch: registry, credentials by nerf dart, proxy, TLS, retries. */
  options: Record<string, unknown>;
  /** `.npmrc` files that were read, for log lines. */
  files: string[];
}

/** Auth-related key suffixes npm stores per registry (`//host/path/:<suffix>`). */
const AUTH_SUFFIXES = [':_authToken', ':_auth', ':username', ':_password', ':certfile', ':keyfile'];
/** Values that are secrets and must be registered with core's redactor. */
const SECRET_SUFFIXES = [':_authToken', ':_auth', ':_password'];

/**
 * `//host/path/` of a registry URL, the key npm files credentials under. Mirrors npm's `nerf-dart`: protocol, user
 * info, query and hash dropped; the path cut after its last `/`.
 */
export function nerfDart(url: string): string {
  const parsed = new URL(url);
  const folder = new URL('.', `${parsed.protocol}//${parsed.host}${parsed.pathname}`);
  return `//${folder.host}${folder.pathname}`;
}

/** Why `url` cannot be a registry URL, or `undefined` when it can. */
export function registryUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL (expected e.g. https://npm.example.com/)';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `uses ${parsed.protocol} (only http: and https: registries exist)`;
  if (parsed.username || parsed.password) return 'carries credentials; put them in `token` (or in .npmrc as //host/:_authToken) instead';
  if (parsed.search || parsed.hash) return 'has a query or fragment, which npm registries do not use';
  return undefined;
}

/** The registry URL as npm uses it: with a trailing slash. */
export function normalizeRegistry(url: string): string {
  const parsed = new URL(url);
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed.toString();
}

/** The settings for one package; reads `.npmrc` files synchronously (they are tiny, and this runs once per registry). */
export function resolveNpmSettings(input: NpmSettingsInput): NpmSettings {
  const layers = input.npmrc === false ? { values: new Map<string, string>(), files: [] } : readLayers(input);
  const values = layers.values;
  const scope = scopeOf(input.packageName);

  let registry: string;
  let registrySource: string;
  const scoped = scope ? values.get(`${scope}:registry`) : undefined;
  if (input.registry !== undefined) {
    registry = input.registry;
    registrySource = 'option';
  } else if (scoped !== undefined) {
    registry = scoped;
    registrySource = `.npmrc (${scope}:registry)`;
  } else if (values.get('registry') !== undefined) {
    registry = values.get('registry')!;
    registrySource = '.npmrc (registry)';
  } else {
    registry = defaultRegistry();
    registrySource = 'default';
  }
  const problem = registryUrlProblem(registry);
  if (problem) {
    const field = registrySource === 'option' ? '`registry`' : `the npm setting ${registrySource}`;
    throw new RegistryError('E_CONFIG', `Registry '${input.registryName}': ${field} ${problem}.`, {
      registry: input.registryName,
      details: { field: registrySource === 'option' ? 'registry' : 'npmrc' },
    });
  }
  registry = normalizeRegistry(registry);

  const options: Record<string, unknown> = { registry };
  // Our registry for this package's scope, whatever .npmrc says, so pacote cannot pick another one.
  if (scope) options[`${scope}:registry`] = registry;
  if (input.allScopes) {
    for (const [key, value] of values) {
      if (!/^@[^/]+:registry$/.test(key) || key === `${scope}:registry` || registryUrlProblem(value)) continue;
      options[key] = normalizeRegistry(value);
    }
  }
  for (const [key, value] of values) {
    if (!key.startsWith('//')) continue;
    if (!AUTH_SUFFIXES.some((suffix) => key.endsWith(suffix))) continue;
    options[key] = value;
    if (SECRET_SUFFIXES.some((suffix) => key.endsWith(suffix))) {
      registerSecret(value);
      if (key.endsWith(':_password')) registerSecret(Buffer.from(value, 'base64').toString('utf8'));
    }
  }
  if (input.token !== undefined && input.token !== '') {
    registerSecret(input.token);
    options[`${nerfDart(registry)}:_authToken`] = input.token;
  }
  Object.assign(options, networkOptions(values, input.baseDir), transportOptions(input));
  return { registry, registrySource, authenticated: hasCredential(registry, options), options, files: layers.files };
}

/** Whether npm-registry-fetch would send a credential to `registry` (it walks the path up, as here). */
function hasCredential(registry: string, options: Record<string, unknown>): boolean {
  let key = nerfDart(registry);
  while (key.length > 2) {
    if (options[`${key}:_authToken`] || options[`${key}:_auth`]) return true;
    if (options[`${key}:username`] && options[`${key}:_password`]) return true;
    if (options[`${key}:certfile`] && options[`${key}:keyfile`]) return true;
    key = key.replace(/([^/]+|\/)$/, '');
  }
  return false;
}

/** Proxy, TLS and retry settings npm users put in `.npmrc`, translated to npm-registry-fetch's option names. */
function networkOptions(values: Map<string, string>, baseDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    // npm's own defaults are 2 retries starting at 10 s; a registry that is down should fail within seconds so core
    // can serve its cached copy (stale-if-error) instead of hanging.
    fetchRetries: 1,
    fetchRetryMintimeout: 1000,
    fetchRetryMaxtimeout: 10_000,
  };
  const text = (key: string) => values.get(key);
  const number = (key: string) => {
    const value = values.get(key);
    return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
  };
  const set = (name: string, value: unknown) => {
    if (value !== undefined) out[name] = value;
  };
  set('proxy', text('proxy'));
  set('httpsProxy', text('https-proxy'));
  set('noProxy', text('noproxy'));
  const strict = text('strict-ssl');
  if (strict !== undefined) out.strictSSL = strict !== 'false';
  set('ca', text('ca'));
  const cafile = text('cafile');
  if (cafile !== undefined && values.get('ca') === undefined) {
    try {
      out.ca = readFileSync(resolve(baseDir, cafile), 'utf8');
    } catch {
      // npm ignores an unreadable cafile too; TLS then fails with a message naming the certificate problem.
    }
  }
  set('fetchRetries', number('fetch-retries'));
  set('fetchRetryMintimeout', number('fetch-retry-mintimeout'));
  set('fetchRetryMaxtimeout', number('fetch-retry-maxtimeout'));
  set('timeout', number('fetch-timeout'));
  return out;
}

/** The registry's own `proxy`, `ca` and `retries` as npm-registry-fetch options; `E_CONFIG` when one is invalid. */
function transportOptions({ transport = {}, baseDir, registryName }: NpmSettingsInput): Record<string, unknown> {
  const [problem] = npmTransportProblems(transport);
  if (problem)
    throw new RegistryError('E_CONFIG', `Registry '${registryName}': \`${problem.field}\` ${problem.message}.`, {
      registry: registryName,
      details: { field: problem.field },
    });
  const { proxy, ca, retries } = transport;
  return {
    ...(proxy ? { proxy, httpsProxy: proxy } : {}),
    ...(ca ? { ca: readCertificates(ca, baseDir, registryName) } : {}),
    ...(retries === undefined ? {} : { fetchRetries: retries }),
  };
}

/** The merged `.npmrc` layers and `npm_config_*` variables, lowest precedence first. */
function readLayers(input: NpmSettingsInput): { values: Map<string, string>; files: string[] } {
  const values = new Map<string, string>();
  const files: string[] = [];
  const env = input.env;
  const home = env.HOME || env.USERPROFILE || homedir();
  const configured = typeof input.npmrc === 'string' ? input.npmrc : (env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG);
  const userFile = configured ? expandHome(configured, home, input.baseDir) : join(home, '.npmrc');
  const projectFile = join(projectRoot(input.baseDir), '.npmrc');
  const paths = projectFile === userFile ? [userFile] : [userFile, projectFile];
  for (const file of paths) {
    const parsed = readNpmrc(file, env, input.registryName);
    if (!parsed) continue;
    files.push(file);
    for (const [key, value] of parsed) values.set(key, value);
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !/^npm_config_/i.test(name)) continue;
    let key = name.slice('npm_config_'.length);
    // npm spells `fetch-retries` as npm_config_fetch_retries; nerf-dart keys are taken as they are.
    if (!key.startsWith('//')) key = key.replace(/(?!^)_/g, '-').toLowerCase();
    if (key === 'userconfig' || key === 'globalconfig') continue;
    values.set(key, value);
  }
  return { values, files };
}

function expandHome(path: string, home: string, baseDir: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** npm's "local prefix": the nearest folder at or above `from` holding a package.json or node_modules. */
function projectRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'node_modules'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(from);
    dir = parent;
  }
}

/**
 * Reads one `.npmrc`: `key = value` lines, `;`/`#` comments, quoted values, `${VAR}` (and `${VAR?}`, empty when unset)
 * from `env`. Sections and `key[]` arrays are skipped: npm ignores them for the settings used here. A missing file is
 * `undefined`; an unreadable one is `E_CONFIG` naming it.
 */
export function readNpmrc(file: string, env: Readonly<Record<string, string | undefined>>, registryName: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new RegistryError('E_CONFIG', `Registry '${registryName}': cannot read the npm config file ${file} (${code ?? 'error'}).`, {
      registry: registryName,
      cause: error,
      details: { file },
    });
  }
  return parseNpmrc(text, env);
}

/** Parses the text of an `.npmrc` (see {@link readNpmrc}). */
export function parseNpmrc(text: string, env: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const values = new Map<string, string>();
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      inSection = true;
      continue;
    }
    if (inSection) continue;
    const equals = line.indexOf('=');
    if (equals === -1) continue;
    const key = envReplace(line.slice(0, equals).trim(), env);
    if (key === '' || key.endsWith('[]')) continue;
    values.set(key, envReplace(unquote(line.slice(equals + 1).trim()), env));
  }
  return values;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed === 'string') return parsed;
    } catch {
      // Not JSON: fall through to stripping the quotes.
    }
    return value.slice(1, -1);
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** npm's `${VAR}` substitution: unset variables stay as written, `${VAR?}` becomes empty, `\${VAR}` is literal. */
function envReplace(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g, (whole, slashes: string, name: string, optional?: string) => {
    const escaped = slashes.length % 2 === 1;
    if (escaped) return `${slashes.slice(1)}\${${name}${optional ?? ''}}`;
    const found = env[name];
    if (found === undefined) return optional ? slashes : whole;
    return `${slashes}${found}`;
  });
}
