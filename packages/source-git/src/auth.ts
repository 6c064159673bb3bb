/** How the token is presented to an HTTP git server. */
export type GitAuthScheme = 'basic' | 'bearer';

/**
 * The user name sent with a token over HTTP Basic when none is configured. Git servers read the token from the
 * password and mostly ignore the name, but some insist on one: GitLab takes OAuth tokens only as `oauth2`
 * (personal tokens with any name), Bitbucket Cloud takes access tokens as `x-token-auth`, and GitHub and Gitea take
 * anything — `x-access-token` is GitHub's documented name for app and Actions tokens.
 */
export function defaultUsername(origin: string | undefined): string {
  const host = origin ? new URL(origin).hostname.toLowerCase() : '';
  if (host.includes('gitlab')) return 'oauth2';
  if (host === 'bitbucket.org' || host.endsWith('.bitbucket.org')) return 'x-token-auth';
  return 'x-access-token';
}

/** The value of the `Authorization` header for a token. */
export function authorizationValue(token: string, scheme: GitAuthScheme, username: string): string {
  if (scheme === 'bearer') return `Bearer ${token}`;
  return `Basic ${Buffer.from(`${username}:${token}`, 'utf8').toString('base64')}`;
}
