/**
 * Building blocks of hostile registry folders: real FIFOs, links that climb out through other links, and a guard that
 * turns "this read waits on a FIFO forever" into a failed assertion instead of a hung test run.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';

/** Makes a real FIFO at `path` (`mkfifo`). */
export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/**
 * A relative symlink target that reaches the absolute `file` from anywhere less than 40 folders deep, provided
 * `<dir of the link>/d/l` is a link to `..`: every `d/l` leads back to the link's folder, so the 40 `..` climb to `/`
 * and the rest descends to `file`. Read as text it stays inside (40 names, then 40 `..`, then names).
 */
export function climbingTarget(file: string): string {
  return `${'d/l/'.repeat(20)}${'../'.repeat(40)}${file.replace(/^\/+/, '')}`;
}

/** How a promise ended within `ms`, or `hung` (then a writer is opened on `fifo` so the stuck `open()` returns). */
export async function settleOrRelease<T>(promise: Promise<T>, fifo: string, ms = 3000): Promise<{ hung: true } | { hung: false; value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ hung: false as const, value }),
      (error: unknown) => ({ hung: false as const, error }),
    ),
    new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), ms);
    }),
  ]);
  clearTimeout(timer);
  if (outcome !== 'hung') return outcome;
  await releaseReaders(promise, fifo);
  return { hung: true };
}

/**
 * Opens and closes a writer on `fifo` until `promise` settles: a reader blocked opening a FIFO returns once a writer
 * opens it and reads EOF when it closes. Repeated, since the code under test may open the FIFO again.
 */
async function releaseReaders(promise: Promise<unknown>, fifo: string): Promise<void> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting right now.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
