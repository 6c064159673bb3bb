/**
 * An air-gap mirror: what a set of configured registries serves, copied into one folder that holds one `file`
 * registry per source registry, a `SHA256SUMS` of every file and a `mirror.json` saying where each entry came from.
 * Built on the public `Registry` API only: every entry is `fetch`ed (so checked as any fetch is) and its folder copied.
 * See docs/mirror.md.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { scanTreeContentHash } from './dirhash.js';
import { RegistryError } from './errors.js';
import { lockLocation } from './lockfile.js';
import type { FetchedEntry, Registry } from './types.js';
import { copyDirectory } from './tree.js';

export const MIRROR_MANIFEST = 'mirror.json';
export const MIRROR_SUMS = 'SHA256SUMS';

export interface MirroredEntry {
  kind: string;
  id: string;
  version: string;
  /** The entry's folder inside its mirrored registry, relative to that registry's root. */
  path: string;
  h1: string;
}

export interface MirroredRegistry {
  /** The configured registry's name, also the mirrored registry's folder name. */
  name: string;
  source: { type: string; location: string };
  revision: string;
  entries: MirroredEntry[];
}

export interface MirrorManifest {
  mirrorVersion: 1;
  registries: MirroredRegistry[];
}

export interface MirrorOptions {
  /** The folder to write (created if needed). */
  to: string;
  /** References to mirror (`id`, `id@range`, `registry:id@range`); a string is a tool, or `{ kind, ref }`. */
  refs?: ReadonlyArray<string | { kind: string; ref: string }>;
  /** Every entry of every configured registry (the default when no refs are given). */
  all?: boolean;
  /** Only entries that provide one of these kinds (`persona` for personas). */
  kinds?: readonly string[];
  signal?: AbortSignal;
}

export interface MirrorResult {
  manifest: MirrorManifest;
  /** Entries whose files were copied on this run (`registry:id@version`). */
  copied: string[];
  /** Entries already in the mirror with the same h1, left as they were. */
  kept: string[];
}

/** A problem `verifyMirror` found. */
export interface MirrorProblem {
  problem: 'missing' | 'changed' | 'extra' | 'entry-changed' | 'unreadable';
  /** The path relative to the mirror folder, slash-separated. */
  path: string;
  message: string;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const slash = (path: string) => path.split(sep).join('/');
/** A name as one folder name: other characters become `_`, and `.`, `..` or nothing cannot name a folder above. */
const safeName = (text: string) => {
  const name = text.replace(/[^A-Za-z0-9._@+-]/g, '_');
  return /^\.*$/.test(name) ? `_${name}` : name;
};
/** A slash-separated path that stays inside the mirror folder (no `..`, `.` or empty segment, not absolute). */
const insidePath = (path: string) => path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\\'));

async function readManifest(dir: string): Promise<MirrorManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MIRROR_MANIFEST), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const doc = JSON.parse(text) as MirrorManifest;
    if (doc.mirrorVersion !== 1 || !Array.isArray(doc.registries)) throw new Error('not a mirror manifest');
    return doc;
  } catch (error) {
    throw new RegistryError('E_CONFIG', `${join(dir, MIRROR_MANIFEST)} is not a mirror manifest (${(error as Error).message}).`, {
      details: { file: join(dir, MIRROR_MANIFEST) },
    });
  }
}

/** Every regular file under `dir`, slash-separated paths relative to it, sorted by their bytes (symlinks are skipped). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (folder: string) => {
    for (const item of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, item.name);
      if (item.isDirectory()) await walk(full);
      else if (item.isFile()) out.push(slash(relative(dir, full)));
    }
  };
  await walk(dir);
  return out.sort(byBytes);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Which entries to fetch: the refs, or every listed entry of every registry; then the kinds filter. */
async function selection(registry: Registry, options: MirrorOptions): Promise<Array<{ kind: string; ref: string }>> {
  const wanted = (kinds: readonly string[]) => !options.kinds?.length || kinds.some((k) => options.kinds!.includes(k));
  if (options.refs?.length && !options.all) {
    return options.refs.map((r) => (typeof r === 'string' ? { kind: 'tool', ref: r } : r)).filter((r) => wanted([r.kind]));
  }
  const rows = await registry.list(undefined, { signal: options.signal });
  return rows
    .filter((row) => wanted(row.kinds))
    .map((row) => ({
      kind: row.kinds.includes('persona') ? 'persona' : (row.kinds[0] ?? 'tool'),
      ref: `${row.registry}:${row.id}@${row.version}`,
    }));
}

