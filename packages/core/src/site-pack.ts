/**
 * `packRegistry`: turns a registry folder (the page's layout, or the real registry's root-relative one) into the
 * static site a `url` registry reads: one deterministic tarball per entry, and `registry.json` with each entry's
 * `dist: { tarball, integrity }` added and every other field kept as written.
 *
 * Authoring, not transport: it lives in core beside `createDeterministicTarball` (archive-pack.ts), which it is built
 * on, and the index parser, so that the `url` source stays a reader that writes nothing, and the CLI's `pack` and
 * `@agentos-registry/source-url` (which re-exports it) share one implementation.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { createDeterministicTarball } from './archive-pack.js';
import { RegistryError } from './errors.js';
import { parseRegistryIndex } from './index-format.js';
import { integrityOf } from './integrity.js';
import { normalizeRelativePath, safeJoin } from './paths.js';
import { throwIfAborted } from './source-errors.js';
import type { IndexEntry } from './types.js';

const INDEX_FILE = 'registry.json';

/** Options of `packRegistry`. */
export interface PackOptions {
  /** Folder of the site the tarballs go to, relative to `outDir`. Default `tarballs`. */
  tarballDir?: string;
  /** Aborting stops packing with `E_ABORTED`; tarballs already written stay (they are complete files). */
  signal?: AbortSignal;
}

/** One entry that was packed. */
export interface PackedEntry {
  section: 'extensions' | 'personas';
  tier: string;
  id: string;
  version: string;
  /** The entry folder, relative to the registry folder (`registry/curated/echo`). */
  path: string;
  /** `dist.tarball` as written into the site's registry.json, relative to the site (`tarballs/<name>.tgz`). */
  tarball: string;
  /** `dist.integrity`: the SRI sha512 of the tarball. */
  integrity: string;
  /** Size of the tarball in bytes. */
  bytes: number;
}

/** What `packRegistry` wrote. */
export interface PackResult {
  /** The site folder (absolute). */
  outDir: string;
  /** The site's registry.json (absolute). */
  index: string;
  /** Every entry, in the order of registry.json. */
  entries: PackedEntry[];
  /** Total bytes of the tarballs. */
  bytes: number;
}

/** The top folder inside every tarball, as npm uses it; the `url` source strips it when extracting. */
export const TARBALL_PREFIX = 'package';

/**
 * Packs the registry folder `registryDir` into the static site `outDir` (created if needed).
 *
 * Each entry's folder becomes `tarballs/<id>-<version>-<hash>.tgz`, made by core's `createDeterministicTarball`
 * (sorted paths, fixed mtimes, no owners, files under `package/`), so the same files always give the same bytes.
 * The short content hash in the name makes every tarball URL immutable: a CDN may cache them forever, and a client
 * still holding the previous registry.json keeps finding the tarballs it names while a new one is uploaded, even when
 * an entry changed without a version bump. Nothing in `outDir` is ever deleted; pack into an empty folder to drop old
 * tarballs. registry.json is written last, and every file through a temporary name, so a server that serves `outDir`
 * while it is being packed never serves an index naming a missing or half-written tarball.
 *
 * Throws `E_NOT_FOUND` (no registry.json, or a listed folder is missing), `E_INDEX_INVALID`, `E_UNSAFE_PATH` (paths or
 * symlinks that leave the registry, special files), `E_CONFIG` (an output folder that would overwrite the input).
 */
