/**
 * The HTTP agent every npm request of this package goes through (pacote's packuments and tarballs, arborist's
 * installs, and our own packument fetch): npm passes an `agent` option down to every request it makes, redirect hops
 * included, which makes the agent the one place that sees each request as it leaves. Here it enforces what npm's
 * stack does not: the credential scope (credential-scope.ts), no credential in npm's cache
 * (vary-without-credentials.ts), a cap on each body (response-limit.ts) and a connect timeout. The connection itself
 * is made by the agent npm would have used (`@npmcli/agent`'s `getAgent`: proxies from the options or the
 * environment, TLS settings, pooling), which this one hands each request to.
 */
import type { Agent as HttpAgent, ClientRequest, RequestOptions } from 'node:http';
import { hostAllowed, isLoopbackHost } from '@agentos-registry/core';
import { type CredentialScope, enforceCredentialScope } from './credential-scope.js';
import type { NpmLimits } from './network-bounds.js';
import { type NpmcliAgentClass, npmcliAgent } from './npm-stack.js';
import { limitResponseBody } from './response-limit.js';
import { varyWithoutCredentials } from './vary-without-credentials.js';

/** What the agent of one set of npm settings needs. */
export interface NpmAgentOptions {
  scope: CredentialScope;
  /** Per attempt: connecting, and a connection with no data for this long, fail (ms). */
  attemptMs: number;
  /** Most bytes of one packument (`index`, decoded) and of one tarball (`entry`). */
  limits: Required<NpmLimits>;
  /** `policy.allowHosts`: a request to any other host fails before a connection is made. */
  allowHosts?: readonly string[];
  /** Proxy settings from `.npmrc` (the environment's are read by npm's agent itself). */
  proxy?: string;
  noProxy?: string;
}

/** npm-registry-fetch's default number of sockets per host, kept so installs open no more connections than npm. */
const MAX_SOCKETS_PER_HOST = 12;

/** The TLS settings minipass-fetch puts on each request's options. */
type ConnectOptions = RequestOptions & { ca?: unknown; cert?: unknown; key?: unknown; rejectUnauthorized?: boolean };

let ScopedAgent: (new (options: NpmAgentOptions) => HttpAgent) | undefined;

/** An agent for one set of npm settings. It holds no sockets itself (npm's pooled agents do), so it needs no closing. */
export function createNpmAgent(options: NpmAgentOptions): HttpAgent {
  ScopedAgent ??= defineScopedAgent(npmcliAgent().Agent);
  return new ScopedAgent(options);
}

function defineScopedAgent(Base: NpmcliAgentClass): new (options: NpmAgentOptions) => HttpAgent {
  // Extends npm's agent class only for what Node asks of `request.agent` itself (agent-base's `protocol` and
  // `defaultPort`, which serve http and https alike, and keep-alive); every request is handed over, synchronously,
  // to the agent npm would have used for its URL, before Node has written a single header.
  return class ScopedNpmAgent extends Base {
    readonly #options: NpmAgentOptions;

    constructor(options: NpmAgentOptions) {
      super({ keepAlive: true });
      this.#options = options;
    }

    override addRequest(request: ClientRequest, options: RequestOptions): void {
      const url = requestUrl(request, options);
      if (this.#options.allowHosts && !hostAllowed(this.#options.allowHosts, url)) {
        // Whatever chose the URL (a scoped registry of .npmrc, a packument's tarball URL, a redirect): not listed.
        (request as ClientRequest & { onSocket(socket: null, error: Error): void }).onSocket(null, new HostRefusedError(url.host));
        return;
      }
      if (refusesLoopback(url, this.#options.scope)) {
        // Before a connection is made, as an agent reports a socket it could not make (`destroy()` alone emits
        // nothing on a request without a socket, which then hangs): npm sees the request fail with this `code`.
        (request as ClientRequest & { onSocket(socket: null, error: Error): void }).onSocket(null, new LoopbackRefusedError(url.host));
        return;
      }
      enforceCredentialScope(request, url, this.#options.scope);
      varyWithoutCredentials(request);
      limitResponseBody(request, this.#options.limits);
      npmAgentFor(url, options as ConnectOptions, this.#options).addRequest(request, options);
    }
  } as unknown as new (
    options: NpmAgentOptions,
  ) => HttpAgent;
}

/** The agent npm would use for `url`: `@npmcli/agent`'s pooled one for these TLS, proxy and timeout settings. */
function npmAgentFor(
  url: URL,
  request: ConnectOptions,
  options: NpmAgentOptions,
): HttpAgent & { addRequest(request: ClientRequest, options: RequestOptions): void } {
  const { attemptMs, proxy, noProxy } = options;
  return npmcliAgent().getAgent(url.href, {
    // TLS settings come with each request (minipass-fetch puts them there), as npm hands them to its agents.
    ...(request.ca !== undefined ? { ca: request.ca } : {}),
    ...(request.cert !== undefined ? { cert: request.cert } : {}),
    ...(request.key !== undefined ? { key: request.key } : {}),
    ...(request.rejectUnauthorized !== undefined ? { rejectUnauthorized: request.rejectUnauthorized } : {}),
    ...(proxy ? { proxy } : {}),
    ...(noProxy ? { noProxy } : {}),
    maxSockets: MAX_SOCKETS_PER_HOST,
    // npm's `timeout` is its agent's idle timeout; npm sets no connect timeout at all, so a black-holed host
    // would hang an attempt until the OS gives up.
    timeout: attemptMs,
    timeouts: { connection: attemptMs },
  }) as HttpAgent & { addRequest(request: ClientRequest, options: RequestOptions): void };
}

/** The `code` of a request refused because `policy.allowHosts` does not list its host. */
export const HOST_REFUSED = 'E_NPM_HOST_REFUSED';

/** A request to a host `policy.allowHosts` does not list; own fields, copied by minipass-fetch. */
export class HostRefusedError extends Error {
  readonly code = HOST_REFUSED;

  constructor(readonly host: string) {
    super(`Refused a request to ${host}, which policy.allowHosts does not list.`);
  }
}

/** The `code` of a request refused because it would go to this machine for a registry that is elsewhere. */
export const LOOPBACK_REFUSED = 'E_NPM_LOOPBACK_REFUSED';

/** A request to a loopback host while every configured registry is elsewhere; own fields, copied by minipass-fetch. */
export class LoopbackRefusedError extends Error {
  readonly code = LOOPBACK_REFUSED;

  constructor(readonly host: string) {
    super(`Refused a request to ${host}, on this machine, for registries that are elsewhere.`);
  }
}

/**
 * Whether `url` is on this machine while no configured registry is: a packument's `dist.tarball` (or a redirect) of
 * http://127.0.0.1:<port>/… would otherwise make the host GET its own local services at the registry's choosing.
 * A registry configured on this machine (a local Verdaccio, a caching proxy) may send npm anywhere on it.
 */
function refusesLoopback(url: URL, scope: CredentialScope): boolean {
  if (!isLoopbackHost(url.hostname)) return false;
  for (const origin of scope.origins) if (isLoopbackHost(new URL(origin).hostname)) return false;
  return true;
}

/** The URL a request is about to be sent to, from what Node's request knows of it. */
function requestUrl(request: ClientRequest, options: RequestOptions): URL {
  const protocol = request.protocol || options.protocol || 'http:';
  const host = request.host || options.hostname || options.host || 'localhost';
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return new URL(`${protocol}//${bracketed}${options.port ? `:${options.port}` : ''}${request.path}`);
}
