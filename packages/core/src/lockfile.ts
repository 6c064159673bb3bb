/**
 * The lockfile, `agentos-registry.lock.json`: for each extension and persona a host uses, what its reference resolved
 * to (registry, source, version, revision) and the content hash of its files, so another host (or a later run) gets
 * the same files or a clear refusal. One format for every source type, since the hash does not depend on how the
 * files arrived (dirhash.ts). Written with a fixed key order and entries sorted by kind and reference, one field per
 * line, so a change shows as a small diff. It never holds a secret: locations lose any userinfo, query and fragment,
 * and the whole text passes through the redactor before it is written.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { writeFileInside } from './entry-files.js';
import { CONTENT_HASH } from './dirhash.js';
import { parseJsonDocument } from './json-text.js';
import { RegistryError, redact } from './errors.js';

/** The lockfile's usual name, in the folder of the config file. */
export const LOCKFILE_NAME = 'agentos-registry.lock.json';

/** One npm package installed for an entry (its dependency tree, flattened by install path). */
export interface LockedPackage {
  name: string;
  version: string;
  /** The package manager's integrity of its tarball, when it gave one. */
  integrity?: string;
}

/** What one reference was locked to. */
export interface LockedEntry {
  /** The kind it was asked for (`tool`, `persona`, …). */
  kind: string;
  /** The reference exactly as asked (`id`, `id@range`, `registry:id@range`). */
  ref: string;
  /** The configured registry that answered it. */
  registry: string;
  /** The registry's source type and location, without credentials. */
  source: { type: string; location: string };
  id: string;
  /** The entry's version in the index. */
  version: string;
  /** The registry's revision it was read at (commit sha, npm version + integrity, index ETag or hash…). */
  revision: string;
  /**
   * The sha512 (SRI) of the registry's index bytes at `revision`, when they were cached: lets a locked entry be served
   * from the cache with no network call even after the cached index moved on.
   */
  index?: string;
  /** Content hash of the entry's registry folder (`h1:…`, see dirhash.ts): what a frozen fetch or load checks. */
  h1: string;
  /** Set when the entry's code is its npm package: the package's version, npm integrity and content hash. */
  package?: { name: string; version: string; integrity: string; h1: string };
  /** The npm packages installed for the entry's code, by name, version and integrity (absent: none). */
  dependencies?: LockedPackage[];
  /** The peers taken from the host, by name and the host's version (absent: none). */
  peers?: Array<{ name: string; version: string }>;
}

export interface Lockfile {
  lockfileVersion: 1;
  entries: LockedEntry[];
}

/** A lockfile with no entries. */
export function emptyLockfile(): Lockfile {
  return { lockfileVersion: 1, entries: [] };
}

/** One URL without userinfo, query or fragment; anything that does not parse as a URL with a host is kept. */
function withoutCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.host === '') return text;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * A location with no userinfo, query or fragment in it (where a token could hide), also in a URL inside a longer
 * text such as an npm location's `name@tag (registry URL)`; other text is kept as written.
 */
export function lockLocation(location: string): string {
  // A URL runs to the next space; a ")" it does not open closes the text around it (`name@tag (URL)`). Stopping at
  // any parenthesis instead kept the query of a URL whose path holds one (`https://h/a(b)/?sig=…`).
  return location.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (match) => {
    let url = match;
    const count = (text: string, char: string) => text.split(char).length - 1;
    while (url.endsWith(')') && count(url, ')') > count(url, '(')) url = url.slice(0, -1);
    return withoutCredentials(url) + match.slice(url.length);
  });
}

/** The lock entry for a (kind, reference); a persona locked for a reference also answers an extension kind's lookup, so callers can tell it is a persona. */
export function findLocked(lock: Lockfile, kind: string, ref: string): LockedEntry | undefined {
  return (
    lock.entries.find((e) => e.ref === ref && e.kind === kind) ??
    (kind !== 'persona' ? lock.entries.find((e) => e.ref === ref && e.kind === 'persona') : undefined)
  );
}

