/**
 * Keeps credentials out of npm's cache on disk. make-fetch-happen stores, with each cached response, the request
 * headers the response's `Vary` names, so a registry answering `Vary: Authorization` (common for private content)
 * had the token written into the cache index in clear. The agent (npm-agent.ts) removes the credential headers from
 * `Vary` before npm reads the answer. The cache is then shared by every credential of the same registry, as core's own
 * cache of that registry is.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';

const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Rewrites the `Vary` of the response to `request` without credential headers (dropping it when nothing is left). */
export function varyWithoutCredentials(request: ClientRequest): void {
  request.once('response', (response: IncomingMessage) => {
    const vary = response.headers.vary;
    if (vary === undefined) return;
    const kept = vary
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '' && !CREDENTIAL_HEADERS.has(name.toLowerCase()));
    if (kept.length > 0) response.headers.vary = kept.join(', ');
    else delete response.headers.vary;
  });
}
