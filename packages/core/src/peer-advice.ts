/**
 * What to tell a user about a peer dependency, from what the package registry has really published. The real AgentOS
 * packages declare peer ranges such as `@framers/agentos@^0.5.2` that no published version satisfies: advice built
 * from the range alone (`npm install "@framers/agentos@^0.5.2"`) would send the user after a version that does not
 * exist. The adapter only answers which versions exist (`packageVersions`); what to suggest is decided here.
 */
import { semverModule as semver } from './lazy-modules.js';
import type { PackageVersions } from './contract.js';

/**
 * The published versions that are semver versions, in their clean form. A packument's keys are the registry's words:
 * `" 1.0.0\n"` is valid to semver (it trims) yet would carry a line break into a message, and anything else is not a
 * version at all, so only `semver.valid`'s own output is ever shown.
 */
function cleanVersions(versions: readonly string[]): string[] {
  const clean: string[] = [];
  for (const version of versions) {
    const valid = typeof version === 'string' ? semver().valid(version) : null;
    if (valid !== null) clean.push(valid);
  }
  return clean;
}

/** The highest published version that satisfies `range` (prereleases only when the range names one), if any. */
export function highestSatisfying(range: string, versions: readonly string[]): string | undefined {
  return semver().maxSatisfying(cleanVersions(versions), range) ?? undefined;
}

/**
 * The published version a dist-tag names, only when it is one of the published versions: a packument may tag a
 * version it does not list, or a string that is no version (quoted into a shell command by the advice); tags are read
 * as own keys (`constructor` is a valid tag name).
 */
function taggedVersion(published: PackageVersions, tag: string): string | undefined {
  const tagged = Object.hasOwn(published.distTags, tag) ? published.distTags[tag] : undefined;
  const valid = typeof tagged === 'string' ? semver().valid(tagged) : null;
  return valid !== null && cleanVersions(published.versions).includes(valid) ? valid : undefined;
}

/** The version a registry calls newest: its `latest` dist-tag, else its highest release. */
export function newestVersion(published: PackageVersions): string | undefined {
  const latest = taggedVersion(published, 'latest');
  if (latest) return latest;
  const valid = cleanVersions(published.versions);
  const releases = valid.filter((version) => semver().prerelease(version) === null);
  return semver().rsort(releases.length > 0 ? releases : valid)[0];
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
  const suggested = semver().validRange(range) ? highestSatisfying(range, published.versions) : taggedVersion(published, range.trim());
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
