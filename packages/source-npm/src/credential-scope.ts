/**
 * Which credential one HTTP request may carry. npm-registry-fetch picks the credential for the first URL of a fetch
 * (by nerf dart, `//host:port/path/`, so another port never matches), but make-fetch-happen then follows redirects
 * itself and drops Authorization only when the host *name* changes: a registry answering 302 to another port or
 * scheme of the same host handed that server the token. This check runs on every request that goes out, first hops
 * and redirect hops alike, so it does not depend on who followed the redirect.
 *
 * The rule: a request keeps its Authorization only when its origin (scheme, host and port) is the origin of a
 * configured registry and the header is exactly the one npm would pick for that URL. Anything else is removed.
 */
import type { ClientRequest } from 'node:http';
import { npmRegistryFetch } from './npm-stack.js';

/** Where the credentials of one set of npm options may go. */
export interface CredentialScope {
  /** Origins of the configured registries (`registry` and every `@scope:registry`). */
  readonly origins: ReadonlySet<string>;
  /** The pacote options holding the nerf-darted credentials, as npm-registry-fetch reads them. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** The scope of pacote options: their registries' origins, and the options themselves for npm's own lookup. */
export function credentialScope(options: Readonly<Record<string, unknown>>): CredentialScope {
  const origins = new Set<string>();
  for (const [key, value] of Object.entries(options)) {
    if ((key !== 'registry' && !/^@[^/]+:registry$/.test(key)) || typeof value !== 'string') continue;
    try {
      origins.add(new URL(value).origin);
    } catch {
      // Not a URL: no request can be made to it, so it grants nothing.
    }
  }
  return { origins, options };
}

/** The Authorization header `url` may carry: npm's pick for it, and only on a registry origin. */
export function authorizationFor(url: URL, scope: CredentialScope): string | undefined {
  if (!scope.origins.has(url.origin)) return undefined;
  const auth = npmRegistryFetch().getAuth(url.href, scope.options as Record<string, unknown>);
  if (auth.token) return `Bearer ${auth.token}`;
  if (auth.auth) return `Basic ${auth.auth}`;
  return undefined;
}

/** Removes the Authorization header of `request` (about to be sent to `url`) unless `url` is entitled to it. */
export function enforceCredentialScope(request: ClientRequest, url: URL, scope: CredentialScope): void {
  const header = request.getHeader('authorization');
  if (header === undefined) return;
  // minipass-fetch hands Node every header as an array of values; more than one Authorization is never npm's.
  const sent = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : String(header);
  if (sent !== undefined && sent === authorizationFor(url, scope)) return;
  request.removeHeader('authorization');
}
