/**
 * What a failed fetch of an entry's package code says. The package source knows the package registry; core knows
 * which configured registry listed the entry and what kind of registry that is, so core words the two failures a
 * user meets most (the package, or its version, is not there; the package registry wants a credential) in terms of
 * the entry: which registry listed it, and what its owner or the user can do. The hints name no option of an npm
 * registry's config (`location`, `version`), which the user may never have written. Other failures keep the
 * source's message.
 */
import { isRegistryError, RegistryError } from './errors.js';
import type { ConfiguredRegistry } from './runtime.js';
import type { IndexEntry } from './types.js';

/** How many versions a "version missing" message lists (the newest ones). */
const LISTED_VERSIONS = 10;

/** The failure `error` of fetching `entry`'s package code, as the user of registry `reg` should read it. */
export function packageCodeError(error: unknown, entry: IndexEntry, reg: ConfiguredRegistry): unknown {
  if (!isRegistryError(error)) return error;
  const details = (error.details ?? {}) as Record<string, unknown>;
  const spec = `${entry.package}@${entry.version}`;
  const url = typeof details.registryUrl === 'string' ? details.registryUrl : undefined;
  const where = url ? `the package registry (${url})` : 'the package registry';
  const what = `${spec}, the code of ${entry.id} listed by registry "${reg.name}"`;
  const owner = ownerHint(reg);
  const base = { ...details, entry: entry.id, package: entry.package, version: entry.version, listedBy: reg.name, sourceType: reg.sourceType };

  if (error.code === 'E_NOT_FOUND' && (details.reason === 'no-package' || details.reason === 'no-matching-version')) {
    const versions = Array.isArray(details.versions) ? (details.versions as string[]) : [];
    const missing =
      details.reason === 'no-package'
        ? `is not on ${where}`
        : `is not on ${where}: the package is there, but not version ${entry.version} (${versionList(versions)})`;
    const privateHint =
      details.reason === 'no-package'
        ? details.authenticated === true
          ? ' If the package is private, check that the token of the package settings may read it.'
          : " If the package is private, give the package settings a token (createRegistry's `packages: { token }` option, or an .npmrc credential for that registry)."
        : '';
    return new RegistryError('E_NOT_FOUND', `${what}, ${missing}: ${owner}.${privateHint}`, {
      registry: reg.name,
      cause: error,
      details: { ...base, versions },
    });
  }
  if (error.code === 'E_AUTH') {
    const why =
      details.authenticated === true
        ? 'refused the token of the package settings: check that it is valid and may read the package'
        : "needs a credential, and the package settings have none: give them a token (createRegistry's `packages: { token }` option, or an .npmrc credential for that registry)";
    return new RegistryError('E_AUTH', `${what} could not be read from ${where}: the package registry ${why}.`, {
      registry: reg.name,
      cause: error,
      details: base,
    });
  }
  return error;
}

/** Who can fix an entry that names code the package registry does not have; for a folder on this machine, where the entry is. */
function ownerHint(reg: ConfiguredRegistry): string {
  const here = reg.source.flags?.local ? ` (the entry is in the registry.json of ${reg.source.displayLocation})` : '';
  return `ask the registry's owner to publish it or fix the entry's version${here}`;
}

/** "it has 0.2.2, 0.3.1" (newest last, at most LISTED_VERSIONS), or "it has no versions at all". */
function versionList(versions: readonly string[]): string {
  if (versions.length === 0) return 'it has no versions at all';
  const shown = versions.length > LISTED_VERSIONS ? ['…', ...versions.slice(-LISTED_VERSIONS)] : versions;
  return `it has ${shown.join(', ')}`;
}
