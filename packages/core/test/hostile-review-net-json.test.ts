/**
 * Hostile review (network): a registry.json that is valid JSON and within the byte limits, but shaped to make
 * parsing cost far more than its size. `limits.index` (32 MiB, url and GitHub API answers) and the 64 MiB read limit
 * (file registries, registry.json inside a GitHub tarball) bound the bytes, not what parsing them costs.
 *
 * Measured (Node 20, 4 GiB heap): `{"x":[[[[…]]]]}` of 32 MiB (16.7 million levels) takes 16 s of blocked event loop
 * and 3.6 GB resident; 62 MB crashes the process with a V8 heap OOM. JSON.parse alone costs about a quarter of it;
 * the rest is `findProtoKey` (json-text.ts), whose queue keeps every value of the document with its path string
 * (`[0][0][0]…`) until the walk ends. A flat `[0,0,0,…]` of 32 MiB costs 12.6 s and 1.9 GB the same way.
 *
 * Not fixed here (json-text.ts is outside this review's scope). Fix: refuse nesting deeper than a small bound (say
 * 256) in a scan before JSON.parse, as locateSyntaxError already scans, with E_INDEX_INVALID naming line and column;
 * and let findProtoKey queue only objects and arrays, keeping a parent link instead of a path string, building the
 * path only for the key it reports.
 */
import { MiB, measurePeakRss } from '@agentos-registry/test-servers';
import { describe, expect, it } from 'vitest';
import { parseRegistryIndex } from '../src/index.js';

function timed(work: () => void): () => Promise<number> {
  return async () => {
    const started = performance.now();
    try {
      work();
    } catch {
      // A refusal (E_INDEX_INVALID) is the expected outcome; only its cost is measured.
    }
    return performance.now() - started;
  };
}

describe('a registry.json whose shape, not size, is the attack', () => {
  // Fails now: about 900 MB and 7 s for 8 MB of brackets. With a depth bound it is refused after one scan.
  it.fails('8 MB of nested arrays is refused or parsed within 256 MiB and 3 s', async () => {
    const depth = 4 * 1024 * 1024;
    const text = `{"extensions":{"curated":[]},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const { outcome, growth } = await measurePeakRss(timed(() => parseRegistryIndex(text, { registry: 'r' })));
    expect(outcome.status).toBe('fulfilled');
    expect((outcome as PromiseFulfilledResult<number>).value).toBeLessThan(3_000);
    expect(growth).toBeLessThan(256 * MiB);
  }, 60_000);

  // Fails now: about 1 GB and 6 s for 16 MB of zeros, all of it findProtoKey's queue of path strings.
  it.fails('16 MB of one flat array is parsed within 384 MiB and 4 s', async () => {
    const count = 8 * 1024 * 1024;
    const text = `{"extensions":{"curated":[]},"x":[${'0,'.repeat(count)}0]}`;
    const { outcome, growth } = await measurePeakRss(timed(() => parseRegistryIndex(text, { registry: 'r' })));
    expect(outcome.status).toBe('fulfilled');
    expect((outcome as PromiseFulfilledResult<number>).value).toBeLessThan(4_000);
    expect(growth).toBeLessThan(384 * MiB);
  }, 60_000);
});
