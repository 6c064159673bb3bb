/**
 * Which versions of a package the registry has published: its packument's `versions` and `dist-tags`, fetched the way
 * `fetchPackageCode` fetches it (same settings, credentials, cache, deadlines and size limits). Core asks so that a
 * message never suggests a version that does not exist; what to suggest is core's business.
 */
import { type PackageVersions, RegistryError } from '@agentos-registry/core';
import { type NpmLimits, type NpmTimeouts, resolveNetworkBounds } from './network-bounds.js';
import { withNpmCache } from './npm-cache.js';
import { resolveNpmSettings } from './npm-config.js';
import { npmRequestOptions } from './npm-transport.js';
import { type FetchContext, npmCall } from './package-fetch.js';
import { packageNameProblem } from './package-spec.js';
import { fetchPackument } from './packument.js';

/** What {@link packageVersions} needs. Only `name` is required. */
export interface PackageVersionsOptions {
  name: string;
  /** Answer from the npm cache only (`E_NOT_CACHED`-like npm errors otherwise). */
  offline?: boolean;
  registry?: string;
  token?: string;
  npmrc?: boolean | string;
  cacheDir?: string;
  signal?: AbortSignal;
  env?: Readonly<Record<string, string | undefined>>;
  baseDir?: string;
  registryName?: string;
  /** `index` bounds the packument request (120 s), `attempt` each try (30 s). */
  timeouts?: NpmTimeouts;
  /** `index`: the packument's decoded size (128 MiB). */
  limits?: NpmLimits;
}

/**
 * The published versions and dist-tags of `options.name`. Errors are `RegistryError`s: `E_NOT_FOUND` (no such
 * package), `E_AUTH`, `E_UNREACHABLE`, `E_TOO_LARGE`, `E_ABORTED`.
 */
export async function packageVersions(options: PackageVersionsOptions): Promise<PackageVersions> {
  const registryName = options.registryName ?? 'npm';
  const problem = packageNameProblem(options.name);
  if (problem) throw new RegistryError('E_CONFIG', `"${options.name}" is not an npm package name: it ${problem}.`, { registry: registryName });
  const settings = resolveNpmSettings({
    packageName: options.name,
    registry: options.registry,
    token: options.token,
    npmrc: options.npmrc,
    env: options.env ?? process.env,
    baseDir: options.baseDir ?? process.cwd(),
    registryName,
  });
  const bounds = resolveNetworkBounds(options, registryName, settings.options.timeout as number | undefined);
  const context: FetchContext = {
    registry: registryName,
    name: options.name,
    selector: '*',
    registryUrl: settings.registry,
    authenticated: settings.authenticated,
    signal: options.signal,
    attemptMs: bounds.timeouts.attempt,
    deadlines: { index: bounds.timeouts.index, entry: bounds.timeouts.entry },
  };
  return withNpmCache(options.cacheDir, (cache) =>
    npmCall(context, 'index', '*', async (signal) => {
      const pacoteOptions = { ...npmRequestOptions(settings, bounds), cache, ...(options.offline ? { offline: true } : {}) };
      // Revalidated (versions get published), yet a cached copy is good enough when the registry cannot be reached:
      // it only decides what a message suggests.
      const packument = await fetchPackument(
        { name: options.name, options: pacoteOptions, preferOnline: options.offline !== true, acceptStale: true, signal },
        { ...context, action: 'Resolving' },
      );
      const tags = packument['dist-tags'];
      const distTags: Record<string, string> = {};
      if (typeof tags === 'object' && tags !== null) for (const [tag, version] of Object.entries(tags)) if (typeof version === 'string') distTags[tag] = version;
      return { versions: Object.keys(packument.versions), distTags };
    }),
  );
}
