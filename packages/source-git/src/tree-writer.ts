import { RegistryError, TreeWriter, throwIfAborted } from '@agentos-registry/core';

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
 * Git trees come from the server, so they are not trusted: every path goes through core's `TreeWriter`, which refuses
 * traversal, a path listed twice, anything below a symlink of the same tree, and symlinks that leave the entry once
 * followed; it writes files first and creates links last, never writing through one (`E_UNSAFE_PATH`).
 */
export async function writeTree(
  destination: string,
  files: readonly TreeFile[],
  read: BlobReader,
  context: { registry: string; signal: AbortSignal; path: string },
): Promise<void> {
  const unsafe = (path: string, why: string) =>
    new RegistryError(
      'E_UNSAFE_PATH',
      `Entry '${context.path}' of registry '${context.registry}': "${path}" ${why}. Ask the registry owner to fix the entry.`,
      {
        registry: context.registry,
        details: { path: context.path, file: path },
      },
    );
  const writer = new TreeWriter(destination, { registry: context.registry, unsafe });
  await writer.folder('');
  for (let start = 0; start < files.length; start += BATCH) {
    throwIfAborted(context.signal, `writing entry '${context.path}'`, context.registry);
    const batch = files.slice(start, start + BATCH);
    const contents = await read(batch.filter((file) => file.mode !== SUBMODULE_MODE).map((file) => file.oid));
    for (const file of batch) {
      if (file.mode === SUBMODULE_MODE) {
        await writer.folder(file.path);
        continue;
      }
      const bytes = contents.get(file.oid);
      if (bytes === undefined) {
        throw new RegistryError('E_INTERNAL', `Entry '${context.path}' of registry '${context.registry}': git did not return ${file.path} (${file.oid}).`, {
          registry: context.registry,
        });
      }
      if (file.mode === SYMLINK_MODE) writer.symlink(file.path, Buffer.from(bytes).toString('utf8'));
      else if (file.mode.startsWith('100')) await writer.file(file.path, bytes, { executable: file.mode === '100755' });
      else throw unsafe(file.path, `has git mode ${file.mode}, which is not a file`);
    }
  }
  await writer.finish();
}
