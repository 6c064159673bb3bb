/**
 * A source's work folder (`ctx.workDir`, always given): the one place a source keeps data of its own — a bare git
 * mirror, npm's cache — and the helpers it changes that folder with. Sources write nothing with `fs` themselves
 * (`scripts/check-source-writes.mjs` fails their lint if they do); whatever they write goes through core: entry trees
 * through the `TreeWriter`, one file through `writeFileInside`, the rest through these. Every path is relative to
 * the folder given and checked, by real path, to stay inside it.
 */
import { mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { realPathInside } from './entry-files.js';
import { RegistryError } from './errors.js';
import { abortableSleep } from './http/retry.js';
import { normalizeRelativePath } from './paths.js';
import { abortError } from './source-errors.js';
import { TreeWriter } from './tree-writer.js';

/** Options of the work-folder helpers. */
export interface WorkDirOptions {
  /** Registry name, for messages. */
  registry?: string;
  /** Stops waiting for a lock (`E_ABORTED`). */
  signal?: AbortSignal;
}

/** `relative` checked to name something below `root` (not `root` itself); its folder's real path and its name. */
async function placeInside(root: string, relative: string, options: WorkDirOptions): Promise<{ folder: string | undefined; name: string }> {
  const clean = normalizeRelativePath(relative, { registry: options.registry, field: 'work path' });
  if (clean === '')
    throw new RegistryError('E_INTERNAL', `A work-folder path must name something inside the folder, not the folder itself (${root}).`, {
      registry: options.registry,
    });
  const parent = posix.dirname(clean);
  return { folder: await realPathInside(root, parent === '.' ? '' : parent, options), name: basename(clean) };
}

/** Removes `relative` (a file, a link — never what it leads to — or a folder and everything in it) inside `root`. */
export async function removeInside(root: string, relative: string, options: WorkDirOptions = {}): Promise<void> {
  const { folder, name } = await placeInside(root, relative, options);
  if (folder !== undefined) await rm(join(folder, name), { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Replaces the folder `relative` inside `root` by one that `fill` writes through a `TreeWriter`: built beside it under
 * a temporary name and renamed into place once complete, so a half-made folder is never seen under its name. The
 * caller serializes writers (see {@link withWorkLock}).
 */
export async function replaceFolderInside(
  root: string,
  relative: string,
  fill: (writer: TreeWriter) => Promise<void>,
  options: WorkDirOptions = {},
): Promise<void> {
  const { folder, name } = await placeInside(root, relative, options);
  if (folder === undefined) throw Object.assign(new Error(`The folder of ${relative} does not exist in ${root}.`), { code: 'ENOENT' });
  const temp = join(folder, `.${name}.${process.pid}-${Date.now().toString(36)}.tmp`);
  try {
    const writer = new TreeWriter(temp, options.registry ? { registry: options.registry } : {});
    await writer.folder('');
    await fill(writer);
    await writer.finish();
    await rm(join(folder, name), { recursive: true, force: true, maxRetries: 3 });
    await rename(temp, join(folder, name));
  } catch (error) {
    await rm(temp, { recursive: true, force: true, maxRetries: 3 });
    throw error;
  }
}

/**
 * Runs `work` in a new private temporary folder, removed afterwards whatever `work` does. For work that has no
 * registry, hence no work folder (a package fetched with the cache off).
 */
export async function withTempFolder<T>(label: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `agentos-${label.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A lock older than this is taken over even if its process seems alive (pid reuse, a hung process). */
const STALE_AFTER_MS = 10 * 60_000;
const POLL_MS = 25;
const MAX_POLL_MS = 250;

const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding the lock file `name` in the work folder `dir`: one holder at a time within this process
 * (a promise chain) and across processes sharing the folder (an exclusive-create file holding the owner's pid). A lock
 * left by a process that died is taken over. Waiting ends with `E_ABORTED` when `options.signal` fires; `work` itself
 * is not interrupted.
 */
export async function withWorkLock<T>(dir: string, name: string, work: () => Promise<T>, options: WorkDirOptions = {}): Promise<T> {
  const clean = normalizeRelativePath(name, { registry: options.registry, field: 'lock name' });
  if (clean === '' || clean.includes('/'))
    throw new RegistryError('E_INTERNAL', `A work-folder lock is named by one file name, not "${name}".`, { registry: options.registry });
  const file = join(dir, clean);
  const previous = chains.get(file) ?? Promise.resolve();
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      await acquire(file, clean, options);
      try {
        return await work();
      } finally {
        await rm(file, { force: true });
      }
    });
  const tail = run.catch(() => undefined);
  chains.set(file, tail);
  void tail.then(() => {
    if (chains.get(file) === tail) chains.delete(file);
  });
  return run;
}

async function acquire(file: string, name: string, { signal, registry }: WorkDirOptions): Promise<void> {
  const aborted = () => abortError(signal, `Waiting for the lock ${name} of the work folder`, registry);
  let wait = POLL_MS;
  for (;;) {
    if (signal?.aborted) throw aborted();
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(file)) {
      await rm(file, { force: true });
      continue;
    }
    await abortableSleep(wait, signal).catch(() => {
      throw aborted();
    });
    wait = Math.min(wait * 2, MAX_POLL_MS);
  }
}

async function isStale(file: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    if (Date.now() - info.mtimeMs > STALE_AFTER_MS) return true;
    const pid = Number.parseInt(text, 10);
    // Still being written by its owner: not stale.
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 5_000;
    // Within this process the promise chain already serializes holders, so a file naming us is a leftover.
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      // EPERM: alive, owned by another user.
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    // Vanished between our attempt and now: try again at once.
    return false;
  }
}
