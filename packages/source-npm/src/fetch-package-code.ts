/**
 * Extension code that lives on npm. In the real AgentOS registry every entry names its npm `package` and the
 * registry folder holds no built code; core calls this to put `package@version`'s files into a folder it owns, with
 * the registry settings it chooses (this npm registry's, or the user's `.npmrc` for a registry served from git).
 */
import { RegistryError } from '@agentos-registry/core';
import { withNpmCache } from './npm-cache.js';
import { type NpmCallOptions, npmRequestOptions, prepareCall } from './npm-transport.js';
import { extractInto, resolvePackage } from './package-fetch.js';
import { isExactVersion, parsePackageSpec } from './package-spec.js';

/** What {@link fetchPackageCode} needs. Only `spec` and `destination` are required. */
export interface FetchPackageCodeOptions extends NpmCallOptions {
  /** A registry spec: `name@version` (as core builds it from an entry's `package` and `version`), a range or a tag. */
  spec: string;
  /** Empty (or absent) folder that receives the package's files (`package.json` at its root). */
  destination: string;
}

/** The package that was extracted. */
export interface PackageCode {
  name: string;
  /** The exact version extracted (a range or tag resolved). */
  version: string;
  /** npm's SRI of the tarball, as the registry published it and pacote verified it. */
  integrity: string;
  /** Tarball URL, without credentials. */
  resolved: string;
}

/**
 * Extracts the files of an npm package into `destination`, verified against npm's integrity by pacote.
 *
 * Errors are `RegistryError`s: `E_NOT_FOUND` (no such package, or no version matching — the message lists the ones
 * that exist), `E_AUTH`, `E_UNREACHABLE` (also when a timeout ran out), `E_INTEGRITY`, `E_ABORTED`; a spec that is
 * not a registry spec (a URL, a path, an alias), or an invalid `timeouts`/`limits`, is `E_CONFIG`.
 *
 * @example
 * ```ts
 * const code = await fetchPackageCode({ spec: '@framers/agentos-ext-web-search@1.2.0', destination, cacheDir });
 * // code.integrity: 'sha512-…' (npm's), code.version: '1.2.0'
 * ```
 * pacote reads the tarball whole and checks it against the published integrity; only then does core's guarded
 * extractor write the files. A refused tarball (a link out of the folder, a bomb, an abort) leaves `destination` empty.
 */
export async function fetchPackageCode(options: FetchPackageCodeOptions): Promise<PackageCode> {
  const registryName = options.registryName ?? 'npm';
  let spec: ReturnType<typeof parsePackageSpec>;
  try {
    spec = parsePackageSpec(options.spec);
  } catch (error) {
    throw new RegistryError('E_CONFIG', `${(error as Error).message} (registry '${registryName}')`, {
      registry: registryName,
      details: { spec: options.spec },
    });
  }
  const { settings, bounds, context } = prepareCall(options, spec.name, spec.selector);
  return withNpmCache(options.cacheDir, async (cache) => {
    const pacoteOptions = { ...npmRequestOptions(settings, bounds), cache };
    // An exact version never changes, so a cached packument is good enough; a tag or range may have moved.
    const pkg = await resolvePackage(pacoteOptions, context, !isExactVersion(spec.selector));
    await extractInto(pkg, options.destination, pacoteOptions, context);
    return { name: pkg.name, version: pkg.version, integrity: pkg.integrity, resolved: pkg.resolved };
  });
}
