/**
 * Core's HTTP client for sources. Sources get one per registry so that every network policy lives here, once:
 * which proxy and CAs to use, refusing plain HTTP off this machine, sending a credential only to its own origin
 * (redirects are followed by hand for that reason), bounded retries, and errors that name the registry and never
 * the token.
 */
import type { Agent, Dispatcher, ProxyAgent } from 'undici';
import { undiciModule } from '../lazy-modules.js';
import { RegistryError, registerSecret } from '../errors.js';
import { type Logger, redactingLogger, silentLogger } from '../logger.js';
import { Deadline } from './deadline.js';
import { createFetch } from './fetch.js';
import { DEFAULT_HTTP_LIMITS, deadlineError, type TransferPurpose, tooLargeError } from './limits.js';
import { hostAllowed } from '../host-rules.js';
import { isLoopbackHost } from './loopback.js';
import { abortedError, errorCode, type FailureContext, networkError } from './network-errors.js';
import { type ProxySettings, proxyFor, readProxySettings } from './proxy.js';
import { ClientResponse, ContentDecodingError, discardBody, type RawResponse } from './response.js';
import {
  abortableSleep,
  type BackoffSettings,
  backoffDelay,
  IDEMPOTENT_METHODS,
  isRetryableNetworkError,
  isRetryableResponse,
  parseRetryAfter,
  type RetryCandidate,
} from './retry.js';
import { trustedCertificates } from './trust.js';
import type { FetchOptions, HttpClient, HttpClientOptions, HttpRequestOptions, HttpResponse, TransferProgress } from './types.js';

/**
 * Defaults of `HttpClientOptions.timeouts`, in ms: idle timeouts (`connect`, `headers`, `body`) and the deadlines of
 * whole requests (`index`, `entry`). An index is small, so two minutes is generous; an archive may be large on a slow
 * link, so ten minutes.
 */
export const DEFAULT_HTTP_TIMEOUTS = { connect: 10_000, headers: 30_000, body: 60_000, index: 120_000, entry: 600_000 } as const;
/** Default number of retries of an idempotent request. */
export const DEFAULT_HTTP_RETRIES = 2;
/** Redirects followed before giving up; enough for real chains (http→https→CDN), short enough to end loops. */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
// Headers that identify the caller to the current origin; a redirect to another origin must not carry them.
const ALWAYS_ORIGIN_BOUND = ['authorization', 'cookie', 'proxy-authorization'];
// Headers that describe a request body; dropped when a redirect turns the request into a GET.
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

interface Request {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** The caller's signal: its abort is `E_ABORTED`. */
  signal: AbortSignal | undefined;
  redirect: 'follow' | 'manual';
  retry: boolean;
  purpose: TransferPurpose;
  /** The host of the document that named the URL, when a server chose it (`namedBy`). */
  namedBy: URL | undefined;
  /** The whole request's deadline; its signal (caller or deadline) is what every step waits with. */
  deadline: Deadline;
}

/** The retry budget of one logical request, shared by its redirect hops and by re-reads of its body. */
interface Budget {
  used: number;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Registers a credential header value with the redactor, and the parts of it that could leak on their own: the token
 * after `Bearer`, a Basic header's base64 and its password. For a credential a source only learns while it runs (a
 * token from an OCI token service, a login from a Docker auth file), which it sends per request, not as `credentials`.
 */
export function registerCredential(value: string): void {
  registerSecret(value);
  const scheme = /^\s*(\S+)\s+(\S+)\s*$/.exec(value);
  if (!scheme) return;
  registerSecret(scheme[2]);
  if (scheme[1]!.toLowerCase() === 'basic') {
    const decoded = Buffer.from(scheme[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) registerSecret(decoded.slice(colon + 1));
  }
}

// Node's timers take at most 2^31-1 ms (about 24.8 days); a longer one would fire at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

function positive(value: number | undefined, fallback: number, name: string, registry: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new RegistryError('E_CONFIG', `HTTP option ${name} must be a positive number of milliseconds (at most ${MAX_TIMER_MS}).`, {
      registry,
      details: { field: name },
    });
  }
  return value;
}

