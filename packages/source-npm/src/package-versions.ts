/**
 * Which versions of a package the registry has published: its packument's `versions` and `dist-tags`, fetched the way
 * `fetchPackageCode` fetches it (same settings, credentials, cache, deadlines and size limits). Core asks so that a
 * message never suggests a version that does not exist; what to suggest is core's business.
 */
import { type PackageVersions, RegistryError } from '@agentos-registry/core';
import { withNpmCache } from './npm-cache.js';
import { type NpmCallOptions, npmRequestOptions, prepareCall } from './npm-transport.js';
import { npmCall } from './package-fetch.js';
import { packageNameProblem } from './package-spec.js';
import { fetchPackument } from './packument.js';

/** What {@link packageVersions} needs. Only `name` is required. */
export interface PackageVersionsOptions extends NpmCallOptions {
  name: string;
  /** Answer from the npm cache only (`E_NOT_CACHED`-like npm errors otherwise). */
  offline?: boolean;
}

/**
 * The published versions and dist-tags of `options.name`. Errors are `RegistryError`s: `E_NOT_FOUND` (no such
 * package), `E_AUTH`, `E_UNREACHABLE`, `E_TOO_LARGE`, `E_ABORTED`.
 */
export async function packageVersions(options: PackageVersionsOptions): Promise<PackageVersions> {
  const registryName = options.registryName ?? 'npm';
  const problem = packageNameProblem(options.name);
  if (problem) throw new RegistryError('E_CONFIG', `"${options.name}" is not an npm package name: it ${problem}.`, { registry: registryName });
  const { settings, bounds, context } = prepareCall(options, options.name, '*');
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
      if (typeof tags === 'object' && tags !== null)
        for (const [tag, version] of Object.entries(tags)) if (typeof version === 'string') distTags[tag] = version;
      return { versions: Object.keys(packument.versions), distTags };
    }),
  );
}
