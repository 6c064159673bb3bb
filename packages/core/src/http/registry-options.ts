/**
 * The transport options every HTTP source accepts in its registry config, checked and turned into client options in
 * one place: a `github` registry behind a corporate proxy with a private CA needs `proxy` and `ca` exactly as a `url`
 * registry does, and a limit or deadline must be raised the same way whichever source hit it.
 *
 * ```jsonc
 * { "type": "url", "location": "https://…", "proxy": "http://proxy:3128", "ca": "./corp-ca.pem",
 *   "timeouts": { "connect": 10000, "index": 120000, "entry": 600000 }, "retries": 2,
 *   "limits": { "index": 33554432, "entry": 1073741824 } }
 * ```
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem, SourceConfig, SourceCreateContext } from '../contract.js';
import { RegistryError } from '../errors.js';
import type { HttpLimits } from './limits.js';
import { createHttpClient } from './client.js';
import type { HttpClient, HttpClientOptions, HttpTimeouts } from './types.js';

/**
 * The transport options of an HTTP source's registry config, for the source's config type to extend
 * (`interface MyConfig extends SourceConfig, HttpSourceOptions`).
 */
export interface HttpSourceOptions {
  /** A proxy URL for every request; wins over `HTTPS_PROXY`/`HTTP_PROXY` (`NO_PROXY` still applies). */
  proxy?: string;
  /** Extra trusted CA certificates: PEM text, or the path of a PEM file (relative to the config file's folder). */
  ca?: string | string[];
  /** Allow plain `http://` to a host other than this machine (a trusted network). */
  allowInsecure?: boolean;
  /**
   * In ms. Idle: `connect` (10 s), `headers` (30 s), `body` (60 s). Deadlines of a whole request, retries included:
   * `index` (120 s: an index, a revision check, an API answer) and `entry` (600 s: an archive, a blob, a pack).
   */
  timeouts?: HttpTimeouts;
  /** Retries of a failed request (5xx, 429, resets, timeouts), with backoff and jitter. Default 2, at most 10. */
  retries?: number;
  /** Most decoded bytes: `index` (32 MiB) and `entry` (1 GiB). */
  limits?: HttpLimits;
}

/** The option names, for an adapter's `options` list: `options: ['baseUrl', ...HTTP_SOURCE_OPTIONS]`. */
export const HTTP_SOURCE_OPTIONS = ['proxy', 'ca', 'allowInsecure', 'timeouts', 'retries', 'limits'] as const;

/** The same options with their role, to spread into an adapter's `options`: all of them are `transport`. */
export const HTTP_SOURCE_OPTION_ROLES: Readonly<Record<(typeof HTTP_SOURCE_OPTIONS)[number], 'transport'>> = Object.freeze(
  Object.fromEntries(HTTP_SOURCE_OPTIONS.map((name) => [name, 'transport'])) as Record<(typeof HTTP_SOURCE_OPTIONS)[number], 'transport'>,
);