export async function packRegistry(registryDir: string, outDir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = resolve(registryDir);
  const out = resolve(outDir);
  const label = root;
  const tarballDir = normalizeRelativePath(options.tarballDir ?? 'tarballs', { field: 'tarballDir' });
  if (tarballDir === '') throw new RegistryError('E_CONFIG', 'tarballDir must name a folder inside the site, e.g. "tarballs".');
  if (out === root) {
    throw new RegistryError(
      'E_CONFIG',
      `The site folder is the registry folder (${root}); packing would overwrite its registry.json. Choose another --out folder.`,
    );
  }

  const indexFile = join(root, INDEX_FILE);
  const text = await readFile(indexFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new RegistryError('E_NOT_FOUND', `${root} has no ${INDEX_FILE}; give the folder that holds registry.json and registry/.`, {
        cause: error,
        details: { path: indexFile },
      });
    }
    throw error;
  });
  // Core's parser validates the index and normalizes every path (both layouts, `..` refused) exactly as a reader will.
  const parsed = parseRegistryIndex(text, { registry: label, file: indexFile });
  const doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Record<string, unknown>;

  const realRoot = await realpath(root);
  const packed: PackedEntry[] = [];
  let position = 0;
  for (const section of ['extensions', 'personas'] as const) {
    const tiers = (doc[section] ?? {}) as Record<string, Array<Record<string, unknown>>>;
    // Same walk as parseRegistryIndex, so the n-th raw entry is the n-th parsed one.
    for (const [tier, list] of Object.entries(tiers)) {
      for (const raw of list) {
        const entry = parsed.entries[position++]!;
        if (entry.id !== raw.id || entry.version !== raw.version) throw new Error(`pack: index walk out of step at ${entry.id}`);
        throwIfAborted(options.signal, 'packing the registry');
        const folder = await entryFolder(root, realRoot, entry, out);
        const tarball = await createDeterministicTarball(folder, {
          prefix: TARBALL_PREFIX,
          ...(options.signal ? { signal: options.signal } : {}),
          registry: label,
        });
        const integrity = integrityOf(tarball);
        const name = `${fileSafe(entry.id)}-${fileSafe(entry.version)}-${Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex').slice(0, 16)}.tgz`;
        const relative = `${tarballDir}/${name}`;
        await writeIfChanged(join(out, ...relative.split('/')), tarball);
        const url = relative.split('/').map(encodeURIComponent).join('/');
        // Assigning keeps an existing `dist` where it was (re-packing a site's own index); a new one goes last.
        raw.dist = { tarball: url, integrity };
        packed.push({ section, tier, id: entry.id, version: entry.version, path: entry.path, tarball: url, integrity, bytes: tarball.length });
      }
    }
  }

  const siteIndex = join(out, INDEX_FILE);
  // Unchanged bytes are not rewritten: servers whose ETag is mtime-based (nginx) then keep answering 304.
  await writeIfChanged(siteIndex, Buffer.from(`${JSON.stringify(doc, null, 2)}\n`));
  return { outDir: out, index: siteIndex, entries: packed, bytes: packed.reduce((sum, entry) => sum + entry.bytes, 0) };
}

/** The checked folder of an entry: inside the registry (also through symlinks), a folder, not holding the site. */
async function entryFolder(root: string, realRoot: string, entry: IndexEntry, out: string): Promise<string> {
  const joined = safeJoin(root, entry.path, { field: `path of ${entry.id}` });
  let real: string;
  try {
    real = await realpath(joined);
  } catch (error) {
    throw new RegistryError(
      'E_NOT_FOUND',
      `Entry ${entry.id}@${entry.version} lists the folder '${entry.path}', which does not exist (${joined}). Add the folder or fix its \`path\` in registry.json.`,
      {
        cause: error,
        details: { path: entry.path },
      },
    );
  }
  if (!inside(realRoot, real)) {
    throw new RegistryError(
      'E_UNSAFE_PATH',
      `The folder of ${entry.id} ('${entry.path}') leads outside the registry folder through a symlink (to ${real}); it cannot be packed.`,
      {
        details: { path: entry.path },
      },
    );
  }
  if (!(await stat(real)).isDirectory()) {
    throw new RegistryError('E_NOT_FOUND', `Entry ${entry.id} lists '${entry.path}', which is a file, not a folder.`, { details: { path: entry.path } });
  }
  if (inside(real, out) || inside(joined, out)) {
    throw new RegistryError(
      'E_CONFIG',
      `The site folder ${out} is inside the folder of ${entry.id}; its tarball would contain the site. Choose an --out folder outside the registry's entries.`,
    );
  }
  return real;
}

function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** An id or version as a file name: letters, digits, `.`, `_` and `-`; anything else becomes `_`. */
function fileSafe(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
}

/** Writes a file unless the same bytes are there already (an unchanged file keeps its mtime and ETag). */
async function writeIfChanged(file: string, bytes: Buffer): Promise<void> {
  const existing = await readFile(file).catch(() => undefined);
  if (existing?.equals(bytes)) return;
  await writeAtomic(file, bytes);
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}
