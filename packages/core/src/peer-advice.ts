/**
 * What to tell a user about a peer dependency, from what the package registry has really published. The real AgentOS
 * packages declare peer ranges such as `@framers/agentos@^0.5.2` that no published version satisfies: advice built
 * from the range alone (`npm install "@framers/agentos@^0.5.2"`) would send the user after a version that does not
 * exist. The adapter only answers which versions exist (`packageVersions`); what to suggest is decided here.
 */
import semver from 'semver';
import type { PackageVersions } from './contract.js';

/** The highest published version that satisfies `range` (prereleases only when the range names one), if any. */
export function highestSatisfying(range: string, versions: readonly string[]): string | undefined {
  const valid = versions.filter((version) => semver.valid(version) !== null);
  return semver.maxSatisfying(valid, range) ?? undefined;
}

/** The version a registry calls newest: its `latest` dist-tag, else its highest release. */
export function newestVersion(published: PackageVersions): string | undefined {
  const latest = published.distTags.latest;
  if (typeof latest === 'string' && published.versions.includes(latest)) return latest;
  const releases = published.versions.filter((version) => semver.valid(version) !== null && semver.prerelease(version) === null);
  return semver.rsort(releases.length > 0 ? releases : published.versions.filter((v) => semver.valid(v) !== null))[0];
}

/**
 * One peer's advice: the install command with the highest published version in range, or why there is none. Without
 * an answer from the registry (`published` undefined) no version is named at all.
 */
export interface PeerAdvice {
  name: string;
  range: string;
  /** The version to install, when the registry has one in range. */
  suggested?: string;
  /** The registry's newest version, when none is in range. */
  newest?: string;
  /** The registry has no version in range (or no such package: `unpublished`). */
  unsatisfiable: boolean;
  unpublished?: boolean;
}

export function adviseVersion(name: string, range: string, published: PackageVersions | undefined | 'not-found'): PeerAdvice {
  if (published === 'not-found') return { name, range, unsatisfiable: true, unpublished: true };
  if (!published) return { name, range, unsatisfiable: false };
  const suggested = semver.validRange(range) ? highestSatisfying(range, published.versions) : published.distTags[range];
  if (suggested) return { name, range, suggested, unsatisfiable: false };
  const newest = newestVersion(published);
  return { name, range, ...(newest ? { newest } : {}), unsatisfiable: true };
}

/** `name@suggested` quoted for a shell, or `undefined` when no version can be named. */
export function installSpec(advice: PeerAdvice): string | undefined {
  return advice.suggested ? `"${advice.name}@${advice.suggested}"` : undefined;
}

/** "no published version of X satisfies R (newest V)" or "X is not published on the package registry". */
export function nothingSatisfies(advice: PeerAdvice): string {
  if (advice.unpublished) return `${advice.name} is not published on the package registry`;
  return `no published version of ${advice.name} satisfies ${advice.range}${advice.newest ? ` (newest ${advice.newest})` : ''}`;
}
