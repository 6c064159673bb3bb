/**
 * How much one request may read and how long it may take. A source asks for one of two things, whose sizes differ by
 * orders of magnitude: an index (registry.json, a revision check, an API JSON answer) or an entry (an archive, a blob,
 * a git pack). A hostile or broken server can send an endless or bomb-sized body and trickle bytes forever, so both
 * kinds have a byte limit counted on the decoded body as it streams and a deadline for the whole request; each
 * default can be raised per registry, and the error names the option that does it.
 */
import { RegistryError } from '../errors.js';

/** What a request is for; it chooses the byte limit and the deadline. */
export type TransferPurpose = 'index' | 'entry';

/** Byte limits of response bodies, counted after `Content-Encoding` is undone. */
export interface HttpLimits {
  /** Most bytes of an index, revision check or API JSON answer. Default 32 MiB. */
  index?: number;
  /** Most bytes of an entry download (an archive, a blob, a git pack). Default 1 GiB. */
  entry?: number;
}

/** Defaults of `HttpClientOptions.limits`, in bytes. */
export const DEFAULT_HTTP_LIMITS = { index: 32 * 1024 ** 2, entry: 1024 ** 3 } as const;

/** What each purpose is called in messages. */
const WHAT: Record<TransferPurpose, string> = { index: 'an index or revision check', entry: 'an entry download' };

function size(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2) return `${Math.round((bytes / 1024 ** 2) * 10) / 10} MiB`;
  return `${bytes} bytes`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The `E_TOO_LARGE` of a body that passed its limit. Nothing of the body is quoted, or kept. */
export function tooLargeError(registry: string, host: string, purpose: TransferPurpose, limit: number): RegistryError {
  const option = `limits.${purpose}`;
  return new RegistryError(
    'E_TOO_LARGE',
    `Registry "${registry}": the answer of ${host} to ${WHAT[purpose]} is larger than ${size(limit)} (the ${option} limit), so it was stopped and not used. If the registry really serves this much, raise ${option} (in bytes) for this registry.`,
    { registry, details: { host, limit: option, bytes: limit } },
  );
}

/**
 * The `E_UNREACHABLE` of a request that passed its deadline: a network fault like any other (the server is too slow
 * or trickles), so core may serve a cached copy.
 */
export function deadlineError(registry: string, host: string, purpose: TransferPurpose, ms: number): RegistryError {
  const option = `timeouts.${purpose}`;
  return new RegistryError(
    'E_UNREACHABLE',
    `Registry "${registry}": ${host} did not finish ${WHAT[purpose]} within ${seconds(ms)} (the ${option} deadline of the whole request, retries included); the server is too slow or keeps the connection trickling. If the network is just slow, raise ${option} (in ms) for this registry. Copies already cached stay usable offline.`,
    { registry, details: { host, timeout: true, deadline: option, ms } },
  );
}
