/**
 * The options every pacote and arborist call of this package gets on top of the registry settings: the agent that
 * scopes credentials to their registry's origin and caps each body (npm-agent.ts), and the per-attempt timeout. One
 * function, so no call path can forget them.
 */
import { credentialScope } from './credential-scope.js';
import { type NetworkBounds, type NpmLimits, type NpmTimeouts, resolveNetworkBounds } from './network-bounds.js';
import { createNpmAgent } from './npm-agent.js';
import { type NpmSettings, type NpmTransportOptions, resolveNpmSettings } from './npm-config.js';
import type { FetchContext } from './package-fetch.js';

/** What each standalone npm call (`fetchPackageCode`, `packageVersions`, `installDependencies`) takes besides its own. */
export interface NpmCallOptions extends NpmTransportOptions {
  /** npm registry URL; default from `.npmrc`, else pacote's own default (scoped registries of `.npmrc` still apply). */
  registry?: string;
  /** Token for that registry, handed over for it only (`//host/path/:_authToken`). */
  token?: string;
  /** `false` reads no `.npmrc`; a path names the user config file to read instead of `~/.npmrc`. */
  npmrc?: boolean | string;
  /** npm's cache (cacache) folder, e.g. `<workDir>/_cacache`; default: a temp folder removed afterwards. */
  cacheDir?: string;
  signal?: AbortSignal;
  /** Environment for `HOME` and `npm_config_*` (core passes the one the config was expanded with); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Folder the project `.npmrc` is searched from; default the working directory. */
  baseDir?: string;
  /** Configured registry name, for error messages; default `npm`. */
  registryName?: string;
  /** In ms: `attempt` (30 s) each request, `index` (120 s) a resolve, `entry` (600 s) a download, `install` (10 min) an install. */
  timeouts?: NpmTimeouts;
  /** In bytes: `index` (a packument, 128 MiB decoded), `entry` (a tarball, 512 MiB). */
  limits?: NpmLimits;
  /** `policy.allowHosts`: every request (and redirect) must go to a matching host, else `E_POLICY` before connecting. */
  allowHosts?: readonly string[];
}

/** The settings, bounds and error context of one call about `packageName@selector` (invalid options: `E_CONFIG`). */
export function prepareCall(options: NpmCallOptions, packageName: string, selector: string, allScopes = false) {
  const registryName = options.registryName ?? 'npm';
  const { registry, token, npmrc } = options;
  const env = options.env ?? process.env;
  const settings = resolveNpmSettings({
    packageName,
    registry,
    token,
    npmrc,
    env,
    baseDir: options.baseDir ?? process.cwd(),
    registryName,
    allScopes,
    transport: options,
  });
  const bounds: NetworkBounds = {
    ...resolveNetworkBounds(options, registryName, settings.options.timeout as number | undefined),
    ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
  };
  const { attempt, index, entry } = bounds.timeouts;
  const context: FetchContext = {
    registry: registryName,
    name: packageName,
    selector,
    registryUrl: settings.registry,
    authenticated: settings.authenticated,
    signal: options.signal,
    attemptMs: attempt,
    deadlines: { index, entry },
  };
  return { registryName, settings, bounds, context };
}

/** The pacote/arborist options for `settings`, with the agent and `bounds.timeouts.attempt`. */
export function npmRequestOptions(settings: NpmSettings, bounds: NetworkBounds): Record<string, unknown> {
  const options = settings.options;
  const attemptMs = bounds.timeouts.attempt;
  const proxy = stringOption(options.httpsProxy) ?? stringOption(options.proxy);
  const noProxy = stringOption(options.noProxy);
  const agent = createNpmAgent({
    scope: credentialScope(options),
    attemptMs,
    limits: bounds.limits,
    ...(bounds.allowHosts ? { allowHosts: bounds.allowHosts } : {}),
    ...(proxy ? { proxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  });
  // npm's `timeout`: minipass-fetch's wait for the answer to start and for a body read whole, and the idle timeout.
  return { ...options, agent, timeout: attemptMs };
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
