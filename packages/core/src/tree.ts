/**
 * Walking entry folders: one pass that checks safety (no symlink leaves the folder, no device files) and computes
 * the folder's integrity, plus a copier that never follows symlinks. Core runs these on every entry, whatever the
 * source, so a source cannot forget them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { RegistryError } from './errors.js';
import { isInside } from './paths.js';

export interface TreeScan {
  /** SRI string (`sha512-…`) over the sorted paths, file modes (executable bit), bytes and symlink targets. */
  integrity: string;
  files: number;
  bytes: number;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new RegistryError('E_ABORTED', 'The operation was aborted.', { cause: signal.reason });
  }
}

async function listSorted(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  // Byte order, not locale order: the hash must not depend on the machine's locale.
  return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Checks and hashes a folder. Throws `E_UNSAFE_PATH` for a symlink that is absolute or resolves outside `dir`, and for
 * sockets, FIFOs and devices. Two folders with the same files give the same integrity wherever they live.
 */
export async function scanTree(dir: string, options: { signal?: AbortSignal; registry?: string } = {}): Promise<TreeScan> {
  const root = resolve(dir);
  const hash = createHash('sha512');
  let files = 0;
  let bytes = 0;

  const unsafe = (rel: string, why: string) =>
    new RegistryError('E_UNSAFE_PATH', `"${rel}" ${why}; entries may only hold regular files, folders and symlinks that stay inside the entry. Ask the registry owner to fix the entry.`, {
      registry: options.registry,
      details: { path: rel },
    });

  async function walk(abs: string, rel: string): Promise<void> {
    for (const name of await listSorted(abs)) {
      throwIfAborted(options.signal);
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : posix.join(rel, name);
      const stat = await lstat(childAbs);
      if (stat.isSymbolicLink()) {
        const target = await readlink(childAbs);
        if (target.startsWith('/') || /^[a-zA-Z]:/.test(target) || !isInside(root, resolve(dirname(childAbs), target))) {
          throw unsafe(childRel, `is a symlink to "${target}", outside the entry`);
        }
        hash.update(`l ${childRel}\0${target}\n`);
      } else if (stat.isDirectory()) {
        hash.update(`d ${childRel}\n`);
        await walk(childAbs, childRel);
      } else if (stat.isFile()) {
        const exec = (stat.mode & 0o111) !== 0 ? 'x' : '-';
        hash.update(`f ${childRel}\0${exec}${stat.size}\n`);
        for await (const chunk of createReadStream(childAbs)) hash.update(chunk as Buffer);
        files += 1;
        bytes += stat.size;
      } else {
        throw unsafe(childRel, 'is not a regular file, folder or symlink');
      }
    }
  }

  throwIfAborted(options.signal);
  await walk(root, '');
  return { integrity: `sha512-${hash.digest('base64')}`, files, bytes };
}

/** The integrity (SRI sha512) of a folder, as core records it for every entry. */
export async function hashDirectory(dir: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  return (await scanTree(dir, options)).integrity;
}

/** Copies a folder tree. Symlinks are copied as symlinks and never followed, so a copy cannot pull in outside files. */
export async function copyDirectory(from: string, to: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    throwIfAborted(options.signal);
    const src = join(from, name);
    const dest = join(to, name);
    const stat = await lstat(src);
    if (stat.isSymbolicLink()) await symlink(await readlink(src), dest);
    else if (stat.isDirectory()) await copyDirectory(src, dest, options);
    else if (stat.isFile()) await copyFile(src, dest);
    // Anything else (sockets, devices) is left out; scanTree would refuse it anyway.
  }
}
