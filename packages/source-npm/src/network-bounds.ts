/**
 * How long npm work may take and how much it may download: the `timeouts` and `limits` options of an npm registry
 * (and of the package settings core hands to `fetchPackage` and `installDependencies`).
 *
 * npm itself has neither a total deadline nor a size cap: its `timeout` (5 minutes by default) is reset by every
 * byte, so a server that trickles one byte every few seconds holds it forever, and an endless body is read to the
 * end of the disk. Every figure here has a default, so a registry that configures nothing is bounded too.
 */
import { type ConfigProblem, RegistryError } from '@agentos-registry/core';

/** Time limits, in ms. */
export interface NpmTimeouts {
  /** One HTTP attempt: connecting, waiting for the answer to start, or a pause in its data. Default 30 s (`.npmrc` `fetch-timeout` also sets it). */
  attempt?: number;
  /** One resolve (packument) or one download (tarball), retries included. Default 120 s. */
  total?: number;
  /** One dependency install, all of its requests. Default 10 min. */
  install?: number;
}

/** Size limits, in bytes. */
export interface NpmLimits {
  /** One packument, decoded (after gzip). Default 128 MiB. */
  packument?: number;
  /** One tarball as downloaded. Default 512 MiB. */
  tarball?: number;
}

export const DEFAULT_NPM_TIMEOUTS = { attempt: 30_000, total: 120_000, install: 600_000 } as const;
export const DEFAULT_NPM_LIMITS = { packument: 128 * 1024 ** 2, tarball: 512 * 1024 ** 2 } as const;

/** The bounds in force, every one set. */
export interface NetworkBounds {
  timeouts: Required<NpmTimeouts>;
  limits: Required<NpmLimits>;
}

const TIMEOUT_NAMES = Object.keys(DEFAULT_NPM_TIMEOUTS) as Array<keyof NpmTimeouts>;
const LIMIT_NAMES = Object.keys(DEFAULT_NPM_LIMITS) as Array<keyof NpmLimits>;

/** Problems with `timeouts` and `limits` (absent is fine), for `validate` and for the standalone functions. */
export function networkBoundsProblems(config: { timeouts?: unknown; limits?: unknown }): ConfigProblem[] {
  return [
    ...groupProblems('timeouts', config.timeouts, TIMEOUT_NAMES, 'milliseconds'),
    ...groupProblems('limits', config.limits, LIMIT_NAMES, 'bytes'),
  ];
}

function groupProblems(field: string, value: unknown, names: readonly string[], unit: string): ConfigProblem[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ field, message: `must be an object { ${names.join(', ')} } of ${unit}` }];
  }
  const problems: ConfigProblem[] = [];
  for (const [name, item] of Object.entries(value)) {
    if (!names.includes(name)) problems.push({ field: `${field}.${name}`, message: `is not one of ${names.join(', ')}` });
    else if (typeof item !== 'number' || !Number.isFinite(item) || item <= 0) problems.push({ field: `${field}.${name}`, message: `must be a positive number of ${unit}` });
  }
  return problems;
}

/**
 * The bounds for one registry or call: the options given, else `fallbackAttempt` (`.npmrc`'s `fetch-timeout`) for
 * `attempt`, else the defaults. Invalid options are `E_CONFIG` naming the field.
 */
export function resolveNetworkBounds(config: { timeouts?: unknown; limits?: unknown }, registryName: string, fallbackAttempt?: number): NetworkBounds {
  const problems = networkBoundsProblems(config);
  if (problems.length > 0) {
    const [first] = problems;
    throw new RegistryError('E_CONFIG', `Registry '${registryName}': \`${first!.field}\` ${first!.message}.`, { registry: registryName, details: { field: first!.field } });
  }
  const timeouts = (config.timeouts ?? {}) as NpmTimeouts;
  const limits = (config.limits ?? {}) as NpmLimits;
  return {
    timeouts: {
      attempt: timeouts.attempt ?? (fallbackAttempt !== undefined && fallbackAttempt > 0 ? fallbackAttempt : DEFAULT_NPM_TIMEOUTS.attempt),
      total: timeouts.total ?? DEFAULT_NPM_TIMEOUTS.total,
      install: timeouts.install ?? DEFAULT_NPM_TIMEOUTS.install,
    },
    limits: { packument: limits.packument ?? DEFAULT_NPM_LIMITS.packument, tarball: limits.tarball ?? DEFAULT_NPM_LIMITS.tarball },
  };
}

/** `12 s`, `1.5 s`, `250 ms`: a duration as messages give it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
