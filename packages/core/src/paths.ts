/** Path safety: nothing a registry says may point outside the folder it belongs to. */
import { isAbsolute, join, posix, resolve, sep } from 'node:path';
import { RegistryError } from './errors.js';

/**
 * Normalizes a registry-relative path to POSIX form and refuses anything that could leave the registry root:
 * absolute paths (POSIX, Windows drive or UNC), `..` segments, NUL bytes. Returns the clean relative path.
 */
export function normalizeRelativePath(relative: string, what: { registry?: string; field?: string; file?: string } = {}): string {
  const fail = (why: string) =>
    new RegistryError(
      'E_UNSAFE_PATH',
      `${what.file ? `${what.file} ` : ''}${what.field ?? 'path'} "${relative}" ${why}${what.registry ? ` in registry "${what.registry}"` : ''}. Entry paths must be relative folders inside the registry; fix registry.json.`,
      { registry: what.registry, details: { path: relative, field: what.field, ...(what.file ? { file: what.file } : {}) } },
    );
  if (relative.includes('\0')) throw fail('contains a NUL byte');
  const slashed = relative.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed) || isAbsolute(relative)) throw fail('is absolute');
  const normalized = posix.normalize(slashed).replace(/\/+$/, '');
  // Again after normalizing: `x/../C:/Windows` normalizes to `C:/Windows`, which Windows resolves outside the root.
  if (/^[a-zA-Z]:/.test(normalized)) throw fail('is absolute');
  if (normalized === '..' || normalized.startsWith('../') || normalized.split('/').includes('..')) {
    throw fail('escapes the registry root');
  }
  return normalized === '.' ? '' : normalized;
}

/** Joins a checked relative path onto a root; throws `E_UNSAFE_PATH` when the result would be outside the root. */
export function safeJoin(root: string, relative: string, what: { registry?: string; field?: string; file?: string } = {}): string {
  const clean = normalizeRelativePath(relative, what);
  const absRoot = resolve(root);
  const joined = resolve(join(absRoot, clean));
  if (joined !== absRoot && !joined.startsWith(absRoot + sep)) {
    throw new RegistryError('E_UNSAFE_PATH', `path "${relative}" resolves outside ${absRoot}.`, {
      registry: what.registry,
    });
  }
  return joined;
}

/** True when `child` is `parent` or inside it (both absolute). */
export function isInside(parent: string, child: string): boolean {
  const p = resolve(parent);
  const c = resolve(child);
  return c === p || c.startsWith(p.endsWith(sep) ? p : p + sep);
}
