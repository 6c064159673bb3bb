/**
 * Packing a folder into a tarball whose bytes depend only on the files: their paths, contents, executable bits and
 * symlink targets. Not on when they were written, who owns them, the umask, the order `readdir` returns, or the
 * machine. Two people packing the same entry get the same bytes and therefore the same hash, which is what makes
 * a published archive checkable. Used by `agentos-registry pack`.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tarModule } from './lazy-modules.js';
import { symlinkTargetProblem } from './archive.js';
import { RegistryError } from './errors.js';
import { throwIfAborted } from './source-errors.js';
import { normalizeRelativePath } from './paths.js';

/** The mtime written for every entry: npm's fixed date, so our archives look familiar to npm tooling. */
export const DETERMINISTIC_MTIME = new Date('1985-10-26T08:15:00.000Z');

/** Options of `createDeterministicTarball`. */
export interface DeterministicTarballOptions {
  /** A folder every path is put under, e.g. `package` (as npm does); default none. */
  prefix?: string;
  /** The mtime of every entry; default `DETERMINISTIC_MTIME`. */
  mtime?: Date;
  /** Aborting stops the walk with `E_ABORTED`. */
  signal?: AbortSignal;
  /** Registry name, for messages. */
  registry?: string;
}

interface PackEntry {
  /** Path relative to the packed folder, `/`-separated. */
  rel: string;
  kind: 'dir' | 'file' | 'symlink';
  executable: boolean;
  target?: string;
}

const BLOCK = 512;

function byteOrder(a: string, b: string): number {
  // Byte order, not locale order: the same on every machine. A parent sorts before its children since a prefix
  // sorts first, which tar needs.
  return a < b ? -1 : a > b ? 1 : 0;
}

async function collect(root: string, options: DeterministicTarballOptions): Promise<PackEntry[]> {
  const entries: PackEntry[] = [];
  const unsafe = (rel: string, why: string) =>
    new RegistryError('E_UNSAFE_PATH', `"${rel}" ${why}; it cannot be packed, because the archive would be refused when extracted. Remove or replace it.`, {
      registry: options.registry,
      details: { path: rel },
    });
  async function walk(dir: string, relDir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      throwIfAborted(options.signal, 'Packing a folder', options.registry);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const abs = join(dir, name);
      const stat = await lstat(abs);
      if (stat.isDirectory()) {
        entries.push({ rel, kind: 'dir', executable: true });
        await walk(abs, rel);
      } else if (stat.isFile()) {
        entries.push({ rel, kind: 'file', executable: (stat.mode & 0o111) !== 0 });
      } else if (stat.isSymbolicLink()) {
        const target = await readlink(abs);
        const problem = symlinkTargetProblem(rel, target);
        if (problem) throw unsafe(rel, problem);
        entries.push({ rel, kind: 'symlink', executable: false, target });
      } else {
        throw unsafe(rel, 'is not a regular file, folder or symlink');
      }
    }
  }
  await walk(root, '');
  return entries.sort((a, b) => byteOrder(a.rel, b.rel));
}

/** The header block(s) of one entry: a pax header first when a path or target does not fit the ustar fields. */
function headerBlocks(path: string, type: 'Directory' | 'File' | 'SymbolicLink', mode: number, size: number, mtime: Date, linkpath?: string): Buffer[] {
  const block = Buffer.alloc(BLOCK);
  // uid/gid 0 and empty owner names: who packed it is not part of what was packed.
  const { Header, Pax } = tarModule();
  const header = new Header({ path, mode, uid: 0, gid: 0, size, mtime, type, uname: '', gname: '', ...(linkpath === undefined ? {} : { linkpath }) });
  const needsPax = header.encode(block);
  if (!needsPax) return [block];
  // Only the fields that did not fit; a pax header with times or ids would bring back what we removed.
  const pax = new Pax({ path, ...(linkpath === undefined ? {} : { linkpath }) }).encode();
  return [pax, block];
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/**
 * Packs `dir` into a gzip-compressed tarball, deterministically: entries in byte order of their paths, every mtime
 * `options.mtime` (npm's 1985-10-26T08:15:00Z by default), uid/gid 0 and no owner names, modes 0644 for files and
 * 0755 for executables and folders, and a gzip header without file name or time. Symlinks are kept as links and must
 * stay inside the folder; sockets, FIFOs and devices are refused (`E_UNSAFE_PATH`). Bytes are stable for a given
 * zlib; a Node release that changes its zlib could change the compressed bytes, never the tar inside.
 */
export async function createDeterministicTarball(dir: string, options: DeterministicTarballOptions = {}): Promise<Buffer> {
  const root = resolve(dir);
  const mtime = options.mtime ?? DETERMINISTIC_MTIME;
  const prefix = options.prefix ? normalizeRelativePath(options.prefix, { registry: options.registry, field: 'prefix' }) : '';
  const inArchive = (rel: string) => (prefix === '' ? rel : rel === '' ? prefix : `${prefix}/${rel}`);
  const chunks: Buffer[] = [];

  // A root entry (`./` or `prefix/`) first: it makes an empty folder a valid, non-empty archive, and extractors
  // (ours included, with `strip` for a prefix) skip it.
  chunks.push(...headerBlocks(prefix === '' ? './' : `${prefix}/`, 'Directory', 0o755, 0, mtime));
  for (const entry of await collect(root, options)) {
    const path = inArchive(entry.rel);
    if (entry.kind === 'dir') {
      chunks.push(...headerBlocks(`${path}/`, 'Directory', 0o755, 0, mtime));
    } else if (entry.kind === 'symlink') {
      // 0777 is what a symlink's mode always is on Linux; extractors ignore it.
      chunks.push(...headerBlocks(path, 'SymbolicLink', 0o777, 0, mtime, entry.target));
    } else {
      const data = await readFile(join(root, ...entry.rel.split('/')));
      chunks.push(...headerBlocks(path, 'File', entry.executable ? 0o755 : 0o644, data.length, mtime), data, padding(data.length));
    }
  }
  // The end of a tar archive: two zero blocks.
  chunks.push(Buffer.alloc(BLOCK * 2));
  const gz = gzipSync(Buffer.concat(chunks), { level: 9 });
  // zlib writes no name and a zero mtime already; the OS byte, though, is 3 on Unix builds of zlib and other values
  // elsewhere. Fix it to 3 so Windows and Linux produce the same bytes. The byte is not covered by any checksum.
  gz[9] = 3;
  return gz;
}