/**
 * Writes the mirror: `<to>/<registry>/registry.json` with `<to>/<registry>/registry/<id>/<version>/` per entry (a
 * `file` registry each), `<to>/mirror.json` and `<to>/SHA256SUMS`. The mirror becomes the current selection; an entry
 * already there with the same h1 is not copied again. Entries are fetched with their registry folder (`code:
 * 'registry'`); an entry's npm `package` is named in its index entry but not carried.
 */
export async function mirrorRegistries(registry: Registry, options: MirrorOptions): Promise<MirrorResult> {
  const to = options.to;
  await mkdir(to, { recursive: true });
  const before = await readManifest(to);
  const previous = new Map<string, string>();
  for (const reg of before?.registries ?? []) for (const e of reg.entries) previous.set(`${reg.name}\0${e.path}`, e.h1);

  const fetched: Array<{ kind: string; entry: FetchedEntry }> = [];
  const seen = new Set<string>();
  for (const { kind, ref } of await selection(registry, options)) {
    const entry = await registry.fetch(kind, ref, { code: 'registry', signal: options.signal });
    const key = `${entry.registry}\0${entry.id}\0${entry.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    fetched.push({ kind: entry.entry.section === 'personas' ? 'persona' : kind, entry });
  }

  const registries = new Map<string, MirroredRegistry & { index: { extensions: Record<string, unknown[]>; personas: Record<string, unknown[]> } }>();
  const copied: string[] = [];
  const kept: string[] = [];
  for (const { kind, entry } of fetched) {
    let reg = registries.get(entry.registry);
    if (!reg) {
      reg = {
        name: entry.registry,
        source: { type: entry.provenance.sourceType, location: lockLocation(entry.provenance.location) },
        revision: entry.revision,
        entries: [],
        index: { extensions: {}, personas: {} },
      };
      registries.set(entry.registry, reg);
    }
    const path = `registry/${safeName(entry.id)}/${safeName(entry.version)}`;
    const dest = join(to, safeName(entry.registry), ...path.split('/'));
    const label = `${entry.registry}:${entry.id}@${entry.version}`;
    if (previous.get(`${entry.registry}\0${path}`) === entry.h1 && (await lstat(dest).catch(() => undefined))?.isDirectory()) {
      kept.push(label);
    } else {
      const partial = `${dest}.partial`;
      await rm(partial, { recursive: true, force: true });
      // Core's guarded copy (its tree writer): the same rules for links and paths as every other write of an entry.
      await copyDirectory(entry.dir, partial, { registry: entry.registry });
      const copiedH1 = (await scanTreeContentHash(partial, { registry: entry.registry })).h1;
      if (copiedH1 !== entry.h1) {
        await rm(partial, { recursive: true, force: true });
        throw new RegistryError('E_INTEGRITY', `The copy of ${label} hashes ${copiedH1}, not ${entry.h1}; its cached files changed while they were copied.`, {
          registry: entry.registry,
          details: { id: entry.id, expected: entry.h1, actual: copiedH1 },
        });
      }
      await rm(dest, { recursive: true, force: true });
      await rename(partial, dest);
      copied.push(label);
    }
    reg.entries.push({ kind, id: entry.id, version: entry.version, path, h1: entry.h1 });
    const raw: Record<string, unknown> = { ...entry.entry.raw, path };
    delete raw.dist; // a static site's tarball: the mirror holds the folder instead
    const section = reg.index[entry.entry.section];
    section[entry.entry.tier] ??= [];
    section[entry.entry.tier]!.push(raw);
  }

  // Registry folders and entry folders no longer in the selection go: the mirror is what was asked this time.
  const manifest: MirrorManifest = { mirrorVersion: 1, registries: [] };
  for (const item of await readdir(to, { withFileTypes: true })) {
    if (item.isDirectory() && !registries.has(item.name) && before?.registries.some((r) => safeName(r.name) === item.name)) {
      await rm(join(to, item.name), { recursive: true, force: true });
    }
  }
  for (const reg of [...registries.values()].sort((a, b) => byBytes(a.name, b.name))) {
    const { index, ...rest } = reg;
    rest.entries.sort((a, b) => byBytes(a.path, b.path));
    const root = join(to, safeName(reg.name));
    const keep = new Set(rest.entries.map((e) => e.path));
    for (const e of before?.registries.find((r) => r.name === reg.name)?.entries ?? []) {
      if (keep.has(e.path)) continue;
      const folder = join(root, ...e.path.split('/'));
      await rm(folder, { recursive: true, force: true });
      // The id's folder goes too once its last version has gone.
      await rmdir(join(folder, '..')).catch(() => undefined);
    }
    const doc: Record<string, unknown> = { version: '1.0.0' };
    if (Object.keys(index.extensions).length) doc.extensions = index.extensions;
    if (Object.keys(index.personas).length) doc.personas = index.personas;
    await writeFile(join(root, 'registry.json'), `${JSON.stringify(doc, null, 2)}\n`);
    manifest.registries.push(rest);
  }
  await writeFile(join(to, MIRROR_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  await rm(join(to, MIRROR_SUMS), { force: true });
  const lines: string[] = [];
  for (const file of await filesUnder(to)) lines.push(`${await sha256File(join(to, ...file.split('/')))}  ${file}\n`);
  await writeFile(join(to, MIRROR_SUMS), lines.join(''));
  return { manifest, copied, kept };
}

/**
 * Checks a mirror offline: every file against `SHA256SUMS` (missing, changed, and files it does not list), and every
 * entry folder against its h1 in `mirror.json`. An empty answer means the mirror is intact.
 */
export async function verifyMirror(dir: string): Promise<MirrorProblem[]> {
  const problems: MirrorProblem[] = [];
  let sums: string;
  try {
    sums = await readFile(join(dir, MIRROR_SUMS), 'utf8');
  } catch {
    return [{ problem: 'missing', path: MIRROR_SUMS, message: `${MIRROR_SUMS} is missing: this is not a mirror, or it was damaged.` }];
  }
  const listed = new Map<string, string>();
  for (const line of sums.split('\n')) {
    if (!line) continue;
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match) {
      problems.push({
        problem: 'unreadable',
        path: MIRROR_SUMS,
        message: `${MIRROR_SUMS} holds a line that is not "<sha256>  <path>": ${JSON.stringify(line)}.`,
      });
      continue;
    }
    if (!insidePath(match[2]!)) {
      problems.push({ problem: 'unreadable', path: MIRROR_SUMS, message: `${MIRROR_SUMS} names a path outside the mirror: ${JSON.stringify(match[2])}.` });
      continue;
    }
    listed.set(match[2]!, match[1]!);
  }
  const present = new Set(await filesUnder(dir));
  for (const [path, expected] of listed) {
    if (!present.has(path)) {
      problems.push({ problem: 'missing', path, message: `${path} is missing.` });
      continue;
    }
    const actual = await sha256File(join(dir, ...path.split('/')));
    if (actual !== expected) problems.push({ problem: 'changed', path, message: `${path} changed: sha256 ${actual}, ${MIRROR_SUMS} says ${expected}.` });
  }
  for (const path of present) {
    if (path !== MIRROR_SUMS && !listed.has(path)) problems.push({ problem: 'extra', path, message: `${path} is not listed in ${MIRROR_SUMS}.` });
  }
  let manifest: MirrorManifest | undefined;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    problems.push({ problem: 'unreadable', path: MIRROR_MANIFEST, message: (error as Error).message });
  }
  for (const reg of manifest?.registries ?? []) {
    for (const e of reg.entries) {
      const path = `${safeName(reg.name)}/${e.path}`;
      if (!insidePath(path)) {
        problems.push({
          problem: 'unreadable',
          path: MIRROR_MANIFEST,
          message: `${MIRROR_MANIFEST} names a folder outside the mirror: ${JSON.stringify(path)}.`,
        });
        continue;
      }
      const folder = join(dir, ...path.split('/'));
      if (!(await lstat(folder).catch(() => undefined))?.isDirectory()) {
        problems.push({ problem: 'missing', path, message: `The folder of ${reg.name}:${e.id}@${e.version} (${path}) is missing.` });
        continue;
      }
      try {
        const h1 = (await scanTreeContentHash(folder, { registry: reg.name })).h1;
        if (h1 !== e.h1) {
          problems.push({
            problem: 'entry-changed',
            path,
            message: `${reg.name}:${e.id}@${e.version} (${path}) hashes ${h1}, ${MIRROR_MANIFEST} says ${e.h1}.`,
          });
        }
      } catch (error) {
        problems.push({ problem: 'unreadable', path, message: `${path}: ${(error as Error).message}` });
      }
    }
  }
  return problems;
}
