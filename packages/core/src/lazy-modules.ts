/**
 * Libraries core needs only for some calls, loaded on first use instead of at import: undici (any HTTP request),
 * tar (reading or writing an archive), yaml (a persona written as Markdown with front matter) and semver (a range
 * to match, versions to sort); zod is loaded the same way in schema.ts. Most processes that import core — a CLI
 * `list` on a warm cache, a host reading a local folder — need few of them, and loading them all up front was most
 * of the start-up time. `require` is synchronous, so the callers stay as they were (a
 * function that must not await before it starts reading its input can still load tar).
 */
import { createRequire } from 'node:module';

type Undici = typeof import('undici');
type Tar = typeof import('tar');
type Yaml = typeof import('yaml');

const load = createRequire(import.meta.url);
let undici: Undici | undefined;
let tar: Tar | undefined;
let yaml: Yaml | undefined;

/** undici, loaded on first use. */
export function undiciModule(): Undici {
  undici ??= load('undici') as Undici;
  return undici;
}

/** tar, loaded on first use. */
export function tarModule(): Tar {
  tar ??= load('tar') as Tar;
  return tar;
}

/** yaml, loaded on first use. */
export function yamlModule(): Yaml {
  yaml ??= load('yaml') as Yaml;
  return yaml;
}

type Semver = typeof import('semver');
let semver: Semver | undefined;

/** semver, loaded on first use (a version range to match, versions to sort). */
export function semverModule(): Semver {
  semver ??= load('semver') as Semver;
  return semver;
}
