/**
 * The peak memory a piece of work costs, for tests that must show a body or archive is never held whole. Two
 * measures, the larger wins: resident memory (the kernel's high-water mark `maxRSS`, which catches even a
 * synchronous spike between two samples, else sampled RSS), and live memory (V8 heap plus buffers, sampled), which
 * still shows growth when an earlier test left freed pages resident for the allocator to reuse. Run such tests in a
 * file of their own: the high-water mark is per process.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection before measuring, so that garbage an earlier test left (gigabytes, when it fails) is not counted
// as "before" and then freed during the work, hiding the work's own growth. `--expose-gc` set at run time makes
// `gc` available in a new context.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

export interface MemoryMeasure<T> {
  outcome: PromiseSettledResult<T>;
  /** Peak memory during the work minus the memory before it, in bytes (resident or live, whichever grew more). */
  growth: number;
}

/** Runs `work` and measures the peak resident memory it added; a rejection is returned in `outcome`, not thrown. */
export async function measurePeakRss<T>(work: () => Promise<T>): Promise<MemoryMeasure<T>> {
  const live = () => {
    const usage = process.memoryUsage();
    // `external` includes every Buffer's memory (`arrayBuffers`).
    return usage.heapUsed + usage.external;
  };
  // Twice, with a pause between: buffers freed by a collection leave the accounting only when a background sweep
  // has released them.
  collect();
  await new Promise((resolve) => setTimeout(resolve, 100));
  collect();
  const before = process.memoryUsage.rss();
  const liveBefore = live();
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let sampled = before;
  let livePeak = liveBefore;
  const sample = () => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
    livePeak = Math.max(livePeak, live());
  };
  const timer = setInterval(sample, 5);
  let outcome: PromiseSettledResult<T>;
  try {
    outcome = { status: 'fulfilled', value: await work() };
  } catch (reason) {
    outcome = { status: 'rejected', reason };
  } finally {
    clearInterval(timer);
  }
  sample();
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  const resident = (maxAfter > maxBefore ? maxAfter : sampled) - before;
  const growth = Math.max(0, resident, livePeak - liveBefore);
  if (process.env.REPORT_MEMORY)
    console.log(
      `peak memory growth ${(growth / 1024 ** 2).toFixed(1)} MiB (resident ${(resident / 1024 ** 2).toFixed(1)} MiB, live ${((livePeak - liveBefore) / 1024 ** 2).toFixed(1)} MiB)`,
    );
  return { outcome, growth };
}

/** Bytes in a mebibyte. */
export const MiB = 1024 ** 2;
