/**
 * npm package names and the `name@selector` specs built from them. Only registry specs are accepted: a git URL, a
 * tarball URL, a `file:` path or an `npm:` alias would make pacote fetch from somewhere the registry settings (and
 * the token scoping) do not describe.
 */

/** The dist-tag read when no version is configured, as npm does. */
export const DEFAULT_SELECTOR = 'latest';

const NAME_PART = /^[a-z0-9~-][a-z0-9._~-]*$/i;

/** Why `name` is not a usable npm package name, or `undefined` when it is one. */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 214) return 'is longer than the 214 characters npm allows';
  if (name.trim() !== name) return 'has leading or trailing spaces';
  let bare = name;
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash < 2 || slash === name.length - 1) return "is a scope without a package name (expected '@scope/name')";
    const scope = name.slice(1, slash);
    if (!NAME_PART.test(scope)) return `has an invalid scope '@${scope}'`;
    bare = name.slice(slash + 1);
  }
  if (bare.includes('/')) return "has more than one '/' (expected 'name' or '@scope/name')";
  if (bare.startsWith('.') || bare.startsWith('_')) return "starts with '.' or '_', which npm forbids";
  if (!NAME_PART.test(bare)) return 'has characters npm does not allow in package names (use letters, digits, -, ., _ and ~)';
  return undefined;
}

/** `@scope` of a scoped name, else `undefined`. */
export function scopeOf(name: string): string | undefined {
  return name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
}

/** A registry spec split into its name and version selector (a version, a range or a dist-tag). */
export interface PackageSpec {
  name: string;
  selector: string;
}

/**
 * Splits `name@selector` (`@scope/name@^1`, `left-pad@latest`, `left-pad`) into name and selector; a spec without a
 * selector reads `latest`. Throws a `TypeError` naming the problem for anything that is not a registry spec.
 */
export function parsePackageSpec(spec: string): PackageSpec {
  const text = spec.trim();
  if (/^(?:[a-z][a-z0-9+.-]*:|\.{0,2}\/|~\/)/i.test(text) && !text.startsWith('@')) {
    throw new TypeError(`'${spec}' is not a registry package spec (expected 'name@version'); URLs, paths and aliases are not fetched.`);
  }
  const at = text.indexOf('@', text.startsWith('@') ? 1 : 0);
  const name = at === -1 ? text : text.slice(0, at);
  const selector = at === -1 ? '' : text.slice(at + 1).trim();
  const problem = packageNameProblem(name);
  if (problem) throw new TypeError(`'${spec}' is not a registry package spec: the name ${problem}.`);
  if (selector.startsWith('npm:')) throw new TypeError(`'${spec}' is an npm alias; give the real package name instead.`);
  return { name, selector: selector === '' ? DEFAULT_SELECTOR : selector };
}

/** True for one exact version (`1.2.3`, `1.2.3-beta.1`): what it names never changes, so no revalidation is needed. */
export function isExactVersion(selector: string): boolean {
  return /^v?\d+\.\d+\.\d+(?:-[0-9a-z.-]+)?(?:\+[0-9a-z.-]+)?$/i.test(selector.trim());
}
