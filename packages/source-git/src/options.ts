import {
  type ConfigProblem,
  HTTP_SOURCE_OPTION_ROLES,
  HTTP_SOURCE_OPTIONS,
  type HttpLimits,
  type HttpTimeouts,
  type OptionRole,
  type SourceConfig,
  validateHttpSourceOptions,
} from '@agentos-registry/core';
import type { GitAuthScheme } from './auth.js';
import { GitLocationError, parseGitLocation } from './location.js';

/** Which git implementation a registry uses. */
export type GitEngineChoice = 'auto' | 'native' | 'isomorphic';

/**
 * Options of the `git` source. Given to `gitSource(options)` they are defaults for every `git` registry; written in a
 * registry's config they apply to that registry (and win).
 */
export interface GitSourceOptions {
  /**
   * `native` runs the `git` binary (≥ 2.25) through simple-git: every protocol, your git config and SSH agent.
   * `isomorphic` is pure JavaScript (isomorphic-git): http(s) and local repositories, no binary needed.
   * `auto` (default) picks `native` when a usable git is on PATH, else `isomorphic`.
   */
  engine?: GitEngineChoice;
  /**
   * User name sent with `token` over HTTP Basic. Default: the one in the URL, else `oauth2` for GitLab hosts,
   * `x-token-auth` for Bitbucket, `x-access-token` elsewhere (GitHub, Gitea, Forgejo and most servers ignore it).
   */
  username?: string;
  /** `basic` (default) sends `username:token`; `bearer` sends `Authorization: Bearer <token>`. */
  authScheme?: GitAuthScheme;
  /**
   * Native engine: fetch only `registry.json` and the entries asked for (partial clone `--filter=blob:none`, then
   * just those blobs). Default `true`; `false` fetches each revision whole, at depth 1, in one request. Servers that
   * do not support filters get the whole revision either way.
   */
  sparse?: boolean;
  /**
   * A proxy URL for http(s) locations; wins over `HTTPS_PROXY`/`HTTP_PROXY` (`NO_PROXY` still applies). Native
   * engine: git's `http.proxy`.
   */
  proxy?: string;
  /** Isomorphic engine: extra trusted CA certificates, PEM text or a PEM file's path. Native git uses its own config. */
  ca?: string | string[];
  /** Accepted for the shared vocabulary; an `http://` location is already an explicit choice, so it changes nothing. */
  allowInsecure?: boolean;
  /**
   * In ms. Deadlines, for both engines: `index` (120 s) for each ref listing and each fetch of the commit's trees and
   * `registry.json`, `entry` (600 s) for each fetch of file contents (an entry's files; a whole commit). Isomorphic
   * engine: also the idle timeouts `connect` (10 s), `headers` (30 s), `body` (60 s); native: `body` as git's
   * `http.lowSpeedTime`.
   */
  timeouts?: HttpTimeouts;
  /** Isomorphic engine: retries of a failed GET (the ref listing), default 2. */
  retries?: number;
  /** Isomorphic engine: most bytes of a ref listing (`index`, 32 MiB) and of a pack (`entry`, 1 GiB). */
  limits?: HttpLimits;
}

/** A `git` registry as written in `registryConfig.registries`: the page's fields plus {@link GitSourceOptions}. */
export interface GitSourceConfig extends SourceConfig, GitSourceOptions {
  type: 'git';
  /** `https://git.corp.com/extensions.git`, `ssh://…`, `git@host:org/repo.git`, `git://…`, `file://…` or a path. */
  location: string;
  /** Branch, tag or full commit sha; default: the remote's HEAD. */
  branch?: string;
  /** Token sent as an HTTP `Authorization` header to the repository's origin only. */
  token?: string;
}

/** Names of the options a `git` registry accepts besides the common fields. */
export const GIT_SOURCE_OPTIONS = ['engine', 'username', 'authScheme', 'sparse', ...HTTP_SOURCE_OPTIONS] as const;

/**
 * Their roles: none changes which files a registry serves. The engine, sparse checkout and auth scheme are how they
 * arrive (switching keeps the cache warm); the user name picks whose view of the repository is cached.
 */
export const GIT_SOURCE_OPTION_ROLES: Readonly<Record<(typeof GIT_SOURCE_OPTIONS)[number], OptionRole>> = {
  engine: 'transport',
  username: 'identity',
  authScheme: 'transport',
  sparse: 'transport',
  ...HTTP_SOURCE_OPTION_ROLES,
};

const ENGINES: readonly string[] = ['auto', 'native', 'isomorphic'];
const SCHEMES: readonly string[] = ['basic', 'bearer'];

/** Problems with the source-specific fields of one registry (or with the defaults given to `gitSource`). */
export function optionProblems(options: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { engine, username, authScheme, sparse } = options;
  if (engine !== undefined && (typeof engine !== 'string' || !ENGINES.includes(engine))) {
    problems.push({ field: 'engine', message: "must be 'auto', 'native' or 'isomorphic'" });
  }
  if (authScheme !== undefined && (typeof authScheme !== 'string' || !SCHEMES.includes(authScheme))) {
    problems.push({ field: 'authScheme', message: "must be 'basic' or 'bearer'" });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (username !== undefined && (typeof username !== 'string' || username === '' || /[:\u0000-\u001f\u007f]/.test(username))) {
    problems.push({ field: 'username', message: "must be a non-empty user name without ':' or control characters" });
  }
  if (sparse !== undefined && typeof sparse !== 'boolean') problems.push({ field: 'sparse', message: 'must be true or false' });
  // The transport options mean what they mean for every HTTP source, so core checks them the same way.
  problems.push(...validateHttpSourceOptions(options as SourceConfig));
  return problems;
}

/** Checks one `git` registry config before anything runs; core reports the first problem as `E_CONFIG`. */
export function validateGitConfig(config: SourceConfig, defaults: GitSourceOptions = {}): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let transport: string | undefined;
  try {
    // Only the syntax matters here; relative paths are resolved against the real base folder in `create`.
    transport = parseGitLocation(config.location, process.cwd(), '/').transport;
  } catch (error) {
    const message = error instanceof GitLocationError ? error.message : 'is not a git URL or path';
    problems.push({ field: 'location', message });
  }
  const { branch } = config;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (branch !== undefined && (typeof branch !== 'string' || branch.trim() === '' || /[\s\u0000-\u001f\u007f~^:?*[\\]|\.\.|^-|@\{/.test(branch))) {
    problems.push({ field: 'branch', message: 'must be a branch name, a tag name or a full commit sha' });
  }
  // A line break in a token would end the Authorization header and start another one.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (typeof config.token === 'string' && /[\u0000-\u001f\u007f]/.test(config.token)) {
    problems.push({ field: 'token', message: 'contains a line break or another control character; check how it was read from the environment' });
  }
  problems.push(...optionProblems(config));
  const engine = config.engine ?? defaults.engine;
  if (engine === 'isomorphic' && (transport === 'ssh' || transport === 'git')) {
    problems.push({
      field: 'location',
      message: `is a${transport === 'ssh' ? 'n ssh' : ' git://'} location, which the isomorphic engine cannot reach (smart HTTP and local repositories only): use an https:// URL or engine 'native'`,
    });
  }
  return problems;
}
