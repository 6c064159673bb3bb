import { access, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isRegistryError, readFileInside, RegistryError, realPathInside, safeJoin } from '@agentos-registry/core';

/** Name of the index file at the root of every registry folder. */
export const INDEX_FILE = 'registry.json';

/** Node's error code of a failed fs call, if any. */
function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True for the codes Node uses when a path (or one of its parents) does not exist. */
export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Wraps an unexpected fs failure (permissions, I/O errors, a vanished network mount). `E_UNREACHABLE` lets core fall
 * back to a cached copy the way it does when a remote server is down, which is what an unmounted share amounts to.
 */
export function unreadable(error: unknown, path: string, registry: string): RegistryError {
  if (isRegistryError(error)) return error;
  const code = errnoCode(error) ?? 'unknown error';
  const hint = code === 'EACCES' || code === 'EPERM' ? 'Give the process read access to it.' : 'Check that the disk or network share holding it is available.';
  return new RegistryError('E_UNREACHABLE', `Cannot read ${path} of registry '${registry}' (${code}). ${hint}`, {
    registry,
    cause: error,
    details: { path },
  });
}

/**
 * Checks that `root` is an existing folder, with a message naming the path when it is not. Run before reading
 * `registry.json` so that a wrong `location` is reported as such rather than as a missing index.
 */
export async function assertRegistryFolder(root: string, registry: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    if (!isMissing(error)) throw unreadable(error, root, registry);
    throw new RegistryError(
      'E_NOT_FOUND',
      `The folder of registry '${registry}' does not exist: ${root}. Check its \`location\` (relative paths are relative to the config file's folder) and that the disk holding it is mounted.`,
      { registry, cause: error, details: { path: root } },
    );
  }
  if (!isDirectory) {
    throw new RegistryError(
      'E_CONFIG',
      `The \`location\` of registry '${registry}' is not a folder: ${root}. Point it at the folder that holds registry.json.`,
      { registry, details: { path: root } },
    );
  }
}

/**
 * Reads the bytes of `<root>/registry.json`, only as a regular file inside the folder (core's `readFileInside`): a
 * FIFO, device or link out of the folder is `E_UNSAFE_PATH` at once, never waited on or followed. A missing file gets
 * a message that says what a registry folder must look like and, when `location` points at the `registry/`
 * sub-folder by mistake, which folder was probably meant.
 */
export async function readIndexBytes(root: string, registry: string): Promise<Uint8Array> {
  await assertRegistryFolder(root, registry);
  const file = join(root, INDEX_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFileInside(root, INDEX_FILE, { registry, label: file });
  } catch (error) {
    throw unreadable(error, file, registry);
  }
  if (bytes === undefined) {
    const parent = dirname(root);
    const parentHasIndex =
      basename(root) === 'registry' &&
      (await access(join(parent, INDEX_FILE)).then(
        () => true,
        () => false,
      ));
    const hint = parentHasIndex
      ? ` ${parent} has one: set \`location\` to that folder (the repository root, not its registry/ sub-folder).`
      : ` Check that \`location\` points at the root of the registry (the folder holding registry.json and registry/).`;
    throw new RegistryError('E_NOT_FOUND', `The folder of registry '${registry}' has no ${INDEX_FILE}: ${root}.${hint}`, {
      registry,
      details: { path: file },
    });
  }
  return bytes;
}

/**
 * The real absolute folder of an entry, checked to exist and to stay inside the registry folder.
 *
 * `safeJoin` only sees the text of the path. On a local disk a folder on the way (`registry/curated`, or the entry
 * folder itself) can be a symlink to anywhere, and both `locate` (serving in place) and `materialize` (copying) would
 * follow it. So the real path is compared too, by core's `realPathInside` (the root itself may be a symlink,
 * `/opt/agentos/extensions` → a data volume: the comparison is against the root's real path).
 */
export async function resolveEntryFolder(root: string, path: string, registry: string): Promise<string> {
  const joined = safeJoin(root, path, { registry, field: 'path' });
  let realEntry: string | undefined;
  try {
    realEntry = await realPathInside(root, path, { registry, label: `Entry folder '${path}'` });
  } catch (error) {
    throw unreadable(error, joined, registry);
  }
  if (realEntry === undefined) {
    throw new RegistryError(
      'E_NOT_FOUND',
      `Entry folder '${path}' of registry '${registry}' does not exist (${joined}). registry.json lists it: add the folder or fix the entry's \`path\`.`,
      { registry, details: { path } },
    );
  }
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(realEntry)).isDirectory();
  } catch (error) {
    throw unreadable(error, joined, registry);
  }
  if (!isDirectory) {
    throw new RegistryError(
      'E_NOT_FOUND',
      `Entry '${path}' of registry '${registry}' is a file, not a folder (${joined}). An entry's \`path\` must name its folder.`,
      { registry, details: { path } },
    );
  }
  return realEntry;
}
