/**
 * Fetching a packument here, with npm-registry-fetch (pacote's own fetcher: same options, cache, agent and
 * credentials), instead of inside `pacote.manifest`, because only here can the answer be judged before it is used:
 *
 * - make-fetch-happen answers from its cache when a revalidation fails (`x-local-cache-status: stale`) and says
 *   nothing. For a selector that can move, that hides an unreachable registry from core, which then takes the old
 *   revision as freshly confirmed and restarts its freshness clock instead of serving stale with W_STALE. Such an
 *   answer is `E_UNREACHABLE` unless the caller accepts one (an exact version, which never changes).
 * - A body that is not JSON, or JSON that is not this package's packument, is a fault of the server (or of a proxy
 *   in front of it): `E_UNREACHABLE`, so core can serve its cached index, and never "no such version". Its cache
 *   entry is dropped, or a later conditional request (a 304 under the real ETag) would serve it again.
 *
 * pacote then picks the version from exactly this packument (its `packumentCache` option), with all of npm's rules.
 */
import { RegistryError } from '@agentos-registry/core';
import type { NpmErrorContext } from './npm-errors.js';
import { type NpmResponse, npmCacache, npmRegistryFetch } from './npm-stack.js';
import { type PacoteOptions, pacote } from './pacote.js';

/** A packument: `versions` by version, `dist-tags`, and whatever else the registry sends. */
export type Packument = Record<string, unknown> & { versions: Record<string, Record<string, unknown>> };

/** What one packument fetch needs. */
export interface PackumentRequest {
  name: string;
  /** pacote options (registry, credentials, cache, agent, timeout). */
  options: PacoteOptions;
  /** Revalidate a cached copy (a conditional request) instead of trusting it. */
  preferOnline: boolean;
  /** Whether a cached copy npm serves because the registry could not be reached is acceptable. */
  acceptStale: boolean;
  signal: AbortSignal;
}

// pacote's Accept headers: the abbreviated ("corgi") document first, the full one when a registry has no corgis.
const CORGI_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
const FULL_ACCEPT = 'application/json';

/** Fetches, checks and returns the packument of `request.name`; every failure is a `RegistryError` or npm's own error. */
export async function fetchPackument(request: PackumentRequest, context: NpmErrorContext): Promise<Packument> {
  // The URL exactly as pacote builds it (registry of the scope, escaped name).
  const url = new (pacote().RegistryFetcher)(request.name, request.options).packumentUrl;
  let response: NpmResponse;
  try {
    response = await get(url, CORGI_ACCEPT, request);
  } catch (error) {
    // As pacote does: a registry that 404s the abbreviated document may still have the full one.
    if ((error as { code?: string }).code !== 'E404') throw error;
    response = await get(url, FULL_ACCEPT, request);
  }
  if (response.headers.get('x-local-cache-status') === 'stale' && !request.acceptStale) {
    response.body.resume?.();
    throw new RegistryError(
      'E_UNREACHABLE',
      `Registry '${context.registry}' could not get the current packument of ${request.name} from ${context.registryUrl}: the request failed (npm's cache holds an older copy, which is not taken as current). Check the network, proxy settings and \`registry\`.`,
      { registry: context.registry, details: { package: request.name, reason: 'revalidation-failed' } },
    );
  }
  // Bounded by the agent, which caps every packument as it streams (limits.index).
  const text = await response.text();
  let parsed: unknown;
  let problem: string | undefined;
  try {
    parsed = JSON.parse(text);
    problem = packumentProblem(parsed, request.name);
  } catch {
    problem = 'is not JSON';
  }
  if (problem === undefined) return parsed as Packument;
  await forgetCached(response);
  // The bytes are the server's, possibly hostile: the message describes them and never quotes them.
  throw new RegistryError(
    'E_UNREACHABLE',
    `${context.registryUrl} answered the packument request for ${request.name} with a body that ${problem} (registry '${context.registry}'). The registry, or a proxy in front of it, is failing; try again later.`,
    { registry: context.registry, details: { package: request.name, reason: 'bad-packument', status: response.status } },
  );
}

function get(url: string, accept: string, request: PackumentRequest): Promise<NpmResponse> {
  return npmRegistryFetch()(url, {
    ...request.options,
    headers: { accept, 'pacote-req-type': 'packument', 'pacote-pkg-id': `registry:${request.name}` },
    spec: request.name,
    preferOnline: request.preferOnline,
    signal: request.signal,
    // Packuments carry no integrity of their own; `integrity` in the options is a tarball's.
    integrity: null,
  });
}

/** Why `value` cannot be the packument of `name`, or `undefined` when it can. */
export function packumentProblem(value: unknown, name: string): string | undefined {
  if (!isPlainObject(value)) return 'is JSON but not an object';
  if (typeof value.name === 'string' && value.name !== name) return 'is the packument of another package';
  if (!isPlainObject(value.versions)) return 'has no "versions" object';
  if (value['dist-tags'] !== undefined && !isPlainObject(value['dist-tags'])) return 'has a "dist-tags" that is not an object';
  for (const manifest of Object.values(value.versions)) if (!isPlainObject(manifest)) return 'lists a version that is not an object';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Drops the cache entries make-fetch-happen keeps for `response`'s URL (it names them in its own headers), and the
 * bytes they pointed at. Fully: a soft delete only appends a marker, and make-fetch-happen's lookup skips markers
 * and finds the older entries. The bytes too: cacache keeps content until a `verify`, so every distinct bad body (up
 * to `limits.packument` each, whatever the server chose to put in it, the token it was sent included) used to stay
 * on disk for good.
 */
async function forgetCached(response: NpmResponse): Promise<void> {
  const cacheHeader = response.headers.get('x-local-cache');
  const keyHeader = response.headers.get('x-local-cache-key');
  if (!cacheHeader || !keyHeader) return;
  const cacache = npmCacache();
  const cache = decodeURIComponent(cacheHeader);
  const key = decodeURIComponent(keyHeader);
  const stored = await cacache.get.info(cache, key).catch(() => null);
  await cacache.rm.entry(cache, key, { removeFully: true }).catch(() => undefined);
  if (stored?.integrity) await cacache.rm.content(cache, stored.integrity).catch(() => undefined);
}

/**
 * A `packumentCache` for pacote that holds this one packument: pacote asks it before fetching, under a key of its
 * own making, so it answers every key (one manifest call reads one packument).
 */
export function packumentCacheOf(packument: Packument): { has(key: string): boolean; get(key: string): Packument; set(): void; delete(): void } {
  return { has: () => true, get: () => packument, set: () => undefined, delete: () => undefined };
}
