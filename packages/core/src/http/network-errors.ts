/**
 * Turning what undici and Node throw into RegistryErrors that say what happened and what to check. Messages name
 * the registry and the host (never the full URL, whose query may carry a token) and pass through the redactor.
 */
import { RegistryError } from '../errors.js';
import { abortError, isUntrustedCertificateCode } from '../source-errors.js';

/** What a message needs to know about the failed request. */
export interface FailureContext {
  registry: string;
  url: URL;
  /** The proxy the request went through, if any. */
  proxy: URL | undefined;
  /** The client's timeouts, to say which one ran out. */
  timeouts: { connect: number; headers: number; body: number };
}

/** The most specific error code in an error, its causes, or the errors of an AggregateError (happy eyeballs). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  let fallback: string | undefined;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    // undici's socket error wraps the OS error; prefer the OS code (ECONNRESET) over the generic one.
    if (code && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR') return code;
    fallback ??= code;
    const inner = current instanceof AggregateError ? current.errors[0] : current.cause;
    current = inner;
  }
  return fallback;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The RegistryError for a request whose signal aborted: core's one `E_ABORTED` wording. */
export function abortedError(ctx: FailureContext, signal: AbortSignal): RegistryError {
  const { message } = abortError(signal, `the request to ${ctx.url.host}`, ctx.registry);
  return new RegistryError('E_ABORTED', message, { registry: ctx.registry, cause: signal.reason, details: { host: ctx.url.host } });
}

/**
 * The RegistryError for a failed request: `E_UNREACHABLE` for network failures and timeouts (so core may serve a
 * cached copy), `E_AUTH` when a proxy asked for credentials it did not get, `E_USAGE` for a request undici refused
 * to send.
 */
export function networkError(error: unknown, ctx: FailureContext): RegistryError {
  const code = errorCode(error) ?? 'network error';
  const host = ctx.url.host;
  const text = error instanceof Error ? error.message : String(error);
  const via = ctx.proxy ? ` through the proxy ${ctx.proxy.host}` : '';
  const details = { host, code, ...(ctx.proxy ? { proxy: ctx.proxy.host } : {}) };
  const base = { registry: ctx.registry, cause: error, details };

  if (ctx.proxy && /\b407\b/.test(text)) {
    return new RegistryError(
      'E_AUTH',
      `Registry "${ctx.registry}": the proxy ${ctx.proxy.host} requires authentication (407). Put the proxy credentials in the proxy URL (http://user:password@host:port) or list ${ctx.url.hostname} in NO_PROXY.`,
      base,
    );
  }
  // undici validates what it is asked to send (header names and values, methods) and throws these before any
  // network traffic: a bug of the caller, not an unreachable registry.
  if (code === 'UND_ERR_INVALID_ARG' || code.startsWith('ERR_INVALID_')) {
    return new RegistryError('E_USAGE', `Registry "${ctx.registry}": the request to ${host} is invalid (${text}).`, base);
  }
  if (isUntrustedCertificateCode(code)) {
    return new RegistryError(
      'E_UNREACHABLE',
      `Registry "${ctx.registry}": the TLS certificate of ${host} could not be verified (${code}). If the server uses a private or corporate CA, add that CA (the client's "ca" option or NODE_EXTRA_CA_CERTS); also check the host name and the system clock.`,
      base,
    );
  }
  const timeout =
    code === 'UND_ERR_CONNECT_TIMEOUT'
      ? `did not accept a connection within ${seconds(ctx.timeouts.connect)}`
      : code === 'UND_ERR_HEADERS_TIMEOUT'
        ? `did not start to answer within ${seconds(ctx.timeouts.headers)}`
        : code === 'UND_ERR_BODY_TIMEOUT'
          ? `stopped sending data for ${seconds(ctx.timeouts.body)}`
          : undefined;
  const what = timeout ? `${host}${via} ${timeout}` : `${host} could not be reached${via} (${code})`;
  const proxyHint = ctx.proxy ? `, the proxy (HTTPS_PROXY/HTTP_PROXY) and NO_PROXY` : ', and whether this network needs a proxy (HTTPS_PROXY, NO_PROXY)';
  return new RegistryError(
    'E_UNREACHABLE',
    `Registry "${ctx.registry}": ${what}. Check the network connection, the registry location${proxyHint}. Copies already cached stay usable offline.`,
    { ...base, details: { ...details, ...(timeout ? { timeout: true } : {}) } },
  );
}
