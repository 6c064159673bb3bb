/**
 * What pacote and npm-registry-fetch throw, turned into core's codes with a message that says what to do next. The
 * raw error stays as `cause` (core redacts it); tokens never appear in these messages, only registry URLs.
 */
import { abortError, isNetworkErrorCode, isRegistryError, isUntrustedCertificateCode, RegistryError, untrustedCertificateAdvice } from '@agentos-registry/core';
import { formatDuration, NPM_PURPOSE_NAME } from './network-bounds.js';
import { HOST_REFUSED, LOOPBACK_REFUSED } from './npm-agent.js';
import { RESPONSE_TOO_LARGE } from './response-limit.js';

/** What the failing call was about, for the message. */
export interface NpmErrorContext {
  /** Configured registry name (or a label such as `npm` for standalone calls). */
  registry: string;
  /** Package name. */
  name: string;
  /** The version, range or dist-tag asked for. */
  selector: string;
  /** Registry URL, without credentials. */
  registryUrl: string;
  /** Whether a credential was configured for the registry, to tell "missing" from "refused". */
  authenticated: boolean;
  /** What was being done, e.g. `Resolving` or `Downloading`. */
  action: string;
  signal?: AbortSignal;
  /** The per-attempt timeout in force (ms), to say which limit ran out. */
  attemptMs?: number;
}

/** How many versions an "unknown version" message lists (the newest ones). */
const LISTED_VERSIONS = 15;

interface NpmLikeError {
  name?: string;
  code?: string;
  /** Set on a response over its limit (response-limit.ts): which limit, `index` or `entry`. */
  purpose?: string;
  limit?: number;
  type?: string;
  statusCode?: number;
  versions?: string[];
  distTags?: Record<string, string>;
  message?: string;
}

/** Maps any failure of a pacote call to a `RegistryError`. Never throws. */
export function toNpmError(error: unknown, context: NpmErrorContext): RegistryError {
  if (isRegistryError(error)) return error;
  const err = (error ?? {}) as NpmLikeError;
  const { registry } = context;
  const what = `${context.name}@${context.selector}`;
  const on = `on ${context.registryUrl}`;
  // `registryUrl` (never with credentials) and, where it tells two causes apart, `reason`: core words the messages
  // about an entry's code from these (naming the registry that listed the entry), not from this text.
  const make = (code: ConstructorParameters<typeof RegistryError>[0], message: string, details: Record<string, unknown> = {}) =>
    new RegistryError(code, message, {
      registry,
      cause: error,
      details: { package: context.name, selector: context.selector, registryUrl: context.registryUrl, ...details },
    });

  if (context.signal?.aborted || err.name === 'AbortError' || err.code === 'ABORT_ERR') return abortedError(context);
  const code = err.code ?? '';
  const status = typeof err.statusCode === 'number' ? err.statusCode : /^E\d{3}$/.test(code) ? Number(code.slice(1)) : undefined;

  if (code === HOST_REFUSED) {
    const host = typeof (err as { host?: unknown }).host === 'string' ? (err as { host: string }).host : 'another host';
    return make(
      'E_POLICY',
      `${context.action} ${what} for registry '${registry}': npm was sent to ${host} (by .npmrc, a tarball URL in a packument, or a redirect), which policy.allowHosts does not allow; the request was not made. Add that host to policy.allowHosts if it is trusted.`,
      { rule: 'allowHosts', host },
    );
  }
  if (code === LOOPBACK_REFUSED) {
    return make(
      'E_POLICY',
      `${context.action} ${what} for registry '${registry}': ${context.registryUrl} sent npm to a host on this machine, which a registry elsewhere may not do (a tarball URL or a redirect to a local service); the request was not made. Report it to the registry's owner.`,
    );
  }
  if (code === RESPONSE_TOO_LARGE) {
    const purpose = err.purpose === 'index' ? 'index' : 'entry';
    const option = `limits.${purpose}`;
    return make(
      'E_TOO_LARGE',
      `The ${NPM_PURPOSE_NAME[purpose]} of ${what} from ${context.registryUrl} is larger than ${formatBytes(err.limit ?? 0)} (\`${option}\`, registry '${registry}'); it was not read any further. If the registry really serves something that big, raise \`${option}\` (bytes) on the registry.`,
      { limit: err.limit, option },
    );
  }
  if (code === 'ENOTCACHED') {
    return make(
      'E_NOT_CACHED',
      `${what} is not in the npm cache, and offline mode forbids fetching it from ${context.registryUrl} (registry '${registry}'). Run once online to fill the cache.`,
    );
  }
  if (code === 'ETARGET' || code === 'ENOVERSIONS') {
    return make('E_NOT_FOUND', `No version of ${context.name} matches '${context.selector}' ${on} (registry '${registry}'). ${versionsHint(err)}`, {
      reason: 'no-matching-version',
      versions: err.versions ?? [],
      distTags: err.distTags ?? {},
    });
  }
  if (status === 404) {
    const privateHint = context.authenticated
      ? ' If it is private, check that the token may read it.'
      : ' If it is private, configure a `token` (or an .npmrc credential) for this registry.';
    return make(
      'E_NOT_FOUND',
      `Package ${context.name} does not exist ${on} (registry '${registry}'). Check \`location\` (the package name) and \`registry\`.${privateHint}`,
      { reason: 'no-package', authenticated: context.authenticated },
    );
  }
  if (status === 401 || status === 403 || code === 'EOTP' || code === 'EAUTHIP') {
    const why = context.authenticated
      ? `the registry refused the configured credential (HTTP ${status ?? code}). Check that the token is valid and may read ${context.name}.`
      : `the registry requires authentication (HTTP ${status ?? code}) and none is configured. Set \`token\` on the registry (e.g. token: process.env.NPM_TOKEN) or add //host/:_authToken to .npmrc.`;
    return make('E_AUTH', `${context.action} ${what} ${on} for registry '${registry}' failed: ${why}`, {
      status: status ?? code,
      authenticated: context.authenticated,
    });
  }
  if (status === 429) {
    return make('E_RATE_LIMIT', `${context.registryUrl} is rate-limiting requests for ${what} (registry '${registry}'). Try again later.`);
  }
  if (status !== undefined && status >= 500) {
    return make(
      'E_UNREACHABLE',
      `${context.registryUrl} answered HTTP ${status} for ${what} (registry '${registry}'). The registry is failing; try again later.`,
    );
  }
  const attempt = attemptTimeout(err);
  if (attempt) {
    const limit = context.attemptMs === undefined ? '' : ` within ${formatDuration(context.attemptMs)}`;
    return make(
      'E_UNREACHABLE',
      `${context.registryUrl} ${attempt}${limit} while ${context.action.toLowerCase()} ${what} (registry '${registry}'; per attempt, \`timeouts.attempt\`). The registry is down or stalled; if it is only slow, raise \`timeouts.attempt\` (ms) on the registry (or fetch-timeout in .npmrc).`,
      { timeout: 'timeouts.attempt', ms: context.attemptMs },
    );
  }
  if (err.type === 'invalid-json' || code === 'EJSONPARSE' || err.name === 'SyntaxError') {
    // A server (or proxy) fault, so core may serve a cached copy; npm's message quotes the bytes, this one does not.
    return make(
      'E_UNREACHABLE',
      `${context.registryUrl} answered with something that is not JSON while ${context.action.toLowerCase()} ${what} (registry '${registry}'). The registry, or a proxy in front of it, is failing; try again later.`,
    );
  }
  if (isNetworkErrorCode(code) || isUntrustedCertificateCode(code) || err.type === 'system') {
    const advice = isUntrustedCertificateCode(code) ? untrustedCertificateAdvice(code) : 'Check the network, proxy settings and `registry`.';
    return make(
      'E_UNREACHABLE',
      `Registry '${registry}' could not reach ${context.registryUrl} while ${context.action.toLowerCase()} ${what} (${code || err.type}). ${advice}`,
    );
  }
  if (code === 'EINTEGRITY' || code === 'EBADSIZE') {
    return make(
      'E_INTEGRITY',
      `The tarball of ${what} from ${context.registryUrl} does not match the integrity the registry published (registry '${registry}'). It was not used; report it to the registry's owner.`,
    );
  }
  return make('E_INTERNAL', `${context.action} ${what} ${on} for registry '${registry}' failed: ${err.message ?? String(error)}`);
}

