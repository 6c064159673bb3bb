import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RegistryError, safeJoin } from '@agentos-registry/core';
import { throwIfAborted } from './errors.js';

/** One non-directory entry of a git tree, with its path relative to the entry folder. */
export interface TreeFile {
  /** Git mode: `100644`, `100755`, `120000` (symlink) or `160000` (submodule). */
  mode: string;
  path: string;
  oid: string;
}

export const SYMLINK_MODE = '120000';
export const SUBMODULE_MODE = '160000';

/** Reads the contents of the blobs of `files` (symlink targets are blobs too); called in batches. */
export type BlobReader = (oids: string[]) => Promise<Map<string, Uint8Array>>;

/** How many blobs are read at once: bounds memory for large entries while keeping process spawns few. */
const BATCH = 256;

/**
 * Writes the files of one entry into `destination` (an empty folder core provides), with the permissions git
 * records: `100755` files executable, `120000` as symlinks, submodules as empty folders (git checks them out that
 * way too).
 *
 * Git trees come from the server, so they are not trusted: every path is joined with core's `safeJoin` (no `..`, no
 * absolute paths), a path may not be listed twice, and no file may be written through a symlink of the same tree —
 * symlinks are created last, after every file, and a path below one is refused. Whether a symlink's target stays
 * inside the entry is core's check afterwards (`E_UNSAFE_PATH`).
 */
export async function writeTree(destination: string, files: readonly TreeFile[], read: BlobReader, context: { registry: string; signal: AbortSignal; path: string }): Promise<void> {
  const unsafe = (why: string, path: string) =>
    new RegistryError('E_UNSAFE_PATH', `Entry '${context.path}' of registry '${context.registry}': ${why} (${path}).`, {
      registry: context.registry,
      details: { path: context.path, file: path },
    });
  const seen = new Set<string>();
  const links = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw unsafe('the git tree lists a path twice', file.path);
    seen.add(file.path);
    if (file.mode === SYMLINK_MODE) links.add(file.path);
  }
  for (const file of files) {
    const parts = file.path.split('/');
    for (let end = 1; end < parts.length; end++) {
      if (links.has(parts.slice(0, end).join('/'))) throw unsafe('a file is listed below a symlink', file.path);
    }
  }

  const ordered = [...files.filter((file) => file.mode !== SYMLINK_MODE), ...files.filter((file) => file.mode === SYMLINK_MODE)];
  for (let start = 0; start < ordered.length; start += BATCH) {
    throwIfAborted(context.signal, context.registry, `writing entry '${context.path}'`);
    const batch = ordered.slice(start, start + BATCH);
    const contents = await read(batch.filter((file) => file.mode !== SUBMODULE_MODE).map((file) => file.oid));
    for (const file of batch) {
      const target = safeJoin(destination, file.path, { registry: context.registry, field: `file of ${context.path}` });
      if (file.mode === SUBMODULE_MODE) {
        await mkdir(target, { recursive: true });
        continue;
      }
      const bytes = contents.get(file.oid);
      if (bytes === undefined) {
        throw new RegistryError('E_INTERNAL', `Entry '${context.path}' of registry '${context.registry}': git did not return ${file.path} (${file.oid}).`, {
          registry: context.registry,
        });
      }
      await mkdir(dirname(target), { recursive: true });
      if (file.mode === SYMLINK_MODE) {
        await symlink(Buffer.from(bytes).toString('utf8'), target);
      } else if (file.mode.startsWith('100')) {
        const mode = file.mode === '100755' ? 0o755 : 0o644;
        // `wx`: never through something that is already there (a symlink planted by an earlier path).
        await writeFile(target, bytes, { flag: 'wx', mode });
        await chmod(target, mode);
      } else {
        throw unsafe(`git mode ${file.mode} is not a file`, file.path);
      }
    }
  }
}