function byteLimit(value: number | undefined, fallback: number, name: string, registry: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RegistryError('E_CONFIG', `HTTP option ${name} must be a positive whole number of bytes.`, { registry, details: { field: name } });
  }
  return value;
}

type Timeouts = { connect: number; headers: number; body: number; index: number; entry: number };

class RegistryHttpClient implements HttpClient {
  readonly registry: string;
  readonly fetch: typeof globalThis.fetch;
  readonly #credentials: { origin: string; headers: Record<string, string> } | undefined;
  readonly #originBound: string[];
  readonly #proxies: ProxySettings;
  readonly #timeouts: Timeouts;
  readonly #limits: { index: number; entry: number };
  readonly #retries: number;
  readonly #retryable: (response: RetryCandidate) => boolean;
  readonly #backoff: BackoffSettings;
  readonly #maxRetryAfterMs: number;
  readonly #sleep: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  readonly #logger: Logger;
  readonly #onProgress: HttpClientOptions['onProgress'];
  readonly #userAgent: string;
  readonly #allowInsecure: boolean;
  readonly #allowHosts: readonly string[] | undefined;
  readonly #ca: string[] | undefined;
  #direct: Agent | undefined;
  readonly #viaProxy = new Map<string, ProxyAgent>();
  #closed = false;

