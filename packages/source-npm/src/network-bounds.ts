/**
 * How long npm work may take and how much it may download: the `timeouts` and `limits` options of an npm registry
 * (and of the package settings core hands to `fetchPackage` and `installDependencies`).
 *
 * The names are the ones every HTTP source takes (core's http/registry-options.ts): `index` is the metadata of a
 * package (its packument, which a resolve reads), `entry` is one download (a tarball). Two more are npm's own:
 * `timeouts.attempt`, the per-request timeout of npm's fetch stack (which has no separate connect, headers and body
 * timeouts), and `timeouts.install`, the deadline of a whole dependency install.
 *
 * npm itself has neither a total deadline nor a size cap: its `timeout` (5 minutes by default) is reset by every
 * byte, so a server that trickles one byte every few seconds holds it forever, and an endless body is read to the
 * end of the disk. Every figure here has a default, so a registry that configures nothing is bounded too.
 */
import {
  type ConfigProblem,
  DEFAULT_HTTP_TIMEOUTS,
  type HttpLimits,
  RegistryError,
  type TransferPurpose,
  validateHttpSourceOptions,
} from '@agentos-registry/core';

/** Time limits, in ms. */
export interface NpmTimeouts {
  /** npm only. One HTTP attempt: connecting, waiting for the answer to start, or a pause in its data. Default 30 s (`.npmrc` `fetch-timeout` also sets it). */
  attempt?: number;
  /** One resolve: the packument request, retries included. Default 120 s, as on every source. */
  index?: number;
  /** One download: a tarball, retries included. Default 600 s, as on every source. */
  entry?: number;
  /** npm only. One dependency install, all of its requests. Default 10 min. */
  install?: number;
}

/** Size limits, in bytes: `index` one packument, decoded (after gzip); `entry` one tarball as downloaded. */
export type NpmLimits = HttpLimits;

/** The deadlines `index` and `entry` are core's, so they mean the same, by default too, on every source. */
export const DEFAULT_NPM_TIMEOUTS = { attempt: 30_000, index: DEFAULT_HTTP_TIMEOUTS.index, entry: DEFAULT_HTTP_TIMEOUTS.entry, install: 600_000 } as const;

/**
 * Not core's sizes (32 MiB, 1 GiB), for npm's reasons. `index`: a packument holds the manifest of every version, and
 * those of long-lived or often-published packages pass 32 MiB (tens of MiB are common; npmjs.org stops taking new
 * versions of a package only once its packument reaches about 100 MB), so 128 MiB lets through any packument
 * npmjs.org serves. `entry`: a tarball is one compressed package, which pacote stores in npm's cache and then unpacks
 * (several times larger), so each byte admitted costs disk twice over; 512 MiB is far above any real package and
 * halves what a hostile registry can make us write.
 */
export const DEFAULT_NPM_LIMITS = { index: 128 * 1024 ** 2, entry: 512 * 1024 ** 2 } as const;

/** The bounds in force, every one set. */
export interface NetworkBounds {
  timeouts: Required<NpmTimeouts>;
  limits: Required<NpmLimits>;
  /** `policy.allowHosts`, when set: the only hosts a request may go to. */
  allowHosts?: readonly string[];
}

/** What each purpose is, in messages: a resolve reads a packument, a download a tarball. */
export const NPM_PURPOSE_NAME: Record<TransferPurpose, string> = { index: 'packument', entry: 'tarball' };

const TIMEOUT_NAMES = Object.keys(DEFAULT_NPM_TIMEOUTS) as Array<keyof NpmTimeouts>;
/** The timeouts npm shares with every source; their values are checked by core. */
const SHARED_TIMEOUT_NAMES: readonly string[] = ['index', 'entry'];
/** Core's idle timeouts, which npm's fetch stack has no separate knobs for: its one per-request timeout is `attempt`. */
const IDLE_TIMEOUT_NAMES: readonly string[] = ['connect', 'headers', 'body'];
// Node's timers take at most 2^31-1 ms (a longer one fires at once); the same bound as core's for the shared names.
const MAX_TIMER_MS = 2 ** 31 - 1;

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Problems with `timeouts` and `limits` (absent is fine), for `validate` and for the standalone functions. */
export function networkBoundsProblems(config: { timeouts?: unknown; limits?: unknown }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { timeouts, limits } = config;
  const accepted = `use ${TIMEOUT_NAMES.slice(0, -1).join(', ')} or ${TIMEOUT_NAMES.at(-1)}`;
  if (timeouts !== undefined && !isPlainObject(timeouts)) {
    problems.push({ field: 'timeouts', message: `must be an object { ${TIMEOUT_NAMES.join(', ')} } of milliseconds` });
  } else if (timeouts !== undefined) {
    for (const [name, value] of Object.entries(timeouts)) {
      const field = `timeouts.${name}`;
      if (SHARED_TIMEOUT_NAMES.includes(name)) problems.push(...validateHttpSourceOptions({ type: 'npm', location: '', timeouts: { [name]: value } }));
      else if (IDLE_TIMEOUT_NAMES.includes(name)) {
        problems.push({ field, message: `is not a timeout of an npm registry (npm's fetch has one per-request timeout, \`timeouts.attempt\`); ${accepted}` });
      } else if (!(TIMEOUT_NAMES as string[]).includes(name)) problems.push({ field, message: `is not a timeout; ${accepted}` });
      else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
        problems.push({ field, message: 'must be a positive number of milliseconds' });
      }
    }
  }
  // `limits` has exactly core's names: core's checks and messages.
  if (limits !== undefined) problems.push(...validateHttpSourceOptions({ type: 'npm', location: '', limits }));
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
    throw new RegistryError('E_CONFIG', `Registry '${registryName}': \`${first!.field}\` ${first!.message}.`, {
      registry: registryName,
      details: { field: first!.field },
    });
  }
  const timeouts = (config.timeouts ?? {}) as NpmTimeouts;
  const limits = (config.limits ?? {}) as NpmLimits;
  return {
    timeouts: {
      attempt: timeouts.attempt ?? (fallbackAttempt !== undefined && fallbackAttempt > 0 ? fallbackAttempt : DEFAULT_NPM_TIMEOUTS.attempt),
      index: timeouts.index ?? DEFAULT_NPM_TIMEOUTS.index,
      entry: timeouts.entry ?? DEFAULT_NPM_TIMEOUTS.entry,
      install: timeouts.install ?? DEFAULT_NPM_TIMEOUTS.install,
    },
    limits: { index: limits.index ?? DEFAULT_NPM_LIMITS.index, entry: limits.entry ?? DEFAULT_NPM_LIMITS.entry },
  };
}

/** `12 s`, `1.5 s`, `250 ms`: a duration as messages give it. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
