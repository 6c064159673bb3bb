/** Credentials a test server demands. */
export type ServerAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

/**
 * Checks an Authorization header against `auth`, returning the user name to report as REMOTE_USER
 * or `undefined` when the header is missing or wrong.
 *
 * A bearer server also accepts Basic with the token as password (any user name), because that is
 * how GitHub, GitLab and Gitea take tokens from git, whose credential helpers only speak Basic.
 */
export function checkAuthorization(header: string | undefined, auth: ServerAuth): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') {
    return auth.type === 'bearer' && value === auth.token ? 'token' : undefined;
  }
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (auth.type === 'basic') {
    return username === auth.username && password === auth.password ? username : undefined;
  }
  return password === auth.token ? username || 'token' : undefined;
}

/** The header value for HTTP Basic, for tests that pass credentials via `http.extraHeader`. */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** A copy of request headers without the ones that carry secrets, safe to keep in a log. */
export function withoutSecrets(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const copy: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name === 'authorization' || name === 'proxy-authorization' || name === 'cookie') continue;
    copy[name] = value;
  }
  return copy;
}
