/** The options of a `url` registry: their checks (for `validate`) and how they become core's HTTP client options. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ConfigProblem, type HttpClientOptions, RegistryError, type SourceConfig } from '@agentos-registry/core';
import { isInsecureRemote, LocationProblem, parseSiteLocation } from './location.js';

/** The config of a `url` registry: the page's fields plus the options below. */
export interface UrlSourceConfig extends SourceConfig {
  type: 'url';
  /** The folder URL holding `registry.json`, e.g. `https://extensions.yourcompany.example`. */
  location: string;
  /** Sent as `Authorization: Bearer <token>`, to the registry's origin only. */
  token?: string;
  /** Other credential headers (`X-Api-Key`, `Authorization: Basic …`), to the registry's origin only; redacted. */
  headers?: Record<string, string>;
  /** A proxy URL for every request; wins over `HTTPS_PROXY`/`HTTP_PROXY` (`NO_PROXY` still applies). */
  proxy?: string;
  /** Extra trusted CA certificates: PEM text, or the path of a PEM file (relative to the config file's folder). */
  ca?: string | string[];
  /** Allow plain `http://` to a host other than this machine (a trusted network). */
  allowInsecure?: boolean;
  /** Idle timeouts in ms: `connect` (10 s), `headers` (30 s), `body` (60 s). */
  timeouts?: { connect?: number; headers?: number; body?: number };
  /** Retries of a failed request (5xx, 429, resets, timeouts), with backoff and jitter. Default 2, at most 10. */
  retries?: number;
}

/** Names of the options a `url` registry accepts besides the common ones. */
export const URL_OPTIONS = ['headers', 'proxy', 'ca', 'allowInsecure', 'timeouts', 'retries'] as const;

const TIMEOUT_NAMES = ['connect', 'headers', 'body'];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Problems with a `url` registry's config, reported by core as `E_CONFIG` naming the field. */
export function validateUrlConfig(config: SourceConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  try {
    const site = parseSiteLocation(String(config.location));
    if (isInsecureRemote(site) && config.allowInsecure !== true) {
      problems.push({
        field: 'location',
        message: `uses plain http:// to ${site.base.host}, which anyone on the network path could read or change; use https://, or set allowInsecure: true if the network is trusted`,
      });
    }
  } catch (error) {
    if (!(error instanceof LocationProblem)) throw error;
    problems.push({ field: 'location', message: error.message });
  }
  const { headers, proxy, ca, allowInsecure, timeouts, retries } = config;
  if (headers !== undefined) {
    if (!isPlainObject(headers) || Object.values(headers).some((value) => typeof value !== 'string')) {
      problems.push({ field: 'headers', message: 'must be an object of header names to string values, e.g. { "X-Api-Key": "${REGISTRY_KEY}" }' });
    } else if (config.token !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      problems.push({ field: 'headers', message: 'sets Authorization and `token` is set too; use one of them' });
    }
  }
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
      problems.push({ field: 'timeouts', message: 'must be an object { connect, headers, body } of milliseconds' });
    } else {
      for (const [name, value] of Object.entries(timeouts)) {
        if (!TIMEOUT_NAMES.includes(name)) problems.push({ field: `timeouts.${name}`, message: 'is not a timeout; use connect, headers or body' });
        else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          problems.push({ field: `timeouts.${name}`, message: 'must be a positive number of milliseconds' });
        }
      }
    }
  }
  if (retries !== undefined && !(typeof retries === 'number' && Number.isInteger(retries) && retries >= 0 && retries <= 10)) {
    problems.push({ field: 'retries', message: 'must be a whole number from 0 to 10' });
  }
  return problems;
}

/** The credential headers of a registry: `token` as Bearer, plus `headers`. Empty when none is configured. */
export function credentialHeaders(config: SourceConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((config.headers as Record<string, string> | undefined) ?? {})) headers[name.toLowerCase()] = value;
  const token = typeof config.token === 'string' ? config.token.trim() : '';
  if (token !== '') headers.authorization = `Bearer ${token}`;
  return headers;
}

/** Reads `ca`: PEM text is used as is; anything else is a file path, relative to `baseDir`. */
export function readCertificates(ca: SourceConfig['ca'], baseDir: string, registry: string): string[] | undefined {
  if (ca === undefined) return undefined;
  const items = Array.isArray(ca) ? (ca as string[]) : [ca as string];
  return items.map((item) => {
    if (item.includes('-----BEGIN')) return item;
    const file = resolve(baseDir, item);
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new RegistryError('E_CONFIG', `registries.${registry}.ca: cannot read the CA file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Give PEM text or a readable file.`, {
        registry,
        cause: error,
        details: { field: `registries.${registry}.ca` },
      });
    }
  });
}

/** The client options that come from a registry's config (everything but `registry`, `env` and `logger`). */
export function clientOptionsOf(config: SourceConfig, origin: string, baseDir: string, registry: string): Partial<HttpClientOptions> {
  const headers = credentialHeaders(config);
  const ca = readCertificates(config.ca, baseDir, registry);
  return {
    ...(Object.keys(headers).length > 0 ? { credentials: { origin, headers } } : {}),
    ...(typeof config.proxy === 'string' ? { proxy: config.proxy } : {}),
    ...(ca ? { ca } : {}),
    ...(config.allowInsecure === true ? { allowInsecure: true } : {}),
    ...(isPlainObject(config.timeouts) ? { timeouts: config.timeouts as HttpClientOptions['timeouts'] } : {}),
    ...(typeof config.retries === 'number' ? { retries: config.retries } : {}),
  };
}
