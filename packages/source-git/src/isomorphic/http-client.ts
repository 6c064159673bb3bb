import type { TransferPurpose } from '@agentos-registry/core';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/** How many redirects one request may follow. */
const MAX_REDIRECTS = 5;

/** A redirect that would carry the token to another origin: refused instead of followed. */
export class CrossOriginRedirectError extends Error {
  override readonly name = 'CrossOriginRedirectError';
  readonly code = 'CrossOriginRedirect';
}

/** A ref advertisement that ended without its closing flush packet: the connection was cut while it streamed. */
export class TruncatedAdvertisementError extends Error {
  override readonly name = 'TruncatedAdvertisementError';
  readonly code = 'TruncatedAdvertisement';
}

/**
 * The transport faults of one engine call. isomorphic-git's pkt-line reader catches an error of the response body
 * and takes it for the end of the stream, so a connection reset while the ref advertisement streams came out as
 * "Empty response from git server" (E_INTERNAL) or as a shorter list of refs that looked whole ("no HEAD: it is
 * empty", E_NOT_FOUND) — and a warm cache was not served stale. The client records each such fault here, where
 * isomorphic-git cannot swallow it, and the engine reports it as the network fault it is.
 */
export class TransportFaults {
  #first: { error: unknown } | undefined;

  record(error: unknown): void {
    this.#first ??= { error };
  }

  /** The first fault of the call, if there was one. */
  get first(): { error: unknown } | undefined {
    return this.#first;
  }
}

/** What one HTTP client instance needs: the origin that may see the token, the token's header, the call's signal. */
export interface HttpClientOptions {
  /** Origin of the configured repository URL; the only one `authorization` is ever sent to. */
  origin: string;
  /** `Authorization` header value, when a token is configured. */
  authorization?: string;
  signal: AbortSignal;
  /**
   * The fetch for each purpose (see {@link purposeOf}): core's HTTP client (`fetchWith({ purpose })`: proxies, CAs,
   * retries, idle timeouts, and the purpose's deadline and byte limit), else Node's own.
   */
  fetch?: Record<TransferPurpose, typeof globalThis.fetch>;
  /** Where a body that fails as it streams is recorded (isomorphic-git itself would take it for a short body). */
  faults?: TransportFaults;
}

/**
 * What a request of isomorphic-git is for, which picks its deadline (`timeouts.index` / `timeouts.entry`) and byte
 * limit: the ref listing (`GET …/info/refs`) is an index; everything else it sends is a pack request (`POST
 * …/git-upload-pack`), whose answer holds file contents, so an entry download.
 */
export function purposeOf(request: GitHttpRequest): TransferPurpose {
  const method = (request.method ?? 'GET').toUpperCase();
  return method === 'GET' && new URL(request.url).pathname.endsWith('/info/refs') ? 'index' : 'entry';
}

/**
 * The HTTP transport handed to isomorphic-git, on core's HTTP client (its `fetch`): the same proxies
 * (`HTTPS_PROXY`, `NO_PROXY`), CAs, timeouts, deadlines, limits and retries as every other source.
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
      const send = options.fetch?.[purposeOf(request)] ?? fetch;
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
        let response: Response;
        try {
          response = await send(url, {
            method,
            headers,
            ...(body === undefined ? {} : { body }),
            redirect: 'manual',
            signal: options.signal,
          });
        } catch (error) {
          // Recorded like a body that failed: what isomorphic-git makes of the rejection is not the point, the
          // transport fault (a deadline, a refused connection) is.
          options.faults?.record(error);
          throw error;
        }
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
          body: chunks(response.body ?? [], options.faults, isAdvertisement(response.headers.get('content-type'))),
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

/** A smart-HTTP ref advertisement (protocol v0, v1 or v2), which always ends with a flush packet `0000`. */
function isAdvertisement(contentType: string | null): boolean {
  return /^application\/x-git-[a-z-]+-advertisement\b/i.test(contentType ?? '');
}

const FLUSH = '0000';

/**
 * The body handed to isomorphic-git. A stream error is recorded in `faults` before it reaches isomorphic-git; an
 * advertisement whose stream ended cleanly but without its flush packet (a proxy that closed early) is one too.
 */
async function* chunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  faults: TransportFaults | undefined,
  advertisement: boolean,
): AsyncIterableIterator<Uint8Array> {
  let tail = '';
  try {
    for await (const chunk of source) {
      if (advertisement) tail = (tail + Buffer.from(chunk).toString('latin1')).slice(-FLUSH.length);
      yield chunk;
    }
  } catch (error) {
    faults?.record(error);
    throw error;
  }
  if (advertisement && tail !== FLUSH) {
    const error = new TruncatedAdvertisementError('the list of branches and tags ended before its last packet: the connection was cut');
    faults?.record(error);
    throw error;
  }
}
