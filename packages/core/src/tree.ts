/**
 * Walking entry folders: one pass that checks safety (every symlink, followed component by component, stays inside
 * the folder; no FIFOs, sockets or devices) and computes the folder's integrity, plus a copier that writes through
 * core's tree writer. Core runs these on every entry, whatever the source, so a source cannot forget them.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { isOpenedInside, openRegularFile } from './entry-files.js';
import { RegistryError } from './errors.js';
import { throwIfAborted } from './source-errors.js';
import { linkProblem, type TreeNode } from './link-target.js';
import { TreeWriter } from './tree-writer.js';

export interface TreeScan {
  /** SRI string (`sha512-…`) over the sorted paths, file modes (executable bit), bytes and symlink targets. */
  integrity: string;
  files: number;
  bytes: number;
  /** Only with `options.fileHashes`: every regular file's path (slash-separated) and the hex sha256 of its bytes, in walk order. */
  fileHashes?: Array<[path: string, sha256: string]>;
  /** Paths of the symlinks in the tree. */
  links: string[];
  /** Only with `options.fileHashes`: every symlink's path and its target as written, in walk order. */
  linkTargets?: Array<[path: string, target: string]>;
  /** Paths of the regular files with an executable bit set. */
  executables: string[];
}

async function listSorted(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  // Byte order, not locale order: the hash must not depend on the machine's locale.
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Checks and hashes a folder. Throws `E_UNSAFE_PATH` for a symlink that is absolute, that leaves `dir` at any step when
 * every link on its way is followed (`d/l` → `..` makes `d/l/d/l/../../x` climb out, whatever its text says), or that
 * is part of a loop, and for sockets, FIFOs and devices. Files are opened without following links or blocking. Two
 * folders with the same files give the same integrity wherever they live.
 */
export async function scanTree(dir: string, options: { signal?: AbortSignal; registry?: string; fileHashes?: boolean } = {}): Promise<TreeScan> {
  const root = resolve(dir);
  const hash = createHash('sha512');
  let files = 0;
  let bytes = 0;
  const fileHashes: Array<[string, string]> = [];
  const links: string[] = [];
  const linkTargets: Array<[string, string]> = [];
  const executables: string[] = [];

  const unsafe = (rel: string, why: string) =>
    new RegistryError(
      'E_UNSAFE_PATH',
      `"${rel}" ${why}; entries may only hold regular files, folders and symlinks that stay inside the entry. Ask the registry owner to fix the entry.`,
      {
        registry: options.registry,
        details: { path: rel },
      },
    );

  // What each path is, asked once per scan however many links pass through it.
  const nodes = new Map<string, Promise<TreeNode>>();
  const lookup = (path: string): Promise<TreeNode> => {
    let node = nodes.get(path);
    if (!node) {
      node = describe(join(root, ...path.split('/')));
      nodes.set(path, node);
    }
    return node;
  };

  let realRoot: string;

  async function walk(abs: string, rel: string): Promise<void> {
    for (const name of await listSorted(abs)) {
      throwIfAborted(options.signal, 'Reading a folder', options.registry);
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : posix.join(rel, name);
      const stat = await lstat(childAbs);
      if (stat.isSymbolicLink()) {
        const target = await readlink(childAbs);
        const problem = await linkProblem(childRel, target, lookup);
        if (problem) throw unsafe(childRel, problem);
        hash.update(`l ${childRel}\0${target}\n`);
        links.push(childRel);
        if (options.fileHashes) linkTargets.push([childRel, target]);
      } else if (stat.isDirectory()) {
        hash.update(`d ${childRel}\n`);
        await walk(childAbs, childRel);
      } else if (stat.isFile()) {
        // Opened, not just streamed by name: what is read must be the regular file just checked, not a FIFO put in
        // its place since (a local registry folder can change while it is scanned).
        const handle = await openRegularFile(childAbs);
        if (!handle) throw unsafe(childRel, 'is not a regular file, folder or symlink');
        try {
          // A folder on the way may have become a link to elsewhere since it was listed.
          if (!(await isOpenedInside(handle, childAbs, realRoot)))
            throw unsafe(childRel, 'leads outside the folder (a folder on its way was replaced by a symlink)');
          const exec = (stat.mode & 0o111) !== 0 ? 'x' : '-';
          if (exec === 'x') executables.push(childRel);
          hash.update(`f ${childRel}\0${exec}${stat.size}\n`);
          const fileHash = options.fileHashes ? createHash('sha256') : undefined;
          let size = 0;
          for await (const chunk of handle.createReadStream({ autoClose: false })) {
            hash.update(chunk as Buffer);
            fileHash?.update(chunk as Buffer);
            size += (chunk as Buffer).length;
          }
          if (fileHash) fileHashes.push([childRel, fileHash.digest('hex')]);
          files += 1;
          bytes += size;
        } finally {
          await handle.close();
        }
      } else {
        throw unsafe(childRel, 'is not a regular file, folder or symlink');
      }
    }
  }

  throwIfAborted(options.signal, 'Reading a folder', options.registry);
  realRoot = await realpath(root);
  await walk(root, '');
  return { integrity: `sha512-${hash.digest('base64')}`, files, bytes, links, executables, ...(options.fileHashes ? { fileHashes, linkTargets } : {}) };
}

/** The integrity (SRI sha512) of a folder, as core records it for every entry. */
export async function hashDirectory(dir: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  return (await scanTree(dir, options)).integrity;
}

/** What a path is on disk, without following a link at its last step. */
async function describe(abs: string): Promise<TreeNode> {
  try {
    const stat = await lstat(abs);
    if (stat.isSymbolicLink()) return { type: 'link', target: await readlink(abs) };
    return stat.isDirectory() ? { type: 'folder' } : { type: 'file' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { type: 'missing' };
    throw error;
  }
}

/**
 * Copies a folder tree through core's tree writer: files first, never through or over a link, symlinks last and only
 * those that stay inside (`E_UNSAFE_PATH` otherwise), so a copy cannot pull in outside files or point outside. Only
 * the executable bit of a file's mode is kept. Sockets, FIFOs and devices are left out (`scanTree` refuses them).
 */
export async function copyDirectory(from: string, to: string, options: { signal?: AbortSignal; registry?: string } = {}): Promise<void> {
  const writer = new TreeWriter(to, { registry: options.registry });
  await writer.folder('');
  const root = resolve(from);
  await copyInto(writer, { root, realRoot: await realpath(root), registry: options.registry }, '', options.signal);
  await writer.finish();
}

interface CopySource {
  root: string;
  /** The real path of `root` when the copy started: every file copied must be inside it. */
  realRoot: string;
  registry: string | undefined;
}

async function copyInto(writer: TreeWriter, source: CopySource, rel: string, signal: AbortSignal | undefined): Promise<void> {
  const { root } = source;
  for (const name of await readdir(rel === '' ? root : join(root, rel))) {
    throwIfAborted(signal, 'Copying a folder', source.registry);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, childRel);
    const stat = await lstat(abs);
    if (stat.isSymbolicLink()) writer.symlink(childRel, await readlink(abs));
    else if (stat.isDirectory()) {
      await writer.folder(childRel);
      await copyInto(writer, source, childRel, signal);
    } else if (stat.isFile()) {
      const handle = await openRegularFile(abs);
      if (!handle) continue; // replaced by something else since it was listed: not a file to copy
      try {
        // A folder on the way may have been swapped for a link to elsewhere since it was listed: nothing is copied
        // from outside the folder.
        if (!(await isOpenedInside(handle, abs, source.realRoot))) {
          throw new RegistryError(
            'E_UNSAFE_PATH',
            `"${childRel}"${source.registry ? ` in registry "${source.registry}"` : ''} leads outside the folder being copied (a folder on its way was replaced by a symlink while it was copied). Nothing is read through a link that leaves its folder.`,
            {
              registry: source.registry,
              details: { path: childRel },
            },
          );
        }
        await writer.file(childRel, handle.createReadStream({ autoClose: false }), { executable: (stat.mode & 0o111) !== 0 });
      } finally {
        await handle.close();
      }
    }
  }
}
