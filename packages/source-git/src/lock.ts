import { open, readFile, rm, stat } from 'node:fs/promises';
import { abortableSleep } from '@agentos-registry/core';

/** A lock older than this is taken over even if its process seems alive (pid reuse, a hung process). */
const STALE_AFTER_MS = 10 * 60_000;
const POLL_MS = 25;
const MAX_POLL_MS = 250;

const chains = new Map<string, Promise<unknown>>();

/**
 * Runs `work` while holding the lock file `file`: one writer per mirror across this process (a promise chain) and
 * across processes sharing the cache folder (an exclusive-create lock file holding the owner's pid). A lock left by
 * a process that died is taken over. Readers never take the lock: git's object store is safe to read while a fetch
 * adds packs, since packs and refs appear atomically.
 */
export async function withLock<T>(file: string, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const previous = chains.get(file) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await acquire(file, signal);
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

async function acquire(file: string, signal: AbortSignal): Promise<void> {
  let wait = POLL_MS;
  for (;;) {
    signal.throwIfAborted();
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
    await sleep(wait, signal);
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

/** Waits `ms`; aborting rejects with the signal's reason, as every step of the lock does. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal).catch(() => {
    throw signal.reason;
  });
}
