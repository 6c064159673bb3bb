import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/** How many redirects one request may follow. */
const MAX_REDIRECTS = 5;

/** A redirect that would carry the token to another origin: refused instead of followed. */
export class CrossOriginRedirectError extends Error {
  override readonly name = 'CrossOriginRedirectError';
  readonly code = 'CrossOriginRedirect';
}

/** What one HTTP client instance needs: the origin that may see the token, the token's header, the call's signal. */
export interface HttpClientOptions {
  /** Origin of the configured repository URL; the only one `authorization` is ever sent to. */
  origin: string;
  /** `Authorization` header value, when a token is configured. */
  authorization?: string;
  signal: AbortSignal;
  /** The fetch to send requests with: core's HTTP client (proxies, CAs, retries, timeouts), else Node's own. */
  fetch?: typeof globalThis.fetch;
}

/**
 * The HTTP transport handed to isomorphic-git, on core's HTTP client (its `fetch`): the same proxies
 * (`HTTPS_PROXY`, `NO_PROXY`), CAs, timeouts and retries as every other source.
 *
 * The token is attached here, per request, and only when the request's origin is the repository's: isomorphic-git's
 * own `headers` option would send it wherever a redirect leads. Redirects are followed by hand for the same reason —
 * within the origin with the token, to another origin only when there is no token (with one, the request fails and
 * the message asks for the final URL). Any `Authorization` isomorphic-git adds itself is dropped. Every request
 * carries the call's AbortSignal, so cancelling stops the transfer.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return {
    async request(request: GitHttpRequest): Promise<GitHttpResponse> {
      const method = request.method ?? 'GET';
      const body = request.body === undefined ? undefined : await collect(request.body);
      let url = request.url;
      for (let hop = 0; ; hop++) {
        const target = new URL(url);
        const sameOrigin = target.origin === options.origin;
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers ?? {})) {
          if (name.toLowerCase() !== 'authorization') headers[name] = value;
        }
        if (options.authorization !== undefined && sameOrigin) headers.Authorization = options.authorization;
        const response = await (options.fetch ?? fetch)(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          redirect: 'manual',
          signal: options.signal,
        });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hop >= MAX_REDIRECTS) throw new CrossOriginRedirectError(`too many redirects from ${request.url}`);
          const next = new URL(location, url);
          if (options.authorization !== undefined && next.origin !== options.origin) {
            throw new CrossOriginRedirectError(`the server redirected to ${next.origin}; redirects are not followed to another origin while a token is set`);
          }
          url = next.href;
          continue;
        }
        const responseHeaders: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          responseHeaders[name] = value;
        });
        return {
          url,
          method,
          statusCode: response.status,
          statusMessage: response.statusText,
          headers: responseHeaders,
          body: response.body ? chunks(response.body) : chunks([]),
        };
      }
    },
  };
}

async function collect(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

async function* chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterableIterator<Uint8Array> {
  for await (const chunk of source) yield chunk;
}
