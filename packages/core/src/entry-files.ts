/**
 * Single files of a registry folder — `registry.json`, `manifest.json`, `persona.json`, `SOUL.md`, `package.json`,
 * the install record — read and written without ever following a link out of the folder, and without blocking.
 *
 * A registry decides what these names are. `SOUL.md` may be a link that leads to `/etc/passwd`; `registry.json` may
 * be a FIFO, and a plain `readFile` of a FIFO waits for a writer forever (not even `process.exit` ends a process
 * stuck in that `open`). So a file is found by its real path, which must be inside the folder; it is opened with
 * `O_NOFOLLOW` (a link swapped in at the last step is refused) and `O_NONBLOCK` (opening a FIFO returns at once), and
 * read only if the opened file is a regular one and the very file that was checked. Every read of a registry's files
 * in core and the sources goes through here, so the rule is written once.
 */
import { constants, realpathSync, statSync } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join, posix } from 'node:path';
import { RegistryError } from './errors.js';
import { isInside, normalizeRelativePath } from './paths.js';

/** How a file is named in messages, and the registry it belongs to. */
export interface InsideOptions {
  registry?: string;
  /** The file's name in messages (default: its path relative to the folder). */
  label?: string;
}

/**
 * The most bytes `readFileInside` reads by default (64 MiB). Its files — `registry.json`, `manifest.json`,
 * `persona.json`, `SOUL.md`, `package.json` — are small; a registry that makes one of them a 10 GiB (sparse) file must
 * not make the host hold it in memory.
 */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

// O_NOFOLLOW and O_NONBLOCK do not exist on Windows, which has neither FIFOs of this kind nor this race.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function isMissing(error: unknown): boolean {
  return errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR';
}

const LINK_ADVICE = 'Nothing is read through a link that leaves its folder; ask the registry owner to replace the link with the files themselves.';
const FILE_ADVICE = 'Only regular files are read from a registry; ask the registry owner to replace it with one.';

function unsafe(label: string, why: string, registry: string | undefined, advice = LINK_ADVICE): RegistryError {
  return new RegistryError('E_UNSAFE_PATH', `${label}${registry ? ` in registry "${registry}"` : ''} ${why}. ${advice}`, {
    registry,
    details: { path: label },
  });
}

/**
 * Opens `path` for reading if it is a regular file, else `undefined` (a folder, FIFO, socket, device, or a link at the
 * last step). It never blocks and never follows a final link. Errors such as `ENOENT` are thrown as they are.
 */
export async function openRegularFile(path: string): Promise<FileHandle | undefined> {
  // lstat first: opening a device can have effects of its own, so only what looks like a file is opened at all.
  const before = await lstat(path);
  if (!before.isFile()) return undefined;
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    // ELOOP (EMLINK on BSD): it became a link since; ENXIO: a socket.
    if (errno(error) === 'ELOOP' || errno(error) === 'EMLINK' || errno(error) === 'ENXIO') return undefined;
    throw error;
  }
  const after = await handle.stat();
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    await handle.close();
    return undefined;
  }
  return handle;
}

function checkInside(realRoot: string, real: string, label: string, registry: string | undefined): string {
  if (!isInside(realRoot, real)) throw unsafe(label, 'leads outside its folder through a symlink', registry);
  return real;
}

/**
 * The real path of `relative` inside `root` (links followed), or `undefined` when nothing is there. Throws
 * `E_UNSAFE_PATH` when it leads outside `root` (whose own real path is the reference, so `root` may be a link) or
 * round a loop of links.
 */
export async function realPathInside(root: string, relative: string, options: InsideOptions = {}): Promise<string | undefined> {
  return (await resolveInside(root, relative, options))?.real;
}

async function resolveInside(root: string, relative: string, options: InsideOptions): Promise<{ real: string; realRoot: string } | undefined> {
  const clean = normalizeRelativePath(relative, { registry: options.registry, field: 'file' });
  const label = options.label ?? (clean || '.');
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(clean === '' ? realRoot : join(realRoot, clean));
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (errno(error) === 'ELOOP') throw unsafe(label, 'goes round a loop of symlinks', options.registry);
    throw error;
  }
  return { real: checkInside(realRoot, real, label, options.registry), realRoot };
}

/**
 * Whether the file open as `handle` (opened by the name `path`) really is inside `realRoot`. The checks before the open
 * judged a name; a folder on its way may have been swapped for a link to elsewhere since (a local registry can change
 * while it is read), and `O_NOFOLLOW` guards the last step only. On Linux the kernel says which file was opened
 * (`/proc/self/fd`); elsewhere the name is resolved again and must still lead, inside, to the very file that is open.
 */
