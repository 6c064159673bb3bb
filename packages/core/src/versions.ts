/** Version text as hosts resolve it. */
import { semverModule as semver } from './lazy-modules.js';

/** Whether `version` is a semantic version as written: no `v` or `=` prefix, no spaces (build metadata allowed). */
export function isSemverVersion(version: string): boolean {
  return /^\d/.test(version) && version.trim() === version && semver().valid(version) !== null;
}