/** `512 MiB`, `1.5 KiB`, `12 bytes`. */
function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${Number.isInteger(bytes / size) ? bytes / size : (bytes / size).toFixed(1)} ${unit}`;
  }
  return `${bytes} bytes`;
}

/** What ran out when one attempt timed out, as a phrase after the URL; `undefined` for every other error. */
function attemptTimeout(err: NpmLikeError): string | undefined {
  if (err.type === 'request-timeout' || err.code === 'ERESPONSETIMEOUT') return 'did not start to answer';
  if (err.code === 'ECONNECTIONTIMEOUT') return 'did not accept a connection';
  if (err.code === 'EIDLETIMEOUT') return 'stopped sending data';
  if (err.type === 'body-timeout' || err.code === 'ETRANSFERTIMEOUT') return 'did not finish its answer';
  return undefined;
}

/**
 * The error for work that outlasted its total deadline: `E_UNREACHABLE` (so core may serve a cached copy), naming
 * the deadline and the option that raises it.
 */
export function deadlineError(context: Omit<NpmErrorContext, 'attemptMs'>, ms: number, option: string): RegistryError {
  const what = context.name === '' ? 'the dependencies' : `${context.name}@${context.selector}`;
  return new RegistryError(
    'E_UNREACHABLE',
    `${context.action} ${what} from ${context.registryUrl} for registry '${context.registry}' did not finish within ${formatDuration(ms)} (the total deadline, \`${option}\`). The registry is stalled or very slow; if it is only slow, raise \`${option}\` (ms) on the registry.`,
    { registry: context.registry, details: { package: context.name, selector: context.selector, timeout: option, ms } },
  );
}

/** The error for work the caller (core's signal) aborted: core's one wording. */
export function abortedError(context: Omit<NpmErrorContext, 'attemptMs'>): RegistryError {
  return abortError(context.signal, `${context.action} ${context.name === '' ? 'the dependencies' : `${context.name}@${context.selector}`}`, context.registry);
}

/** "Available versions: …; dist-tags: …" for an unmatched version, newest last. */
function versionsHint(err: NpmLikeError): string {
  const versions = err.versions ?? [];
  const tags = Object.entries(err.distTags ?? {}).map(([tag, version]) => `${tag} → ${version}`);
  if (versions.length === 0) return 'The package has no versions at all.';
  const shown = versions.length > LISTED_VERSIONS ? ['…', ...versions.slice(-LISTED_VERSIONS)] : versions;
  const tagText = tags.length > 0 ? `; dist-tags: ${tags.join(', ')}` : '';
  return `Available versions: ${shown.join(', ')}${tagText}. Set \`version\` to one of them, a range that matches one, or a dist-tag.`;
}
