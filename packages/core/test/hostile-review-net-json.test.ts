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
 * Fixed in json-text.ts: nesting deeper than MAX_JSON_DEPTH (256) is refused by a scan before JSON.parse, and
 * findProtoKey runs only when the text could hold such a key, queueing containers with parent links instead of every
 * value with its path string. These tests bound the memory it costs (no timing: CI machines are loaded).
 */
import { MiB, measurePeakRss } from '@agentos-registry/test-servers';
import { describe, expect, it } from 'vitest';
import { parseRegistryIndex } from '../src/index.js';

function attempt(work: () => unknown): () => Promise<unknown> {
  return async () => work();
}

describe('a registry.json whose shape, not size, is the attack', () => {
  // Was about 900 MB and 7 s for 8 MB of brackets; with the depth bound it is refused after one scan.
  it('8 MB of nested arrays is refused as E_INDEX_INVALID naming the depth, within 256 MiB', async () => {
    const depth = 4 * 1024 * 1024;
    const text = `{"extensions":{"curated":[]},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const { outcome, growth } = await measurePeakRss(attempt(() => parseRegistryIndex(text, { registry: 'r' })));
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toMatchObject({
      code: 'E_INDEX_INVALID',
      message: expect.stringContaining('nests deeper than 256 levels'),
    });
    expect(growth).toBeLessThan(256 * MiB);
  }, 60_000);

  // Was about 1 GB and 6 s for 16 MB of zeros, all of it findProtoKey's queue of path strings.
  it('16 MB of one flat array is parsed within 384 MiB', async () => {
    const count = 8 * 1024 * 1024;
    const text = `{"extensions":{"curated":[]},"x":[${'0,'.repeat(count)}0]}`;
    const { outcome, growth } = await measurePeakRss(attempt(() => parseRegistryIndex(text, { registry: 'r' })));
    expect(outcome.status).toBe('fulfilled');
    expect(growth).toBeLessThan(384 * MiB);
  }, 60_000);

  it('the same flat array with a __proto__ key at its end is refused naming the field, within 384 MiB', async () => {
    const count = 8 * 1024 * 1024;
    const text = `{"extensions":{"curated":[]},"x":[${'0,'.repeat(count)}{"__proto__":1}]}`;
    const { outcome, growth } = await measurePeakRss(attempt(() => parseRegistryIndex(text, { registry: 'r' })));
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'E_INDEX_INVALID', details: { field: `x[${count}].__proto__` } });
    expect(growth).toBeLessThan(384 * MiB);
  }, 60_000);
});
