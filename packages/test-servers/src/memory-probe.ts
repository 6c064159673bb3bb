/**
 * The peak memory a piece of work costs, for tests that must show a body or archive is never held whole. The
 * kernel's high-water mark (`maxRSS`) catches even a synchronous spike between two samples; when the work never
 * raised it, the sampled RSS gives the peak instead. Run such tests in a file of their own: the high-water mark is
 * per process.
 */
export interface MemoryMeasure<T> {
  outcome: PromiseSettledResult<T>;
  /** Peak resident memory during the work minus the resident memory before it, in bytes. */
  growth: number;
}

/** Runs `work` and measures the peak resident memory it added; a rejection is returned in `outcome`, not thrown. */
export async function measurePeakRss<T>(work: () => Promise<T>): Promise<MemoryMeasure<T>> {
  globalThis.gc?.();
  const before = process.memoryUsage.rss();
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let sampled = before;
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 5);
  let outcome: PromiseSettledResult<T>;
  try {
    outcome = { status: 'fulfilled', value: await work() };
  } catch (reason) {
    outcome = { status: 'rejected', reason };
  } finally {
    clearInterval(timer);
  }
  sampled = Math.max(sampled, process.memoryUsage.rss());
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  const peak = maxAfter > maxBefore ? maxAfter : sampled;
  if (process.env.REPORT_MEMORY) console.log(`peak RSS growth ${(Math.max(0, peak - before) / 1024 ** 2).toFixed(1)} MiB`);
  return { outcome, growth: Math.max(0, peak - before) };
}

/** Bytes in a mebibyte. */
export const MiB = 1024 ** 2;
