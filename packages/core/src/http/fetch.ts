/**
 * A WHATWG `fetch` on top of core's HTTP client, so libraries that bring their own HTTP layer (Octokit takes
 * `request.fetch`) still get the client's proxy, CAs, retries and — above all — its credential scoping. Native fetch
 * would follow redirects itself and forward custom credential headers to whatever origin a redirect names.
 */
import { Readable } from 'node:stream';
import type { HttpRequestOptions, HttpResponse } from './types.js';

type Requester = (url: string, options: HttpRequestOptions) => Promise<HttpResponse>;

// Statuses that have no body by definition; `new Response(body, …)` throws if given one.
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/**
 * Builds a fetch function that sends everything through `request`. With `buffer`, the body is read whole (bounded
 * by the request's limit, retried when the connection drops) before the Response exists, so its failure rejects the
 * fetch: a library that reads bodies with `.catch(() => '')` (Octokit) cannot turn a reset into an empty answer.
 */
export function createFetch(request: Requester, options: { buffer: boolean } = { buffer: false }): typeof globalThis.fetch {
  async function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    // Let the platform's Request normalize the many input forms (URL objects, Request objects, FormData bodies,
    // header lists) exactly as fetch would, and throw the same TypeErrors for invalid ones.
    const incoming = new Request(input, init);
    const headers: Record<string, string> = {};
    incoming.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = incoming.body ? new Uint8Array(await incoming.arrayBuffer()) : undefined;
    const response = await request(incoming.url, {
      method: incoming.method,
      headers,
      signal: incoming.signal,
      redirect: incoming.redirect === 'follow' ? 'follow' : 'manual',
      ...(body ? { body } : {}),
    });
    if (incoming.redirect === 'error' && REDIRECT_STATUS.has(response.status)) {
      await response.discard();
      throw new TypeError('fetch failed: the server answered with a redirect and redirect mode is "error".');
    }
    const nullBody = incoming.method === 'HEAD' || NULL_BODY_STATUS.has(response.status);
    if (nullBody) await response.discard();
    const webBody = nullBody ? null : options.buffer ? await response.bytes() : (Readable.toWeb(response.body) as unknown as ReadableStream<Uint8Array>);
    const result = new Response(webBody, { status: response.status, headers: Object.entries(response.headers) });
    // `url` and `redirected` are read-only getters that a constructed Response leaves empty; callers such as Octokit
    // read `url`, so give this instance the real values.
    Object.defineProperty(result, 'url', { value: response.url, enumerable: true });
    Object.defineProperty(result, 'redirected', { value: response.redirected, enumerable: true });
    return result;
  }
  return fetch as typeof globalThis.fetch;
}