  constructor(options: HttpClientOptions) {
    const registry = options.registry;
    this.registry = registry;
    const env = options.env ?? process.env;
    this.#logger = redactingLogger(options.logger ?? silentLogger);
    this.#onProgress = options.onProgress;

    if (options.credentials) {
      let origin: string;
      try {
        origin = new URL(options.credentials.origin).origin;
      } catch {
        origin = 'null';
      }
      if (origin === 'null') {
        throw new RegistryError('E_CONFIG', `The credential origin of registry "${registry}" is not a URL origin; use the form https://host[:port].`, {
          registry,
          details: { field: 'credentials.origin' },
        });
      }
      const headers = lowerCaseKeys(options.credentials.headers);
      for (const value of Object.values(headers)) registerCredential(value);
      this.#credentials = { origin, headers };
    }
    this.#originBound = [...ALWAYS_ORIGIN_BOUND, ...Object.keys(this.#credentials?.headers ?? {})];

    const retries = options.retries ?? DEFAULT_HTTP_RETRIES;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
      throw new RegistryError('E_CONFIG', `HTTP option retries must be a whole number from 0 to 10 (got ${retries}).`, {
        registry,
        details: { field: 'retries' },
      });
    }
    this.#retries = retries;
    this.#retryable = options.retryable ?? isRetryableResponse;
    this.#timeouts = {
      connect: positive(options.timeouts?.connect, DEFAULT_HTTP_TIMEOUTS.connect, 'timeouts.connect', registry),
      headers: positive(options.timeouts?.headers, DEFAULT_HTTP_TIMEOUTS.headers, 'timeouts.headers', registry),
      body: positive(options.timeouts?.body, DEFAULT_HTTP_TIMEOUTS.body, 'timeouts.body', registry),
      index: positive(options.timeouts?.index, DEFAULT_HTTP_TIMEOUTS.index, 'timeouts.index', registry),
      entry: positive(options.timeouts?.entry, DEFAULT_HTTP_TIMEOUTS.entry, 'timeouts.entry', registry),
    };
    this.#limits = {
      index: byteLimit(options.limits?.index, DEFAULT_HTTP_LIMITS.index, 'limits.index', registry),
      entry: byteLimit(options.limits?.entry, DEFAULT_HTTP_LIMITS.entry, 'limits.entry', registry),
    };
    this.#backoff = { baseMs: options.backoff?.baseMs ?? 500, maxMs: options.backoff?.maxMs ?? 10_000 };
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#userAgent = options.userAgent ?? 'agentos-registry';
    this.#allowInsecure = options.allowInsecure === true;
    this.#allowHosts = options.allowHosts?.map((rule) => rule.toLowerCase());
    this.#proxies = readProxySettings(options.proxy, env, registry);
    this.#ca = trustedCertificates(options.ca, env, this.#logger);

    this.fetch = this.fetchWith({});
  }

  fetchWith(options: FetchOptions): typeof globalThis.fetch {
    const purpose = options.purpose ?? 'entry';
    return createFetch((url, init) => this.request(url, { ...init, purpose }), { buffer: options.buffer === true });
  }

  /** The dispatcher for a request: the direct pool, or one (created on first use) per proxy. */
  #dispatcher(proxy: URL | undefined): Dispatcher {
    if (!proxy) {
      // One keep-alive pool per client, made (and undici loaded) at the first request: a source makes many small
      // requests to one host, and reusing connections (and TLS sessions) is most of the speed there is to gain.
      this.#direct ??= new (undiciModule().Agent)({
        connect: { timeout: this.#timeouts.connect, ...(this.#ca ? { ca: this.#ca } : {}) },
        headersTimeout: this.#timeouts.headers,
        bodyTimeout: this.#timeouts.body,
      });
      return this.#direct;
    }
    let agent = this.#viaProxy.get(proxy.href);
    if (!agent) {
      const tls = { timeout: this.#timeouts.connect, ...(this.#ca ? { ca: this.#ca } : {}) };
      const { headers, body } = this.#timeouts;
      const { Pool, ProxyAgent } = undiciModule();
      agent = new ProxyAgent({
        uri: proxy.href,
        // Plain http: targets go to the proxy as absolute-URI requests, as curl sends them; many corporate proxies
        // refuse CONNECT to port 80. https: targets are still tunnelled, so the proxy never sees their content.
        proxyTunnel: false,
        headersTimeout: headers,
        bodyTimeout: body,
        requestTls: tls,
        proxyTls: tls,
        // The pools ProxyAgent builds (also the one that talks to the proxy directly) must get our timeouts.
        factory: (origin: string | URL, opts: object) => new Pool(origin, { ...opts, headersTimeout: headers, bodyTimeout: body }),
      });
      this.#viaProxy.set(proxy.href, agent);
    }
    return agent;
  }

  /**
   * Refuses URLs the client must not fetch, before any connection is made. `redirectedBy` is the host whose redirect
   * chose `url` (undefined for the caller's own URL).
   */
  #checkUrl(url: URL, redirectedBy?: string): void {
    const registry = this.registry;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError(
        'E_POLICY',
        `Registry "${registry}": refusing the ${url.protocol} URL for ${url.host || 'a resource'}; only https: (and http: on this machine) can be fetched.`,
        {
          registry,
          details: { protocol: url.protocol },
        },
      );
    }
    if (url.username || url.password) {
      // The password is never registered as a secret: the URL may come from a server (a redirect, a tarball URL in an
      // index), and registering what a server chose would let it erase any word of 4 letters or more from every later
      // message and log line of the process. It is never shown: messages name the host only.
      if (redirectedBy !== undefined) {
        throw new RegistryError(
          'E_POLICY',
          `Registry "${registry}": ${redirectedBy} sent the client (by a redirect or a URL in its answer) to a URL that carries a user name or password (for ${url.host}); such URLs are not followed.`,
          {
            registry,
            details: { host: url.host, redirectedBy },
          },
        );
      }
      throw new RegistryError(
        'E_CONFIG',
        `Registry "${registry}": a URL for ${url.host} carries a user name or password. Remove them from the URL and configure the registry's token instead.`,
        {
          registry,
          details: { host: url.host },
        },
      );
    }
    if (this.#allowHosts && !hostAllowed(this.#allowHosts, url)) {
      // policy.allowHosts holds for every request, not only for the location in the config: a redirect, or a URL a
      // server named (a tarball URL in an index), to another host is refused before any connection is made.
      const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
      const via = redirectedBy === undefined ? '' : ` (${redirectedBy} sent the client there, by a redirect or a URL in its answer)`;
      throw new RegistryError(
        'E_POLICY',
        `Registry "${registry}": refusing a request to ${host}${via}; policy.allowHosts does not allow it (allowed: ${this.#allowHosts.join(', ')}). Add "${host}" to policy.allowHosts if that host (and port) is trusted.`,
        { registry, details: { rule: 'allowHosts', host, ...(redirectedBy === undefined ? {} : { redirectedBy }) } },
      );
    }
    if (url.protocol === 'http:' && !this.#allowInsecure && !isLoopbackHost(url.hostname)) {
      throw new RegistryError(
        'E_POLICY',
        `Registry "${registry}": refusing plain http:// to ${url.host}; anyone on the network path could read or change what is downloaded. Use https://, or allow insecure HTTP for this registry if the network is trusted.`,
        { registry, details: { host: url.host } },
      );
    }
  }

  #mayRetry(method: string, request: Request, budget: Budget): boolean {
    return request.retry && IDEMPOTENT_METHODS.has(method) && budget.used < this.#retries;
  }

  /**
   * Why the request must stop now, if it must: the caller aborted (`E_ABORTED`) or the deadline passed
   * (`E_UNREACHABLE`); `undefined` while it may go on.
   */
  #stopped(request: Request, ctx: FailureContext): RegistryError | undefined {
    if (request.signal?.aborted) return abortedError(ctx, request.signal);
    if (request.deadline.expired) return deadlineError(this.registry, ctx.url.host, request.purpose, request.deadline.ms);
    return undefined;
  }

  /** Spends one retry and waits: `wait` when the server named it, else a jittered backoff. */
  async #pause(budget: Budget, wait: number | undefined, ctx: FailureContext, request: Request, reason: string): Promise<void> {
    const delay = wait ?? backoffDelay(budget.used, this.#backoff);
    budget.used += 1;
    this.#logger.debug(
      `Retrying a request to ${ctx.url.host} for registry "${this.registry}" in ${delay} ms (${reason}; retry ${budget.used} of ${this.#retries}).`,
      {
        host: ctx.url.host,
      },
    );
    try {
      await this.#sleep(delay, request.deadline.signal);
    } catch (error) {
      throw this.#stopped(request, ctx) ?? error;
    }
    const stop = this.#stopped(request, ctx);
    if (stop) throw stop;
  }

  /** One hop: sends the request, retrying network failures and retryable statuses within the budget. */
  async #send(url: URL, method: string, headers: Record<string, string>, body: Request['body'], request: Request, budget: Budget): Promise<RawResponse> {
    const proxy = proxyFor(url, this.#proxies);
    const ctx: FailureContext = { registry: this.registry, url, proxy, timeouts: this.#timeouts };
    const { signal } = request.deadline;
    for (;;) {
      if (this.#closed) throw this.#closedError();
      const stop = this.#stopped(request, ctx);
      if (stop) throw stop;
      let response: Dispatcher.ResponseData;
      const started = performance.now();
      // Origin and path only: a query string may carry a credential, and the logger is no place for one.
      const shown = `${method} ${url.origin}${url.pathname}${proxy ? ` via proxy ${proxy.host}` : ''}`;
      try {
        response = await undiciModule().request(url, { dispatcher: this.#dispatcher(proxy), method: method as Dispatcher.HttpMethod, headers, body, signal });
        this.#logger.debug(`http: ${shown} → ${response.statusCode} in ${Math.round(performance.now() - started)} ms`, { registry: this.registry });
      } catch (error) {
        this.#logger.debug(`http: ${shown} failed after ${Math.round(performance.now() - started)} ms (${errorCode(error) ?? 'network error'})`, {
          registry: this.registry,
        });
        const stopped = this.#stopped(request, ctx);
        if (stopped) throw stopped;
        if (this.#closed) throw this.#closedError();
        if (isRetryableNetworkError(error) && this.#mayRetry(method, request, budget)) {
          await this.#pause(budget, undefined, ctx, request, errorCode(error) ?? 'network error');
          continue;
        }
        throw networkError(error, ctx);
      }
      const raw: RawResponse = { status: response.statusCode, headers: flattenHeaders(response.headers), body: response.body, url, redirected: false };
      const wait = parseRetryAfter(raw.headers['retry-after']);
      if (!this.#retryable(raw) || !this.#mayRetry(method, request, budget)) return raw;
      if (wait !== undefined && wait > this.#maxRetryAfterMs) {
        // Waiting minutes inside a library call helps nobody; say so and let core serve a cached copy instead.
        if (raw.status !== 429) return raw;
        await discardBody(raw.body);
        throw new RegistryError(
          'E_RATE_LIMIT',
          `Registry "${this.registry}": ${url.host} is rate-limiting requests and asks to wait ${Math.ceil(wait / 1000)} s, longer than the ${Math.round(this.#maxRetryAfterMs / 1000)} s this client waits. Try again later, or use a token with a higher limit.`,
          { registry: this.registry, details: { host: url.host, retryAfterMs: wait } },
        );
      }
      await discardBody(raw.body);
      await this.#pause(budget, wait, ctx, request, `status ${raw.status}`);
    }
  }

  /** A whole request: hops of redirects, each with its own credential decision. */
  async #perform(request: Request, budget: Budget): Promise<RawResponse> {
    let url = request.url;
    let method = request.method;
    let body = request.body;
    const headers = { ...request.headers };
    // Once a redirect has left the starting origin, the credential is never attached again in this chain, even if a
    // later hop comes back: the other origin chose where that hop goes.
    let leftOrigin = false;
    // A URL a server named (an index's tarball URL) is judged as if that server had redirected to it.
    let redirectedBy: string | undefined = request.namedBy?.host;
    if (request.namedBy) this.#checkHop(request.namedBy, url);
    for (let redirects = 0; ; redirects++) {
      this.#checkUrl(url, redirectedBy);
      const hopHeaders = { ...headers };
      if (this.#credentials && !leftOrigin && url.origin === this.#credentials.origin) Object.assign(hopHeaders, this.#credentials.headers);
      hopHeaders['user-agent'] ??= this.#userAgent;
      const raw = await this.#send(url, method, hopHeaders, body, request, budget);
      const location = raw.headers.location;
      if (request.redirect === 'manual' || !REDIRECT_STATUS.has(raw.status) || !location) {
        return { ...raw, redirected: redirects > 0 };
      }
      await discardBody(raw.body);
      if (redirects >= MAX_REDIRECTS) {
        throw new RegistryError(
          'E_UNREACHABLE',
          `Registry "${this.registry}": more than ${MAX_REDIRECTS} redirects starting at ${request.url.host}; the server is misconfigured or redirects in a loop. Check the registry location.`,
          {
            registry: this.registry,
            details: { host: request.url.host },
          },
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RegistryError(
          'E_UNREACHABLE',
          `Registry "${this.registry}": ${url.host} answered with a redirect to an invalid URL. Check the registry location.`,
          {
            registry: this.registry,
            details: { host: url.host },
          },
        );
      }
      this.#checkHop(url, next);
      if (next.origin !== url.origin) {
        leftOrigin = true;
        for (const name of this.#originBound) delete headers[name];
      }
      // What browsers and fetch do: 303 always, and 301/302 after a POST, turn the next request into a GET.
      if ((raw.status === 303 && method !== 'HEAD') || ((raw.status === 301 || raw.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        for (const name of BODY_HEADERS) delete headers[name];
      }
      redirectedBy = url.host;
      url = next;
    }
  }

  /**
   * A registry elsewhere may not send the client to this machine: the redirect (or a URL in its index) would make the
   * host call its own loopback services (a Docker API, a database's HTTP port, a dev server) with GET requests a remote
   * server chose. Plain http: to loopback is allowed for registries that are themselves on this machine, not for that.
   */
  #checkHop(from: URL, next: URL): void {
    if (isLoopbackHost(next.hostname) && !isLoopbackHost(from.hostname)) {
      throw new RegistryError(
        'E_POLICY',
        `Registry "${this.registry}": ${from.host} sent the client to ${next.host}, on this machine; a registry elsewhere may not send the client to local services, so that URL is not fetched.`,
        {
          registry: this.registry,
          details: { host: next.host, redirectedBy: from.host },
        },
      );
    }
  }

  #closedError(): RegistryError {
    return new RegistryError('E_USAGE', `The HTTP client of registry "${this.registry}" is closed.`, { registry: this.registry });
  }

  async request(input: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    if (this.#closed) throw this.#closedError();
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new RegistryError('E_CONFIG', `Registry "${this.registry}": "${String(input)}" is not a valid URL.`, { registry: this.registry });
    }
    const purpose = options.purpose ?? 'entry';
    if (purpose !== 'index' && purpose !== 'entry') {
      throw new RegistryError('E_USAGE', `Registry "${this.registry}": the request purpose must be 'index' or 'entry' (got ${String(purpose)}).`, {
        registry: this.registry,
      });
    }
    const request: Request = {
      url,
      method: (options.method ?? 'GET').toUpperCase(),
      headers: lowerCaseKeys(options.headers),
      body: options.body,
      signal: options.signal,
      redirect: options.redirect ?? 'follow',
      retry: options.retry !== false,
      purpose,
      namedBy: options.namedBy === undefined ? undefined : new URL(options.namedBy),
      deadline: new Deadline(this.#timeouts[purpose], options.signal),
    };
    const budget: Budget = { used: 0 };
    let raw: RawResponse;
    try {
      raw = await this.#perform(request, budget);
    } catch (error) {
      request.deadline.clear();
      throw error;
    }
    const maxBytes = this.#limits[purpose];
    // The host of the final URL, after redirects: the one that sent the body.
    const host = () => raw.url.host;
    return new ClientResponse(raw, {
      mapError: (error) => this.#bodyError(error, raw.url, request),
      retryAfterBodyError: async (error) => {
        if (!isRetryableNetworkError(error) || !this.#mayRetry(request.method, request, budget)) return undefined;
        const ctx: FailureContext = { registry: this.registry, url: raw.url, proxy: proxyFor(raw.url, this.#proxies), timeouts: this.#timeouts };
        await this.#pause(budget, undefined, ctx, request, `connection lost while reading the body (${errorCode(error) ?? 'error'})`);
        return this.#perform(request, budget);
      },
      maxBytes,
      tooLarge: () => tooLargeError(this.registry, host(), purpose, maxBytes),
      settle: () => request.deadline.clear(),
      ...(this.#onProgress ? { progress: this.#progressOf(raw, purpose, this.#onProgress) } : {}),
    });
  }

  /** The body's progress, as `onProgress` is told it; a listener that throws is ignored, never failing the request. */
  #progressOf(raw: RawResponse, purpose: 'index' | 'entry', listener: (progress: TransferProgress) => void): (bytes: number, done: boolean) => void {
    const announced = raw.headers['content-encoding'] ? Number.NaN : Number(raw.headers['content-length']);
    const base = { registry: this.registry, url: `${raw.url.origin}${raw.url.pathname}`, purpose, ...(Number.isFinite(announced) ? { total: announced } : {}) };
    return (bytes, done) => {
      try {
        listener({ ...base, bytes, done });
      } catch {
        // A display that fails is no reason to fail the download.
      }
    };
  }

  #bodyError(error: unknown, url: URL, request: Request): Error {
    const ctx: FailureContext = { registry: this.registry, url, proxy: proxyFor(url, this.#proxies), timeouts: this.#timeouts };
    const stop = this.#stopped(request, ctx);
    if (stop) return stop;
    if (error instanceof RegistryError) return error;
    // A body that does not decode is a broken answer, like a reset or a truncation: E_UNREACHABLE, so that a cached
    // copy is served. (A raw zlib error used to escape here, and sources reported it as E_INTERNAL.)
    if (error instanceof ContentDecodingError) {
      return new RegistryError(
        'E_UNREACHABLE',
        `Registry "${this.registry}": the answer of ${url.host} could not be decoded (its Content-Encoding is ${error.encoding}, but the body is not); the server, or a proxy in front of it, is failing. Copies already cached stay usable offline.`,
        { registry: this.registry, cause: error.cause, details: { host: url.host, encoding: error.encoding } },
      );
    }
    return networkError(error, ctx);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const dispatchers: Dispatcher[] = [...(this.#direct ? [this.#direct] : []), ...this.#viaProxy.values()];
    // A graceful close waits for requests in flight, including bodies nobody reads; after a short grace those are
    // cut, so close() always returns.
    const graceful = Promise.all(dispatchers.map((d) => d.close())).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), 1_000);
      timer.unref();
    });
    const outcome = await Promise.race([graceful.then(() => 'done' as const), grace]);
    clearTimeout(timer);
    if (outcome === 'late') await Promise.all(dispatchers.map((d) => d.destroy().catch(() => undefined)));
  }
}

/**
 * Creates the HTTP client of one registry. Synchronous, so a source can build it in `create()`; nothing connects
 * until the first request. Throws `E_CONFIG` for a malformed credential origin, proxy URL or option.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  return new RegistryHttpClient(options);
}
