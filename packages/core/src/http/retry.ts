/**
 * When a request may be sent again, and how long to wait first. Retries are bounded and only for idempotent
 * methods: sending a POST twice could do something twice, and a loop that never ends is worse than a clear error.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Methods that mean the same thing when sent twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Statuses that say "try again later". 501 and 505 are 5xx too, but no retry will change their answer. */
export function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}

/** What a `retryable` hook is shown of a response: its status and headers (names in lower case). */
export interface RetryCandidate {
  status: number;
  headers: Readonly<Record<string, string>>;
}

/**
 * The client's default answer to "send it again?": a retryable status (408, 429, 5xx but 501/505), unless the server
 * says its quota is spent (`x-ratelimit-remaining: 0` with no `Retry-After`): that will not recover within any backoff
 * we would wait, so the caller gets it at once and can say when the limit resets. A source's `retryable` hook extends
 * this (`(r) => isRetryableResponse(r) || …`) for throttles of its own protocol.
 */
export function isRetryableResponse(response: RetryCandidate): boolean {
  const quotaSpent = response.headers['x-ratelimit-remaining'] === '0' && response.headers['retry-after'] === undefined;
  return isRetryableStatus(response.status) && !quotaSpent;
}

// Failures of the connection itself, after which the same request may well succeed. Refused connections and unknown
// host names are left out on purpose: they rarely heal within seconds, and failing fast lets core serve a cached
// copy sooner.
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True for network errors worth one more try (resets, timeouts); false for TLS, DNS and refused connections. */
export function isRetryableNetworkError(error: unknown): boolean {
  let current: unknown = error;
  // undici sometimes wraps the socket error; look a little way down the cause chain.
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code && RETRYABLE_CODES.has(code)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * The wait a `Retry-After` header asks for, in ms: delta-seconds or an HTTP date (relative to `now`). `undefined` when
 * absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined; // a bare negative or fractional number is not a date either
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Delays of the exponential backoff, in ms. */
export interface BackoffSettings {
  /** The ceiling of the first retry's delay. */
  baseMs: number;
  /** The ceiling no retry's delay exceeds. */
  maxMs: number;
}

/**
 * "Full jitter": a random delay between 0 and `base * 2^retry` (capped). Many clients that failed together then do
 * not retry together, which is what makes a struggling server recover.
 */
export function backoffDelay(retry: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(settings.maxMs, settings.baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/** Waits `ms`, rejecting with the signal's `AbortError` as soon as it aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : undefined);
}
