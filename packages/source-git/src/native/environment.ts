/**
 * The environment of every native git child process. Built from scratch on each call so that:
 * - the token travels only in per-command config variables, never in argv (visible to every user in `ps`) nor in a
 *   file (`.git/config`);
 * - git can never stop to ask anyone anything (terminal prompts, askpass programs, credential manager pop-ups), so
 *   an unattended process fails with `E_AUTH` instead of hanging;
 * - ambient `GIT_*` variables of the host process (`GIT_DIR` when running inside a hook, `GIT_CONFIG_*`,
 *   `GIT_TRACE*`) cannot redirect or log our commands.
 */

/** A git version as `git --version` reports it. */
export interface GitVersion {
  major: number;
  minor: number;
}

/** Oldest git the native engine runs on: `--filter`, `rev-list --missing` and protocol v2 are all there by 2.25. */
export const MIN_NATIVE_GIT: GitVersion = { major: 2, minor: 25 };

/** `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n` arrived in 2.31; older gits read `GIT_CONFIG_PARAMETERS`. */
const CONFIG_COUNT_SINCE: GitVersion = { major: 2, minor: 31 };

export function atLeast(version: GitVersion, wanted: GitVersion): boolean {
  return version.major > wanted.major || (version.major === wanted.major && version.minor >= wanted.minor);
}

/**
 * `GIT_*` variables the user sets on purpose to make transports work (an SSH key or wrapper, a corporate CA). They
 * are passed through; every other `GIT_*` variable of the host process is dropped.
 */
export const PASSED_GIT_VARIABLES = new Set([
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'GIT_SSL_CERT',
  'GIT_SSL_KEY',
  'GIT_SSL_CERT_PASSWORD_PROTECTED',
  'GIT_SSL_NO_VERIFY',
  'GIT_PROXY_SSL_CAINFO',
  'GIT_PROXY_SSL_CERT',
  'GIT_PROXY_SSL_KEY',
  'GIT_CONFIG_NOSYSTEM',
]);

/**
 * Variables naming programs git would run (editors, pagers, askpass helpers). Nothing here needs them, and
 * simple-git refuses to pass them without an explicit opt-in, so they are dropped too.
 */
const PROGRAM_VARIABLES = new Set(['EDITOR', 'VISUAL', 'PAGER', 'PREFIX', 'SSH_ASKPASS']);

/** What shapes the environment of one command. */
export interface EnvironmentSettings {
  /** The host process's environment (PATH, HOME, proxies, SSH agent socket…). */
  ambient: NodeJS.ProcessEnv;
  version: GitVersion;
  /** Config entries for this command, in order (git applies the last value of a key). */
  config: ReadonlyArray<readonly [string, string]>;
  /** The repository the command works on, if any. */
  gitDir?: string;
  /** `GIT_SSH_COMMAND` to set when the user set neither it nor `GIT_SSH` (ssh remotes only). */
  sshCommand?: string;
}

/** Builds the full environment of one git command. Pure: table-tested, and the place to read to audit it. */
export function gitEnvironment(settings: EnvironmentSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings.ambient)) {
    if (value === undefined) continue;
    const upper = key.toUpperCase();
    if (upper.startsWith('GIT_') && !PASSED_GIT_VARIABLES.has(upper)) continue;
    if (PROGRAM_VARIABLES.has(upper)) continue;
    env[key] = value;
  }
  // Messages in English, so that failures can be classified; paths are bytes to git whatever the locale.
  env.LC_ALL = 'C';
  // Never wait for a person: no terminal prompt, no askpass program (an empty value disables both core.askPass and
  // SSH_ASKPASS), and Git Credential Manager stays non-interactive.
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_ASKPASS = '';
  env.GCM_INTERACTIVE = 'never';
  // Entry paths are literal paths, never globs.
  env.GIT_LITERAL_PATHSPECS = '1';
  if (settings.gitDir !== undefined) env.GIT_DIR = settings.gitDir;
  if (settings.sshCommand !== undefined && env.GIT_SSH_COMMAND === undefined && env.GIT_SSH === undefined) {
    env.GIT_SSH_COMMAND = settings.sshCommand;
  }
  Object.assign(env, configVariables(settings.config, settings.version));
  return env;
}

/**
 * Per-command config through the environment: `GIT_CONFIG_COUNT` + `GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` (git ≥
 * 2.31), else `GIT_CONFIG_PARAMETERS` in the `'key=value'` form older gits parse. Child processes git starts
 * (`git-remote-https`, lazy fetches of a partial clone) inherit it, unlike anything put in argv.
 */
export function configVariables(config: ReadonlyArray<readonly [string, string]>, version: GitVersion): Record<string, string> {
  if (config.length === 0) return {};
  if (atLeast(version, CONFIG_COUNT_SINCE)) {
    const env: Record<string, string> = { GIT_CONFIG_COUNT: String(config.length) };
    config.forEach(([key, value], index) => {
      env[`GIT_CONFIG_KEY_${index}`] = key;
      env[`GIT_CONFIG_VALUE_${index}`] = value;
    });
    return env;
  }
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  return { GIT_CONFIG_PARAMETERS: config.map(([key, value]) => quote(`${key}=${value}`)).join(' ') };
}

/** Config every command gets: no background work left behind, no stalled transfer that waits forever. */
export const BASE_CONFIG: ReadonlyArray<readonly [string, string]> = [
  // Automatic gc would detach into the background and outlive the call (and its temp folders); the mirror is
  // compacted explicitly instead.
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['core.logAllRefUpdates', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  // A connection that moves less than 1 byte/s for 60 s is dead: fail (E_UNREACHABLE) rather than hang. A registry's
  // `timeouts.body` changes the time; a trickle faster than this is ended by the deadlines (timeouts.index/entry).
  ['http.lowSpeedLimit', '1'],
  ['http.lowSpeedTime', '60'],
];

/**
 * Config that sends the token: an `Authorization` header scoped to the repository URL (so to its origin), the
 * user's credential helpers switched off (a refused token must fail, not fall back to a helper that may prompt), and
 * redirects not followed (git would send the header to wherever the server redirected the first request).
 */
export function tokenConfig(remote: string, authorization: string): Array<[string, string]> {
  return [
    ['credential.helper', ''],
    ['http.followRedirects', 'false'],
    [`http.${remote}.extraHeader`, `Authorization: ${authorization}`],
  ];
}
