/** Entry references: `id`, `id@1.2.0`, `id@^1.2`, `registry:id@range`, `@scope/package@range`. */
import { semverModule as semver } from './lazy-modules.js';
import { RegistryError } from './errors.js';

export interface EntryReference {
  /** The registry named by a `registry:` prefix. */
  registry?: string;
  /** An entry id, or an npm package name. */
  id: string;
  /** A semver version or range; absent means "the preferred version". */
  range?: string;
}

/** Parses a reference. Throws `E_CONFIG` for an empty id or an invalid range. */
export function parseReference(ref: string): EntryReference {
  const text = ref.trim();
  let rest = text;
  let registry: string | undefined;
  const colon = text.indexOf(':');
  // A prefix is a registry name only if it cannot be part of an id or package name.
  if (colon > 0 && !/[@/]/.test(text.slice(0, colon))) {
    registry = text.slice(0, colon).trimEnd();
    rest = text.slice(colon + 1).trimStart();
  }
  const at = rest.lastIndexOf('@');
  let id = rest;
  let range: string | undefined;
  if (at > 0) {
    id = rest.slice(0, at).trimEnd();
    range = rest.slice(at + 1).trim() || undefined;
  }
  if (id === '') throw new RegistryError('E_CONFIG', `"${ref}" does not name an entry. Use id, id@version, id@range or registry:id@range.`);
  // Only a scoped package name starts with `@`; one further on would make `format` ∘ `parse` change the reference
  // (`a@@` is id `a@`, which formats as `a@`, which parses as `a`), and no id or package name holds one.
  if (id.includes('@', 1)) {
    throw new RegistryError(
      'E_CONFIG',
      `"${ref}" has an "@" inside the id; an id holds none (a scoped package's leading "@" aside). Use id, id@version, id@range or registry:id@range.`,
    );
  }
  if (range !== undefined && range !== 'latest' && semver().validRange(range) === null) {
    throw new RegistryError('E_CONFIG', `"${range}" in "${ref}" is not a semver version or range (e.g. 1.2.0, ^1.2, >=2 <3).`);
  }
  return { ...(registry ? { registry } : {}), id, ...(range && range !== 'latest' ? { range } : {}) };
}

export function formatReference(ref: EntryReference): string {
  return `${ref.registry ? `${ref.registry}:` : ''}${ref.id}${ref.range ? `@${ref.range}` : ''}`;
}
