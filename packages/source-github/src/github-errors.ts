import { parseRetryAfter, RegistryError } from '@agentos-registry/core';

/**
 * What GitHub's answers mean for a registry, in one place: which statuses are a missing repository, a bad token, a
 * used-up rate limit or a throttle worth waiting for. Every message says what to do next and never holds a token
 * (the caller passes whether one is configured, never the token itself).
 */

/** The parts of a failed HTTP answer this module looks at. */
export interface FailedResponse {
  status: number;
  headers: Record<string, string | undefined>;
  /** GitHub's `message` from the JSON body, when there is one. */
  message?: string;
}

/** Who is asking, for messages. */
export interface RequestScope {
  registry: string;
  /** `owner/repo` (or `host/owner/repo` on GHES). */
  repository: string;
  /** Whether a token was configured (never the token). */
  authenticated: boolean;
  /** What was being done, e.g. `checking branch 'main'`. */
  action: string;
}

/** The primary rate limit as GitHub reports it in `x-ratelimit-*`. */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  /** When the bucket refills. */
  resetAt?: Date;
  resource?: string;
}

export function readRateLimit(headers: Record<string, string | undefined>): RateLimitInfo {
  const number = (name: string) => {
    const value = headers[name];
    if (value === undefined || value.trim() === '') return undefined;
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const reset = number('x-ratelimit-reset');
  return {
    limit: number('x-ratelimit-limit'),
    remaining: number('x-ratelimit-remaining'),
    resetAt: reset === undefined ? undefined : new Date(reset * 1000),
    resource: headers['x-ratelimit-resource'],
  };
}

function describeWait(resetAt: Date | undefined, now: number): string {
  if (!resetAt) return 'It resets within the hour';
  const minutes = Math.max(0, Math.ceil((resetAt.getTime() - now) / 60_000));
  return `It resets at ${resetAt.toISOString()} (in ${minutes} min)`;
}

/**
 * Turns a failed answer into the error to throw. Nothing is retried here: core's client has already retried what can
 * heal (5xx, 429, and a 403 with `retry-after`, GitHub's secondary rate limit) within its budget, and returns a wait
 * longer than it allows as it is. `now` is a parameter so tests need no clock.
 */
export function judgeFailure(response: FailedResponse, scope: RequestScope, now = Date.now()): RegistryError {
  const { status, headers } = response;
  const { registry, repository, authenticated, action } = scope;
  const details = { status, repository };
  const rate = readRateLimit(headers);
  const serverSays = response.message ? ` GitHub says: "${response.message}".` : '';

  if (status === 401) {
    return new RegistryError(
      'E_AUTH',
      `GitHub rejected the token of registry '${registry}' (401 while ${action} in ${repository}).${serverSays} Check that the token is valid and has not expired or been revoked; a public repository also works with no token at all.`,
      { registry, details },
    );
  }

  if (status === 403 || status === 429) {
    // Core's parser, in whole seconds for the message: delta seconds or an HTTP date, a past date being 0.
    const waitMs = parseRetryAfter(headers['retry-after'], now);
    const retryAfter = waitMs === undefined ? undefined : Math.ceil(waitMs / 1000);
    if (rate.remaining === 0 && retryAfter === undefined) {
      const limit = rate.limit === undefined ? '' : ` of ${rate.limit} requests per hour`;
      const raise = authenticated
        ? ' The limit belongs to the token: wait for the reset, or use a token with its own quota (a GitHub App installation token gets up to 15,000/h).'
        : ' Configure a `token` (a personal access token, even one with no scopes, or an app token): it raises the limit from 60 to 5,000 requests per hour.';
      return new RegistryError(
        'E_RATE_LIMIT',
        `GitHub's API rate limit${limit} is used up for registry '${registry}' (${status} while ${action} in ${repository}). ${describeWait(rate.resetAt, now)}.${raise} Cached indexes are still served meanwhile.`,
        { registry, details: { ...details, resetAt: rate.resetAt?.toISOString(), limit: rate.limit } },
      );
    }
    const secondary = retryAfter !== undefined || status === 429 || /secondary rate limit|abuse/i.test(response.message ?? '');
    if (secondary) {
      const wait = retryAfter === undefined ? 'at least a minute' : `${retryAfter} s`;
      return new RegistryError(
        'E_RATE_LIMIT',
        `GitHub throttled registry '${registry}' with a secondary rate limit (${status} while ${action} in ${repository}); it asks to wait ${wait} before trying again. Too many requests in a short time cause this: fetch fewer entries at once or raise cacheDuration.`,
        { registry, details: { ...details, retryAfter } },
      );
    }
    return new RegistryError(
      'E_AUTH',
      `GitHub refused access for registry '${registry}' (403 while ${action} in ${repository}).${serverSays} ${
        authenticated
          ? 'The token lacks a permission: a classic token needs the `repo` scope for private repositories, a fine-grained or app token needs "Contents: read" on this repository, and an organization with SAML SSO must have authorized the token.'
          : 'The repository may need a `token`.'
      }`,
      { registry, details },
    );
  }

  if (status === 404) {
    const hint = authenticated
      ? `Check the owner and name, and that the token can see it (a classic token needs the \`repo\` scope for private repositories; a fine-grained or app token needs "Contents: read" on ${repository}).`
      : 'Check the owner and name. If the repository is private: GitHub answers 404 to requests without credentials, and private repositories need a `token` (e.g. token: process.env.GITHUB_TOKEN).';
    return new RegistryError('E_NOT_FOUND', `GitHub has no repository ${repository} visible to registry '${registry}' (404 while ${action}). ${hint}`, {
      registry,
      details,
    });
  }

  if (status >= 500) {
    return new RegistryError(
      'E_UNREACHABLE',
      `GitHub answered ${status} to registry '${registry}' while ${action} in ${repository}; GitHub may be having trouble. Try again later; cached indexes are served meanwhile.`,
      { registry, details },
    );
  }

  return new RegistryError('E_UNREACHABLE', `GitHub answered ${status} to registry '${registry}' while ${action} in ${repository}.${serverSays}`, {
    registry,
    details,
  });
}