export async function isOpenedInside(handle: FileHandle, path: string, realRoot: string): Promise<boolean> {
  if (process.platform === 'linux') {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    // A file deleted since it was opened reads "<path> (deleted)", still inside when it was.
    if (opened?.startsWith('/')) return isInside(realRoot, opened.replace(/ \(deleted\)$/, ''));
  }
  try {
    const again = await realpath(path);
    const [now, held] = await Promise.all([stat(again), handle.stat()]);
    return isInside(realRoot, again) && now.ino === held.ino && now.dev === held.dev;
  } catch {
    return false;
  }
}

/**
 * The synchronous form of `realPathInside` for a file: its real path when it is a regular file inside `root`,
 * `undefined` when it is missing, `E_UNSAFE_PATH` when it leads outside or is not a regular file. For code that must
 * stay synchronous (choosing the module to import).
 */
export function regularFileInsideSync(root: string, relative: string, options: InsideOptions = {}): string | undefined {
  const clean = normalizeRelativePath(relative, { registry: options.registry, field: 'file' });
  const label = options.label ?? clean;
  const realRoot = realpathSync(root);
  let real: string;
  try {
    real = realpathSync(join(realRoot, clean));
  } catch (error) {
    if (isMissing(error)) return undefined;
    if (errno(error) === 'ELOOP') throw unsafe(label, 'goes round a loop of symlinks', options.registry);
    throw error;
  }
  checkInside(realRoot, real, label, options.registry);
  if (!statSync(real).isFile()) throw unsafe(label, 'is not a regular file', options.registry, FILE_ADVICE);
  return real;
}

/**
 * The bytes of the regular file `relative` inside `root`, or `undefined` when there is none. `E_UNSAFE_PATH` when it
 * leads outside `root` (also through a folder swapped for a link while it was being opened), is not a regular file (a
 * FIFO, socket, device or folder), or holds more than `maxBytes` (default `DEFAULT_MAX_FILE_BYTES`; never more than
 * that is read); other fs errors are thrown as they are.
 */
export async function readFileInside(root: string, relative: string, options: InsideOptions & { maxBytes?: number } = {}): Promise<Buffer | undefined> {
  const found = await resolveInside(root, relative, options);
  if (found === undefined) return undefined;
  const label = options.label ?? relative;
  let handle: FileHandle | undefined;
  try {
    handle = await openRegularFile(found.real);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (!handle) throw unsafe(label, 'is not a regular file (it is a folder, FIFO, socket or device)', options.registry, FILE_ADVICE);
  try {
    if (!(await isOpenedInside(handle, found.real, found.realRoot))) throw unsafe(label, 'leads outside its folder through a symlink', options.registry);
    return await readBounded(handle, options.maxBytes ?? DEFAULT_MAX_FILE_BYTES, () =>
      tooLarge(label, options.maxBytes ?? DEFAULT_MAX_FILE_BYTES, options.registry),
    );
  } finally {
    await handle.close();
  }
}

function tooLarge(label: string, limit: number, registry: string | undefined): RegistryError {
  return new RegistryError(
    'E_UNSAFE_PATH',
    `${label}${registry ? ` in registry "${registry}"` : ''} holds more than ${limit} bytes, the limit for a file of a registry folder; it was not read. Ask the registry owner to fix the file.`,
    { registry, details: { path: label, limit: 'maxBytes', value: limit } },
  );
}

/** At most `limit` bytes of `handle`, read as they come (a local file may grow while it is read); more is `tooLarge()`. */
async function readBounded(handle: FileHandle, limit: number, tooLarge: () => RegistryError): Promise<Buffer> {
  if ((await handle.stat()).size > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    // Never more than one byte past the limit: enough to know it was passed.
    const buffer = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > limit) throw tooLarge();
    chunks.push(buffer.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks, total);
}

/**
 * Writes `data` as the regular file `relative` inside `root`, replacing whatever has that name — a link is replaced,
 * never written through. The bytes go to a new file (`O_CREAT|O_EXCL|O_NOFOLLOW`) in the same folder, which is then
 * renamed over the name, so a reader never sees half a file either.
 */
export async function writeFileInside(
  root: string,
  relative: string,
  data: string | Uint8Array,
  options: InsideOptions & { mode?: number } = {},
): Promise<void> {
  const clean = normalizeRelativePath(relative, { registry: options.registry, field: 'file' });
  const name = basename(clean);
  const parentRel = posix.dirname(clean);
  const folder = await realPathInside(root, parentRel === '.' ? '' : parentRel, options);
  if (folder === undefined) throw Object.assign(new Error(`The folder of ${clean} does not exist in ${root}.`), { code: 'ENOENT' });
  const temp = join(folder, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, CREATE_FLAGS, options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    await rename(temp, join(folder, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
