import { isRetryableResponse, type RetryCandidate, type StatusWording } from '@agentos-registry/core';

/**
 * What GitHub's failures mean, as hooks of core's HTTP client: core maps every status to its RegistryError and retries
 * what can heal; GitHub adds only what its API means. Every hint says what to do next and never holds a token (core
 * is told whether one is configured, never the token).
 */

/** GitHub's secondary rate limit is a 403 that names a wait: retried like a 429, on top of core's default. */
export function githubRetryable(response: RetryCandidate): boolean {
  return isRetryableResponse(response) || (response.status === 403 && response.headers['retry-after'] !== undefined);
}

const SCOPES = 'a classic token needs the `repo` scope for private repositories, a fine-grained or app token needs "Contents: read" on';

/** How core words a failed GitHub answer; `message` is GitHub's own explanation from the JSON body. */
export function githubWording(scope: { registry: string; repository: string; action: string; authenticated: boolean }, message?: string): StatusWording {
  const { registry, repository, action, authenticated } = scope;
  return {
    registry,
    what: `the repository ${repository} (${action})`,
    service: 'GitHub',
    authenticated,
    ...(message ? { serverMessage: message } : {}),
    hints: {
      auth: 'Check that the token is valid and has not expired or been revoked; a public repository also works with no token at all.',
      forbidden: authenticated
        ? `The token lacks a permission: ${SCOPES} this repository, and an organization with SAML SSO must have authorized the token.`
        : 'The repository may need a `token`.',
      notFound: authenticated
        ? `Check the owner and name, and that the token can see it (${SCOPES} ${repository}).`
        : 'Check the owner and name. If the repository is private: GitHub answers 404 to requests without credentials, and private repositories need a `token` (e.g. token: process.env.GITHUB_TOKEN).',
      quota: authenticated
        ? 'The limit belongs to the token: wait for the reset, or use a token with its own quota (a GitHub App installation token gets up to 15,000/h).'
        : 'Configure a `token` (a personal access token, even one with no scopes, or an app token): it raises the limit from 60 to 5,000 requests per hour.',
      throttled: "This is GitHub's secondary rate limit, for too many requests in a short time: fetch fewer entries at once or raise cacheDuration.",
    },
  };
}
