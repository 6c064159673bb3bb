import { type HttpResponse, RegistryError } from '@agentos-registry/core';
import { describeUrl } from './location.js';

/** What a failed request was for, to word its error. */
export interface RequestPurpose {
  registry: string;
  /** e.g. `registry.json` or `the tarball of entry 'registry/curated/echo'`. */
  what: string;
  /** Whether credentials (a token or headers) are configured, for the hint of a 401/403. */
  credentials: boolean;
  /** Extra advice for a 404. */
  notFoundHint?: string;
}

/**
 * Turns a response that is not the expected one into the RegistryError a caller can act on. Core's client already
 * retried 5xx, 429 and 408 within its budget, so a 5xx here is final: `E_UNREACHABLE`, which lets core serve a cached
 * index. The body is discarded first so the keep-alive connection can be reused.
 */
export async function statusError(response: HttpResponse, purpose: RequestPurpose): Promise<RegistryError> {
  await response.discard();
  const { status } = response;
  const url = new URL(response.url);
  const where = describeUrl(url);
  const { registry, what } = purpose;
  const details = { status, url: where };
  if (status === 401 || status === 403) {
    const hint = purpose.credentials
      ? 'Check that the configured token (or `headers`) is valid and allowed to read this site.'
      : 'The site needs credentials: set `token` (sent as `Authorization: Bearer …`) or `headers` for other schemes.';
    return new RegistryError('E_AUTH', `Registry '${registry}': ${url.host} refused ${what} (${where}) with ${status}. ${hint}`, { registry, details });
  }
  if (status === 404 || status === 410) {
    const hint = purpose.notFoundHint ?? '';
    return new RegistryError('E_NOT_FOUND', `Registry '${registry}': ${what} is not on the server (${status} for ${where}).${hint ? ` ${hint}` : ''}`, {
      registry,
      details,
    });
  }
  if (status === 429) {
    return new RegistryError('E_RATE_LIMIT', `Registry '${registry}': ${url.host} is rate-limiting requests (429 for ${what}). Try again later.`, {
      registry,
      details,
    });
  }
  const why = status >= 500 ? 'a server error, after retries' : 'an unexpected answer';
  return new RegistryError(
    'E_UNREACHABLE',
    `Registry '${registry}': ${url.host} answered ${status} for ${what} (${where}), ${why}. Check that the site is up and that the location is right.`,
    { registry, details },
  );
}

/** Throws `E_ABORTED` when the call was cancelled, before a step starts. */
export function throwIfAborted(signal: AbortSignal, registry: string, what: string): void {
  if (!signal.aborted) return;
  throw new RegistryError('E_ABORTED', `${what} of registry '${registry}' was aborted.`, { registry, cause: signal.reason });
}