/** The lockfile with `entry` added, or put in place of the entry locked for the same kind and reference. */
export function withLocked(lock: Lockfile, entry: LockedEntry): Lockfile {
  return { lockfileVersion: 1, entries: [...lock.entries.filter((e) => !(e.kind === entry.kind && e.ref === entry.ref)), entry] };
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One entry with its keys in the lockfile's order, and without empty lists. */
function ordered(e: LockedEntry): Record<string, unknown> {
  return {
    kind: e.kind,
    ref: e.ref,
    registry: e.registry,
    source: { type: e.source.type, location: lockLocation(e.source.location) },
    id: e.id,
    version: e.version,
    revision: e.revision,
    ...(e.index ? { index: e.index } : {}),
    h1: e.h1,
    ...(e.package ? { package: { name: e.package.name, version: e.package.version, integrity: e.package.integrity, h1: e.package.h1 } } : {}),
    ...(e.dependencies?.length
      ? {
          dependencies: [...e.dependencies]
            .sort((a, b) => byText(a.name, b.name) || byText(a.version, b.version))
            .map((d) => ({ name: d.name, version: d.version, ...(d.integrity ? { integrity: d.integrity } : {}) })),
        }
      : {}),
    ...(e.peers?.length ? { peers: [...e.peers].sort((a, b) => byText(a.name, b.name)).map((p) => ({ name: p.name, version: p.version })) } : {}),
  };
}

/** The lockfile's text: fixed key order, entries sorted by kind then reference, two-space indent, final newline. */
export function serializeLockfile(lock: Lockfile): string {
  const entries = [...lock.entries].sort((a, b) => byText(a.kind, b.kind) || byText(a.ref, b.ref)).map(ordered);
  return redact(`${JSON.stringify({ lockfileVersion: 1, entries }, null, 2)}\n`);
}

/** Parses and checks a lockfile's text; `E_CONFIG` naming the file and field for anything malformed. */
export function parseLockfile(text: string, file = LOCKFILE_NAME): Lockfile {
  const value = parseJsonDocument(text, { code: 'E_CONFIG', file, label: `Lockfile ${file}`, next: 'Write it again with "agentos-registry lock".' });
  const bad = (field: string, why: string) =>
    new RegistryError('E_CONFIG', `Lockfile ${file}: ${field} ${why}. Write it again with "agentos-registry lock".`, { details: { file, field } });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('the document', 'must be an object');
  const doc = value as Record<string, unknown>;
  if (doc.lockfileVersion !== 1) throw bad('lockfileVersion', 'must be 1 (a newer agentos-registry may have written it)');
  if (!Array.isArray(doc.entries)) throw bad('entries', 'must be a list');
  const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
  const entries = doc.entries.map((raw: unknown, i: number): LockedEntry => {
    const at = `entries[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw bad(at, 'must be an object');
    const e = raw as Record<string, unknown>;
    for (const field of ['kind', 'ref', 'registry', 'id', 'version', 'revision', 'h1'] as const) {
      if (!isText(e[field])) throw bad(`${at}.${field}`, 'must be a non-empty string');
    }
    if (!CONTENT_HASH.test(e.h1 as string)) throw bad(`${at}.h1`, 'is not an h1: content hash');
    if (e.index !== undefined && (typeof e.index !== 'string' || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(e.index)))
      throw bad(`${at}.index`, 'is not a sha512 SRI hash');
    const source = e.source as Record<string, unknown> | undefined;
    if (typeof source !== 'object' || source === null || !isText(source.type) || typeof source.location !== 'string') {
      throw bad(`${at}.source`, 'must be { type, location }');
    }
    const pkg = e.package as Record<string, unknown> | undefined;
    if (
      pkg !== undefined &&
      (typeof pkg !== 'object' || pkg === null || !isText(pkg.name) || !isText(pkg.version) || !isText(pkg.integrity) || !CONTENT_HASH.test(String(pkg.h1)))
    ) {
      throw bad(`${at}.package`, 'must be { name, version, integrity, h1 }');
    }
    const list = <T>(field: string, check: (item: Record<string, unknown>) => T | undefined): T[] | undefined => {
      if (e[field] === undefined) return undefined;
      if (!Array.isArray(e[field])) throw bad(`${at}.${field}`, 'must be a list');
      return (e[field] as unknown[]).map((item, j) => {
        const got = typeof item === 'object' && item !== null ? check(item as Record<string, unknown>) : undefined;
        if (got === undefined) throw bad(`${at}.${field}[${j}]`, 'must be { name, version }');
        return got;
      });
    };
    const dependencies = list('dependencies', (d) =>
      isText(d.name) && isText(d.version) && (d.integrity === undefined || isText(d.integrity))
        ? { name: d.name, version: d.version, ...(d.integrity ? { integrity: d.integrity as string } : {}) }
        : undefined,
    );
    const peers = list('peers', (p) => (isText(p.name) && isText(p.version) ? { name: p.name, version: p.version } : undefined));
    return {
      kind: e.kind as string,
      ref: e.ref as string,
      registry: e.registry as string,
      source: { type: source.type as string, location: source.location as string },
      id: e.id as string,
      version: e.version as string,
      revision: e.revision as string,
      ...(typeof e.index === 'string' ? { index: e.index } : {}),
      h1: e.h1 as string,
      ...(pkg ? { package: { name: pkg.name as string, version: pkg.version as string, integrity: pkg.integrity as string, h1: pkg.h1 as string } } : {}),
      ...(dependencies ? { dependencies } : {}),
      ...(peers ? { peers } : {}),
    };
  });
  return { lockfileVersion: 1, entries };
}

/** Reads a lockfile; `undefined` when the file does not exist. */
export async function readLockfile(file: string): Promise<Lockfile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError('E_CONFIG', `Lockfile ${file} cannot be read: ${(error as Error).message}`, { cause: error, details: { file } });
  }
  return parseLockfile(text, file);
}

/** Writes a lockfile atomically (a reader sees the old file or the new one, never half of it). */
export async function writeLockfile(file: string, lock: Lockfile): Promise<void> {
  // Core's one safe write: a temporary name no one can guess, created exclusively (no link planted in a shared folder
  // is written through), then renamed over the file.
  await writeFileInside(dirname(file), basename(file), serializeLockfile(lock));
}

/** One difference between a locked entry and what was found. */
export interface LockDrift {
  field: string;
  expected: string;
  actual: string;
}

/** What differs between two lock entries for the same reference, in the fields a frozen load holds fixed. */
export function lockDrift(locked: LockedEntry, actual: Partial<LockedEntry>): LockDrift[] {
  const drift: LockDrift[] = [];
  const same = (field: string, expected: string, got: string) => {
    if (expected !== got) drift.push({ field, expected, actual: got });
  };
  if (actual.registry !== undefined) same('registry', locked.registry, actual.registry);
  if (actual.version !== undefined) same('version', locked.version, actual.version);
  if ('package' in actual) {
    const show = (p: LockedEntry['package']) => (p ? `${p.name}@${p.version} ${p.integrity} ${p.h1}` : '(none: the code is the registry folder)');
    same('package', show(locked.package), show(actual.package));
  }
  if (actual.h1 !== undefined) same('h1', locked.h1, actual.h1);
  if ('dependencies' in actual) {
    const show = (list: LockedPackage[] | undefined) =>
      (list ?? [])
        .map((d) => `${d.name}@${d.version}${d.integrity ? ` ${d.integrity}` : ''}`)
        .sort(byText)
        .join(', ') || '(none)';
    same('dependencies', show(locked.dependencies), show(actual.dependencies));
  }
  return drift;
}
