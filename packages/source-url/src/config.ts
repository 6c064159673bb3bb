/** The options of a `url` registry and their checks (for `validate`); the transport options are core's. */
import { type ConfigProblem, HTTP_SOURCE_OPTIONS, type HttpSourceOptions, type SourceConfig, validateHttpSourceOptions } from '@agentos-registry/core';
import { isInsecureRemote, LocationProblem, parseSiteLocation } from './location.js';

/** The config of a `url` registry: the page's fields plus the options below. */
export interface UrlSourceConfig extends SourceConfig, HttpSourceOptions {
  type: 'url';
  /** The folder URL holding `registry.json`, e.g. `https://extensions.yourcompany.example`. */
  location: string;
  /** Sent as `Authorization: Bearer <token>`, to the registry's origin only. */
  token?: string;
  /** Other credential headers (`X-Api-Key`, `Authorization: Basic …`), to the registry's origin only; redacted. */
  headers?: Record<string, string>;
}

/** Names of the options a `url` registry accepts besides the common ones. */
export const URL_OPTIONS = ['headers', ...HTTP_SOURCE_OPTIONS] as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

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
  const { headers } = config;
  if (headers !== undefined) {
    if (!isPlainObject(headers) || Object.values(headers).some((value) => typeof value !== 'string')) {
      problems.push({ field: 'headers', message: 'must be an object of header names to string values, e.g. { "X-Api-Key": "${REGISTRY_KEY}" }' });
    } else if (config.token !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      problems.push({ field: 'headers', message: 'sets Authorization and `token` is set too; use one of them' });
    }
  }
  problems.push(...validateHttpSourceOptions(config));
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
