/**
 * What an HTTP status means for a registry, worded once for every HTTP source: 401/403 → `E_AUTH`, 404/410 →
 * `E_NOT_FOUND`, 429 and rate limits → `E_RATE_LIMIT` (with the wait or the reset), 5xx and anything else unexpected →
 * `E_UNREACHABLE` (so core serves a cached copy). A source only says what the request was and, where its protocol knows
 * better, what to do next (`hints`); it never sees a token, so no message can hold one.
 */
import { RegistryError } from '../errors.js';
import { parseRetryAfter } from './retry.js';

/** What a source tells core about a failed request, to word its error. */
export interface StatusWording {
  /** The registry's name. */
  registry: string;
  /** What the request was for, a noun phrase: `registry.json`, `the tarball of x@1.0.0`, `the repository o/r (checking 'main')`. */
  what: string;
  /** Who answered, for messages (`GitHub`); default the host of the URL. */
  service?: string;
  /** Whether credentials are configured (never the credentials): picks the default hints. */
  authenticated: boolean;
  /** The server's own explanation (an API error's `message`), quoted shortened and without control characters. */
  serverMessage?: string;
  /** What to do next, per outcome, replacing core's generic advice. */
  hints?: {
    /** 401, and 403 that is no rate limit. */
    auth?: string;
    /** 403 that is no rate limit, when it needs other advice than 401. */
    forbidden?: string;
    /** 404 and 410. */
    notFound?: string;
    /** A spent quota (`x-ratelimit-remaining: 0`): how to get a higher one. */
    quota?: string;
    /** A throttle (429, or a 403 that names a wait or calls itself a rate limit). */
    throttled?: string;
  };
  /** For tests: the clock that a `Retry-After` date and `x-ratelimit-reset` are read against. */
  now?: number;
}

/** The parts of an answer that are read: a client `HttpResponse`, or any `{ status, headers }`. */
export interface FailedAnswer {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  /** The final URL, for the host named in messages (never the URL itself: its query may be a credential). */
  url?: string;
}

// Printable text only, and not much of it: the server chose these bytes.
const quoted = (text: string) =>
  text
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .slice(0, 200);
const num = (value: string | undefined) => (value === undefined || value.trim() === '' || !Number.isFinite(Number(value)) ? undefined : Number(value));

/** The RegistryError of an answer whose status is not the one the request wanted. */
export function statusError(answer: FailedAnswer, wording: StatusWording): RegistryError {
  const { status, headers } = answer;
  const { registry, what, authenticated, hints = {} } = wording;
  const now = wording.now ?? Date.now();
  const host = answer.url ? new URL(answer.url).host : undefined;
  const service = wording.service ?? host ?? 'The server';
  const says = wording.serverMessage ? ` It says: "${quoted(wording.serverMessage)}".` : '';
  const details = { status, ...(host ? { host } : {}) };
  const fail = (code: 'E_AUTH' | 'E_NOT_FOUND' | 'E_RATE_LIMIT' | 'E_UNREACHABLE', text: string, extra: Record<string, unknown> = {}) =>
    new RegistryError(code, `Registry "${registry}": ${text}`, { registry, details: { ...details, ...extra } });

  if (status === 403 || status === 429) {
    const waitMs = parseRetryAfter(headers['retry-after'], now);
    const limit = num(headers['x-ratelimit-limit']);
    const reset = num(headers['x-ratelimit-reset']);
    if (headers['x-ratelimit-remaining'] === '0' && waitMs === undefined) {
      const resetAt = reset === undefined ? undefined : new Date(reset * 1000);
      const when = resetAt ? `It resets at ${resetAt.toISOString()} (in ${Math.max(0, Math.ceil((resetAt.getTime() - now) / 60_000))} min)` : 'It resets later';
      const advice =
        hints.quota ??
        (authenticated ? 'Wait for the reset, or use credentials with a higher limit.' : 'Credentials usually raise the limit: configure a `token`.');
      return fail(
        'E_RATE_LIMIT',
        `${service}'s rate limit${limit === undefined ? '' : ` of ${limit} requests`} is used up (${status} for ${what}). ${when}. ${advice} Cached copies are served meanwhile.`,
        {
          ...(resetAt ? { resetAt: resetAt.toISOString() } : {}),
          ...(limit === undefined ? {} : { limit }),
        },
      );
    }
    if (status === 429 || waitMs !== undefined || /rate.?limit|abuse/i.test(wording.serverMessage ?? '')) {
      const wait = waitMs === undefined ? 'at least a minute' : `${Math.ceil(waitMs / 1000)} s`;
      const advice = hints.throttled ?? 'Too many requests in a short time: try again later, fetch fewer entries at once, or raise cacheDuration.';
      return fail(
        'E_RATE_LIMIT',
        `${service} is throttling requests (${status} for ${what}) and asks to wait ${wait}.${says} ${advice}`,
        waitMs === undefined ? {} : { retryAfterMs: waitMs },
      );
    }
  }
  if (status === 401 || status === 403) {
    const advice =
      (status === 403 ? hints.forbidden : undefined) ??
      hints.auth ??
      (authenticated
        ? 'Check that the configured credentials are valid, have not expired, and are allowed to read this.'
        : 'It needs credentials: configure a `token`.');
    const refused = status === 401 && authenticated ? 'rejected the credentials' : 'refused access';
    return fail('E_AUTH', `${service} ${refused} (${status} for ${what}).${says} ${advice}`);
  }
  if (status === 404 || status === 410) {
    return fail('E_NOT_FOUND', `${what} was not found on ${service} (${status}).${says} ${hints.notFound ?? 'Check the registry location.'}`);
  }
  const why =
    status >= 500
      ? 'a server error, after retries; it may be having trouble. Try again later'
      : 'an unexpected answer. Check that the location points at a registry of this type';
  return fail('E_UNREACHABLE', `${service} answered ${status} for ${what}, ${why}; cached copies are served meanwhile.${says}`);
}

/**
 * The `E_UNREACHABLE` of an answer with the wanted status whose body is not what the protocol sends (an HTML page,
 * garbage): the server's fault, like a reset, so core serves a cached copy. `problem` says what is wrong with it
 * (`is not a git tree`) and never quotes it; `service` names who answered (`GitHub (api.github.com)`).
 */
export function malformedAnswerError(wording: { registry: string; service: string; action: string; problem: string }): RegistryError {
  const { registry, service, action, problem } = wording;
  return new RegistryError(
    'E_UNREACHABLE',
    `${service} answered registry "${registry}" with something that ${problem} while ${action}; the server, or a proxy in front of it, is failing. Cached copies are served meanwhile.`,
    { registry, details: { action } },
  );
}
