/** The public shapes of core's HTTP client: options, requests, responses. */
import type { Readable } from 'node:stream';
import type { Logger } from '../logger.js';
import type { HttpLimits, TransferPurpose } from './limits.js';
import type { RetryCandidate } from './retry.js';

/** How much of one response body has arrived (`HttpClientOptions.onProgress`). */
export interface TransferProgress {
  registry: string;
  /** Origin and path of the URL the body comes from: never its query string or user info. */
  url: string;
  purpose: 'index' | 'entry';
  /** Decoded bytes read so far. */
  bytes: number;
  /** The size the server announced (`Content-Length` of an unencoded body), when it did. */
  total?: number;
  /** The body has been read whole. */
  done: boolean;
  /**
   * For a transfer counted in objects rather than bytes (native git's own progress: `receiving`, `resolving`…):
   * the stage, and the objects done of the total. `bytes` is then 0.
   */
  objects?: { stage: string; done: number; total: number };
}

/** Headers that authenticate to one origin and to nothing else. */
export interface HttpCredentials {
  /** `https://host[:port]`; only requests to exactly this origin (scheme, host and port) carry `headers`. */
  origin: string;
  /** E.g. `{ authorization: 'Bearer …' }`. The values are registered with the redactor. */
  headers: Record<string, string>;
}

/**
 * Timeouts in ms. `connect`, `headers` and `body` are idle timeouts ("nothing happened for this long"); `index` and
 * `entry` are deadlines of a whole request (retries, redirects and the body included), which a trickle cannot reset.
 */
export interface HttpTimeouts {
  /** Establishing the connection, TLS handshake included. Default 10 s. */
  connect?: number;
  /** From sending the request to receiving the response headers. Default 30 s. */
  headers?: number;
  /** Between two chunks of the response body. Default 60 s. */
  body?: number;
  /** Deadline of an index or revision request (`purpose: 'index'`). Default 120 s. */
  index?: number;
  /** Deadline of an entry download (`purpose: 'entry'`, also every `fetch`). Default 600 s. */
  entry?: number;
}