const TIMEOUT_NAMES = ['connect', 'headers', 'body', 'index', 'entry'];
const LIMIT_NAMES = ['index', 'entry'];
// Node's timers take at most 2^31-1 ms; the client refuses more.
const MAX_TIMER_MS = 2 ** 31 - 1;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Problems with the transport options of a registry's config, for an adapter's `validate` (core adds the registry). */
export function validateHttpSourceOptions(config: SourceConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { proxy, ca, allowInsecure, timeouts, retries, limits } = config;
  if (proxy !== undefined && (typeof proxy !== 'string' || !/^https?:\/\//i.test(proxy))) {
    problems.push({ field: 'proxy', message: 'must be an http:// or https:// proxy URL, e.g. http://proxy.corp.example:3128' });
  }
  if (ca !== undefined && !(typeof ca === 'string' || (Array.isArray(ca) && ca.every((item) => typeof item === 'string')))) {
    problems.push({ field: 'ca', message: 'must be PEM text or the path of a PEM file (or a list of them)' });
  }
  if (allowInsecure !== undefined && typeof allowInsecure !== 'boolean') {
    problems.push({ field: 'allowInsecure', message: 'must be true or false' });
  }
  if (timeouts !== undefined) {
    if (!isPlainObject(timeouts)) {
      problems.push({ field: 'timeouts', message: 'must be an object { connect, headers, body, index, entry } of milliseconds' });
    } else {
      for (const [name, value] of Object.entries(timeouts)) {
        if (!TIMEOUT_NAMES.includes(name))
          problems.push({ field: `timeouts.${name}`, message: 'is not a timeout; use connect, headers, body, index or entry' });
        else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
          problems.push({ field: `timeouts.${name}`, message: 'must be a positive number of milliseconds' });
        }
      }
    }
  }
  if (retries !== undefined && !(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0 && retries <= 10)) {
    problems.push({ field: 'retries', message: 'must be a whole number from 0 to 10' });
  }
  if (limits !== undefined) {
    if (!isPlainObject(limits)) {
      problems.push({ field: 'limits', message: 'must be an object { index, entry } of byte counts' });
    } else {
      for (const [name, value] of Object.entries(limits)) {
        if (!LIMIT_NAMES.includes(name)) problems.push({ field: `limits.${name}`, message: 'is not a limit; use index or entry' });
        else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
          problems.push({ field: `limits.${name}`, message: 'must be a positive whole number of bytes' });
        }
      }
    }
  }
  return problems;
}

/** Reads `ca`: PEM text is used as is; anything else is a file path, relative to `baseDir` (the config file's folder). */
export function readCertificates(ca: unknown, baseDir: string, registry: string): string[] | undefined {
  if (ca === undefined) return undefined;
  const items = Array.isArray(ca) ? (ca as string[]) : [ca as string];
  return items.map((item) => {
    if (item.includes('-----BEGIN')) return item;
    const file = resolve(baseDir, item);
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new RegistryError(
        'E_CONFIG',
        `registries.${registry}.ca: cannot read the CA file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Give PEM text or a readable file.`,
        {
          registry,
          cause: error,
          details: { field: `registries.${registry}.ca` },
        },
      );
    }
  });
}

/**
 * The client options that come from a registry's transport options (not `registry`, credentials, `env` or `logger`,
 * which the source adds). Call it on a config that passed `validateHttpSourceOptions`.
 */
export function httpClientOptionsOf(config: SourceConfig, context: { registry: string; baseDir: string }): Partial<HttpClientOptions> {
  const ca = readCertificates(config.ca, context.baseDir, context.registry);
  return {
    ...(typeof config.proxy === 'string' ? { proxy: config.proxy } : {}),
    ...(ca ? { ca } : {}),
    ...(config.allowInsecure === true ? { allowInsecure: true } : {}),
    ...(isPlainObject(config.timeouts) ? { timeouts: config.timeouts as HttpClientOptions['timeouts'] } : {}),
    ...(typeof config.retries === 'number' ? { retries: config.retries } : {}),
    ...(isPlainObject(config.limits) ? { limits: config.limits as HttpClientOptions['limits'] } : {}),
  };
}

/**
 * Core's HTTP client for one registry of an HTTP source, so that every HTTP source honours the same transport options
 * the same way: the source's own settings (`options`: credentials, `userAgent`, its default `retries`, a `retryable`
 * hook), then the registry's transport options over them (a registry's `retries` wins), then the context's env and
 * logger. Call it on a config that passed `validateHttpSourceOptions`.
 */
export function createSourceHttpClient(config: SourceConfig, ctx: SourceCreateContext, options: Partial<HttpClientOptions> = {}): HttpClient {
  return createHttpClient({
    ...options,
    ...httpClientOptionsOf(config, ctx),
    registry: ctx.registry,
    env: ctx.env,
    logger: ctx.logger,
    ...(ctx.allowHosts ? { allowHosts: ctx.allowHosts } : {}),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  });
}
