/**
 * The shared HTTP transport options of a `git` registry — `proxy`, `ca`, `allowInsecure`, `timeouts`, `retries`,
 * `limits`, the vocabulary of every HTTP source, checked by core's `validateHttpSourceOptions` — turned into what each
 * engine applies. The isomorphic engine sends every request through core's HTTP client, which takes them all; the
 * native engine runs git, which has a setting for some of them and none for the rest.
 */
import {
  DEFAULT_HTTP_TIMEOUTS,
  HTTP_SOURCE_OPTIONS,
  type HttpClientOptions,
  type HttpTimeouts,
  httpClientOptionsOf,
  type SourceConfig,
  type TransferPurpose,
} from '@agentos-registry/core';
import type { GitSourceOptions } from './options.js';

/** What the engines get from a registry's transport options. */
export interface GitTransport {
  /** Options of core's HTTP client (isomorphic engine), from core's `httpClientOptionsOf`. */
  http: Partial<HttpClientOptions>;
  /**
   * Total deadline of each step that talks to the server, by what it downloads (`timeouts.index`, default 120 s;
   * `timeouts.entry`, default 600 s): each request of the isomorphic engine, each git command of the native one.
   */
  deadlines: Record<TransferPurpose, number>;
  /** Native engine: git config for the options git has a setting for. */
  nativeConfig: Array<[string, string]>;
  /** Options that are set but that git has no setting for; the native engine says so once. */
  notForNative: string[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The transport options of one registry over the defaults given to `gitSource()`: the registry's value wins, and in
 * `timeouts` and `limits` field by field (a registry that raises `timeouts.entry` keeps a default `timeouts.index`).
 */
export function mergedTransportOptions(config: SourceConfig, defaults: GitSourceOptions): SourceConfig {
  const merged: SourceConfig = { ...config };
  const fallback = defaults as Record<string, unknown>;
  for (const key of HTTP_SOURCE_OPTIONS) {
    const own = config[key];
    const base = fallback[key];
    if ((key === 'timeouts' || key === 'limits') && isPlainObject(own) && isPlainObject(base)) merged[key] = { ...base, ...own };
    else if (own === undefined && base !== undefined) merged[key] = base;
  }
  return merged;
}

/** Resolves a registry's transport options (already validated) for both engines. */
export function gitTransport(
  config: SourceConfig,
  defaults: GitSourceOptions,
  context: { registry: string; baseDir: string; allowHosts?: readonly string[] | undefined },
): GitTransport {
  const merged = mergedTransportOptions(config, defaults);
  const timeouts: HttpTimeouts = isPlainObject(merged.timeouts) ? (merged.timeouts as HttpTimeouts) : {};
  const nativeConfig: Array<[string, string]> = [];
  // git's only idle timeout: a transfer slower than 1 byte/s for this many seconds ends. It is what `timeouts.body`
  // means for core's client (no data for this long); a trickle faster than that is ended by the deadlines.
  if (timeouts.body !== undefined) nativeConfig.push(['http.lowSpeedTime', String(Math.max(1, Math.ceil(timeouts.body / 1000)))]);
  // Like the client's `proxy`: it wins over HTTP(S)_PROXY, and git (curl) still skips it for hosts in NO_PROXY.
  if (typeof merged.proxy === 'string') nativeConfig.push(['http.proxy', merged.proxy]);
  // policy.allowHosts: git cannot be asked where a redirect goes before it follows it, so it follows none (a
  // location that redirects is refused by the server's answer instead). isomorphic-git's hops go through core's
  // client, which checks each against the list.
  if (context.allowHosts) nativeConfig.push(['http.followRedirects', 'false']);
  const notForNative = [
    ...(merged.ca === undefined ? [] : ['ca']),
    ...(merged.limits === undefined ? [] : ['limits']),
    ...(merged.retries === undefined ? [] : ['retries']),
    ...(timeouts.connect === undefined ? [] : ['timeouts.connect']),
    ...(timeouts.headers === undefined ? [] : ['timeouts.headers']),
  ];
  return {
    http: { ...httpClientOptionsOf(merged, context), ...(context.allowHosts ? { allowHosts: context.allowHosts } : {}) },
    deadlines: { index: timeouts.index ?? DEFAULT_HTTP_TIMEOUTS.index, entry: timeouts.entry ?? DEFAULT_HTTP_TIMEOUTS.entry },
    nativeConfig,
    notForNative,
  };
}
