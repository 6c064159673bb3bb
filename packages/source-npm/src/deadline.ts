/**
 * A total deadline around one piece of npm work. The work gets a signal that fires when the caller's (core's) signal
 * does or when the time is up, and pacote, npm-registry-fetch and minipass-fetch stop on it; the caller is answered
 * at the deadline even if some step of that stack does not listen, so no trickle, retry loop or silent socket can
 * outlast it.
 */
import { setMaxListeners } from 'node:events';
import { untilAborted } from '@agentos-registry/core';

/** What one deadline needs. */
export interface DeadlineOptions {
  /** How long the work may take, in ms. */
  ms: number;
  /** The caller's signal; its abort wins over the deadline. */
  signal: AbortSignal | undefined;
  /** The error for "the time was up" (`E_UNREACHABLE` naming the option that sets `ms`). */
  timedOut: () => Error;
  /** The error for "the caller aborted". */
  aborted: () => Error;
  /**
   * After the signal fired, how long to wait for the work to wind down before answering (ms, default 0). For work
   * that writes to a folder (an install rolling back), so the caller never removes or reuses it under the work's feet.
   */
  settleMs?: number;
}

/** Runs `work` with a signal that fires at the deadline or on the caller's abort, whichever comes first. */
export async function withinDeadline<T>(options: DeadlineOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // One install or fetch fans out into many concurrent requests, each listening on this signal (ours, not the
  // caller's) until it ends: that is not a leak, so Node's 10-listener warning is switched off for it alone.
  setMaxListeners(0, controller.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error('deadline reached'));
  }, options.ms);
  // The deadline bounds the work; it must not be what keeps a process alive after everything else is done.
  timer.unref();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const failure = () => (timedOut ? options.timedOut() : options.aborted());
  let running: Promise<T> | undefined;
  try {
    running = controller.signal.aborted ? undefined : work(controller.signal);
    if (!running) throw failure();
    return await untilAborted(running, controller.signal, failure);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    if (running && options.settleMs) await settled(running, options.settleMs);
    throw failure();
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/** Waits until `promise` settles or `ms` pass, whichever is first; never rejects. */
async function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
