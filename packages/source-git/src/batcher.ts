/** Runs one piece of work for a set of items; the signal fires only once every caller waiting on it has aborted. */
export type BatchWork<T> = (items: T[], signal: AbortSignal) => Promise<void>;

interface Waiter<T> {
  items: T[];
  signal: AbortSignal;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Coalesces concurrent requests into one run of `work`: while a run is in progress, new requests queue up, and the
 * next run takes all of them at once. Ten entries materialized together cost one `git fetch` of their blobs, not
 * ten in a row.
 *
 * Each caller keeps its own cancellation: a caller whose signal fires is rejected at once (with the signal's
 * reason), and the shared run is aborted only when no caller still waits for it.
 */
export class Batcher<T> {
  private queue: Waiter<T>[] = [];
  private running = false;

  constructor(private readonly work: BatchWork<T>) {}

  run(items: T[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, signal, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const waiters = this.queue.splice(0).filter((waiter) => {
          if (!waiter.signal.aborted) return true;
          waiter.reject(waiter.signal.reason);
          return false;
        });
        if (waiters.length === 0) continue;
        const controller = new AbortController();
        let left = waiters.length;
        const settled = new Set<Waiter<T>>();
        const detach: Array<() => void> = [];
        for (const waiter of waiters) {
          const onAbort = () => {
            if (settled.has(waiter)) return;
            settled.add(waiter);
            waiter.reject(waiter.signal.reason);
            left -= 1;
            if (left === 0) controller.abort(waiter.signal.reason);
          };
          waiter.signal.addEventListener('abort', onAbort, { once: true });
          detach.push(() => waiter.signal.removeEventListener('abort', onAbort));
        }
        const items = [...new Set(waiters.flatMap((waiter) => waiter.items))];
        let failure: { error: unknown } | undefined;
        try {
          await this.work(items, controller.signal);
        } catch (error) {
          failure = { error };
        }
        for (const remove of detach) remove();
        for (const waiter of waiters) {
          if (settled.has(waiter)) continue;
          if (failure) waiter.reject(failure.error);
          else waiter.resolve();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
