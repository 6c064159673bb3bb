/**
 * The `h1:` hash of a folder, as Go's `golang.org/x/mod/sumdb/dirhash` `Hash1` defines it (the hash in `go.sum`):
 * the folder's regular files by slash-separated path, sorted by their bytes; one line `<hex sha256 of the file>  <path>\n`
 * each (exactly what `sha256sum` prints); then `h1:` + base64 of the sha256 of those lines. Anyone can recompute it:
 *
 *   cd entry && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum
 *
 * gives the hex of the digest that follows `h1:` in base64.
 *
 * h1 covers file bytes and paths only: not modes, not symlinks, not empty folders. So a tree hashed here may hold
 * neither a symlink nor a file with an executable bit — either would pass the hash unseen (a link swapped for another
 * target, a script made executable), and an executable bit can change what a tool does. Refusing them keeps h1 the
 * plain, recomputable hash above instead of a format of our own; extensions and personas need neither (Node imports
 * files without `+x`). The walk is core's `scanTree`, so the same safety checks run (no link out, no FIFO, no device).
 */
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';
import { scanTree, type TreeScan } from './tree.js';

/** Byte order of UTF-8, as Go sorts strings (JavaScript's `<` compares UTF-16 units, which differ above U+FFFF). */
function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The h1 of a list of `[path, hex sha256]` pairs (any order). Throws `E_SIGNATURE` for a path with a newline, as Go does. */
export function h1OfFileHashes(files: ReadonlyArray<readonly [string, string]>): string {
  const summary = createHash('sha256');
  for (const [path, sha256] of [...files].sort((a, b) => byUtf8(a[0], b[0]))) {
    if (path.includes('\n')) {
      throw new RegistryError('E_SIGNATURE', `A file name holds a newline ("${JSON.stringify(path)}"); the h1 hash cannot list it. Rename the file.`, {
        details: { path },
      });
    }
    summary.update(`${sha256}  ${path}\n`);
  }
  return `h1:${summary.digest('base64')}`;
}

/**
 * One walk that checks a folder (as `scanTree`), computes its integrity and its h1. Throws `E_SIGNATURE` naming the
 * first symlink or executable file, which h1 cannot cover (see the file comment).
 */
export async function scanTreeH1(dir: string, options: { signal?: AbortSignal; registry?: string } = {}): Promise<TreeScan & { h1: string }> {
  const scan = await scanTree(dir, { ...options, fileHashes: true });
  const where = options.registry ? ` in registry "${options.registry}"` : '';
  const link = scan.links[0];
  if (link !== undefined) {
    throw new RegistryError(
      'E_SIGNATURE',
      `"${link}"${where} is a symlink; a signed entry may hold only regular files and folders, because its h1 hash does not cover links. Replace the link with the file it points at, and sign again.`,
      { registry: options.registry, details: { path: link } },
    );
  }
  const executable = scan.executables[0];
  if (executable !== undefined) {
    throw new RegistryError(
      'E_SIGNATURE',
      `"${executable}"${where} has an executable bit; a signed entry may not, because its h1 hash does not cover file modes. Clear it (chmod -x) and sign again.`,
      { registry: options.registry, details: { path: executable } },
    );
  }
  return { ...scan, h1: h1OfFileHashes(scan.fileHashes ?? []) };
}

/** The `h1:` hash of a folder (see the file comment); `E_SIGNATURE` when it holds a symlink or an executable file. */
export async function hashDirectoryH1(dir: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  return (await scanTreeH1(dir, options)).h1;
}

/** An entry's content hash: a plain h1, or an h1 followed by `;modes:` and the hash of its modes (see `contentHashOf`). */
export const CONTENT_HASH = /^h1:[A-Za-z0-9+/]{43}=(?:;modes:[A-Za-z0-9+/]{43}=)?$/;

/**
 * The content hash core records for every fetched entry (`FetchedEntry.h1`, lockfiles). For a tree of regular files
 * without an executable bit it is exactly the h1 above, so Go's tools and coreutils give the same string. h1 alone
 * cannot see an executable bit or a symlink, and both change what a tree does, so a tree that holds either gets an
 * explicit suffix instead of passing unseen: `h1:<h1 of its regular files>;modes:<base64 sha256>` over the lines
 * `x <path>` (each regular file with any executable bit) and `l <path>\0<target>` (each symlink, its target as written,
 * after a NUL byte: no path holds one, while a space would make link `a b` -> `c` and link `a` -> `b c` one line),
 * sorted by their bytes, each ending in `\n`. Recomputed with coreutils in the entry's folder:
 *
 *   { find . -type f -perm /111 -printf 'x %P\n'; find . -type l -printf 'l %P\0%l\n'; } | LC_ALL=C sort | sha256sum
 *
 * (the hex digest, as base64). `scan` must come from `scanTree(dir, { fileHashes: true })`.
 */
export function contentHashOf(scan: TreeScan, registry?: string): string {
  // One line per file or link: a newline in a name or target would forge a line, so such a tree gets no hash at all.
  const named = [...(scan.fileHashes ?? []).map(([path]) => path), ...(scan.linkTargets ?? []).flat()];
  const bad = named.find((text) => text.includes('\n'));
  if (bad !== undefined) {
    throw new RegistryError(
      'E_UNSAFE_PATH',
      `A file name or link target${registry ? ` in registry "${registry}"` : ''} holds a newline (${JSON.stringify(bad)}); the entry's content hash cannot list it. Ask the registry owner to rename it.`,
      { registry, details: { path: bad } },
    );
  }
  const h1 = h1OfFileHashes(scan.fileHashes ?? []);
  const lines = [...scan.executables.map((path) => `x ${path}\n`), ...(scan.linkTargets ?? []).map(([path, target]) => `l ${path}\0${target}\n`)];
  if (lines.length === 0) return h1;
  const modes = createHash('sha256');
  for (const line of lines.sort(byUtf8)) modes.update(line);
  return `${h1};modes:${modes.digest('base64')}`;
}

/** Checks a folder (as `scanTree`) and computes its integrity and its content hash (`contentHashOf`) in one walk. */
export async function scanTreeContentHash(dir: string, options: { signal?: AbortSignal; registry?: string } = {}): Promise<TreeScan & { h1: string }> {
  const scan = await scanTree(dir, { ...options, fileHashes: true });
  return { ...scan, h1: contentHashOf(scan, options.registry) };
}