/** Options of `createHttpClient`. */
export interface HttpClientOptions {
  /** Name of the configured registry, for messages. */
  registry: string;
  /** Credential headers, sent only to their origin and never across a redirect to another one. */
  credentials?: HttpCredentials;
  /** A proxy URL for every request; wins over `HTTPS_PROXY`/`HTTP_PROXY`. `NO_PROXY` still applies. */
  proxy?: string;
  /** Extra trusted CA certificates (PEM text), added to Node's roots and `NODE_EXTRA_CA_CERTS`. */
  ca?: string | string[];
  /** Allow plain `http:` to hosts other than this machine. It does not turn off certificate checks. */
  allowInsecure?: boolean;
  /**
   * `policy.allowHosts`: when set, every request and every redirect hop must go to a matching host (`example.com`,
   * `example.com:8443`, `*.example.com`); any other is `E_POLICY` before a connection is made.
   */
  allowHosts?: readonly string[];
  /** Idle timeouts of connecting, waiting for headers and reading the body; deadlines of whole requests. */
  timeouts?: HttpTimeouts;
  /** Byte limits of decoded response bodies, per purpose; beyond one a body is `E_TOO_LARGE`. */
  limits?: HttpLimits;
  /** How many times a failed idempotent request is sent again (default 2; at most 10). */
  retries?: number;
  /** `User-Agent` sent when the caller sets none. */
  userAgent?: string;
  /** Where `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` and `NODE_EXTRA_CA_CERTS` are read; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives retry notes (debug) and warnings; every line is redacted. Default: silent. */
  logger?: Logger;
  /** Backoff between retries: random up to `baseMs * 2^n`, at most `maxMs`. Defaults 500 ms and 10 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** The longest `Retry-After` the client waits for (default 60 s); longer on a 429 is `E_RATE_LIMIT`. */
  maxRetryAfterMs?: number;
  /**
   * Whether a response is worth sending again (after its `Retry-After`, or a backoff), within `retries`. Default
   * `isRetryableResponse`; a source extends it for its protocol's throttles (GitHub: a 403 with `Retry-After` is its
   * secondary rate limit). Only idempotent requests are ever retried, whatever the hook says.
   */
  retryable?: (response: RetryCandidate) => boolean;
  /**
   * Told how a response body is arriving, for progress displays: as its chunks arrive and once when it is complete.
   * Never throws into the request (a throwing listener is ignored).
   */
  onProgress?: (progress: TransferProgress) => void;
  /** Replaces the timer used between retries; for tests, which then need not wait. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** Options of one `client.request`. */
export interface HttpRequestOptions {
  /** Default `GET`. Only idempotent methods are retried. */
  method?: string;
  /** Request headers; `Authorization`, `Cookie` and the credential headers are dropped on a cross-origin redirect. */
  headers?: Record<string, string>;
  /** Aborting rejects with `E_ABORTED`, whether the request is connecting, waiting to retry or downloading. */
  signal?: AbortSignal;
  /** A request body; kept in memory so that a retry can send it again. */
  body?: string | Uint8Array;
  /** `follow` (default, at most 5 hops) or `manual` (3xx responses are returned). */
  redirect?: 'follow' | 'manual';
  /**
   * Where the URL came from when a server chose it (a tarball URL in an index, an API's answer), not the config: the
   * URL of that document. The request is then judged like a redirect from there: no user name or password in the URL,
   * and no address on this machine unless that document is on this machine too (`E_POLICY`).
   */
  namedBy?: string | URL;
  /** `false` sends the request once, whatever happens. */
  retry?: boolean;
  /**
   * What the request is for: `index` (registry.json, revision checks, API answers) or `entry` (archives; the
   * default). It picks the byte limit (`limits`) and the deadline (`timeouts.index` / `timeouts.entry`).
   */
  purpose?: TransferPurpose;
}

/** Options of `client.fetchWith`. */
export interface FetchOptions {
  /** As for `request`: picks the byte limit and the deadline. Default `entry`. */
  purpose?: TransferPurpose;
  /**
   * Read the whole body (retrying a connection lost mid-body) before the `Response` is handed over, so a body that
   * fails (reset, stalled, too large) rejects the fetch itself. For libraries that swallow errors while reading a
   * body: Octokit turns a failed read into an empty answer.
   */
  buffer?: boolean;
}

/**
 * A response. Every status is returned as is (304, 404, and the last 5xx once retries are spent): the caller knows
 * what a status means for its protocol. Read the body once, through `body`, `bytes()`, `text()` or `json()`, or call
 * `discard()`; an unread body keeps its connection busy.
 */
export interface HttpResponse {
  /** The HTTP status of the final response. */
  readonly status: number;
  /** Response headers, names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The final URL, after redirects. */
  readonly url: string;
  /** True when at least one redirect was followed. */
  readonly redirected: boolean;
  /**
   * The body as a stream (decoded when the server used `Content-Encoding` gzip, deflate or br). A network failure
   * while reading it is a RegistryError (`E_UNREACHABLE`, `E_ABORTED`); it is not retried (see `consume`). Past the
   * request's byte limit it fails with `E_TOO_LARGE`.
   */
  readonly body: Readable;
  /**
   * Hands the body as a stream to `read` and returns what `read` returns. When the connection is lost mid-body and
   * the request may be retried, it is sent again and `read` is called again with the new body: `read` must start
   * over each time (clear what it wrote before). Any other failure of `read` is passed on as is.
   */
  consume<T>(read: (body: Readable) => Promise<T>): Promise<T>;
  /** The whole body. A connection lost mid-way is retried (idempotent requests) before it fails. */
  bytes(): Promise<Uint8Array>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** The whole body parsed as JSON; a `SyntaxError` when it is not JSON. */
  json<T = unknown>(): Promise<T>;
  /** Reads and drops the body, so the connection can be reused. */
  discard(): Promise<void>;
}

/** An HTTP client bound to one registry's settings. */
export interface HttpClient {
  /** The registry this client serves. */
  readonly registry: string;
  /** Sends a request; network failures are `E_UNREACHABLE`, refused URLs `E_POLICY`, aborts `E_ABORTED`. */
  request(url: string | URL, options?: HttpRequestOptions): Promise<HttpResponse>;
  /**
   * A WHATWG `fetch` with the same connections, proxy, CAs, retries and credential scoping, for libraries that take
   * a fetch (`new Octokit({ request: { fetch: client.fetch } })`). Network failures reject with the RegistryError
   * rather than a `TypeError`; libraries that wrap errors keep it as `cause`.
   */
  readonly fetch: typeof globalThis.fetch;
  /** A `fetch` like `fetch`, with a purpose (its limit and deadline) and, optionally, bodies read before it resolves. */
  fetchWith(options: FetchOptions): typeof globalThis.fetch;
  /** Closes the connections. Requests made afterwards fail with `E_USAGE`. */
  close(): Promise<void>;
}
