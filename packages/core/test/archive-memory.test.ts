import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractTarball, RegistryError } from '../src/index.js';
import { tempDir } from './helpers.js';
import { MiB, measurePeakRss } from '@agentos-registry/test-servers';
import { rawTar } from './support/tar-builder.js';

/**
 * A compression bomb costs bounded memory, however the compressed bytes arrive: in the large chunks a network body
 * or a file stream hands over (GitHub's archive path passes them on unsplit), or as one buffer. tar's own inflater
 * inflated each write whole before checking the ratio, so one 256 KiB chunk of this bomb became some 260 MB at once.
 * Memory is per process, so these tests live in a file of their own.
 */

/** Growth allowed: far below the 1.5 GiB the bomb inflates to, and below what one inflated 256 KiB write costs. */
const BOUND = 100 * MiB;

/** `count` files of `size` zeros in one gzip stream at `level` (9: 1.5 GiB in about 1.5 MB, 1000-fold). */
async function zeroBomb(count = 3, size = 512 * MiB, level = 9): Promise<Buffer> {
  const zero = Buffer.alloc(MiB);
  const header = (i: number) => rawTar([{ path: `package/zeros-${i}.bin`, data: '' }]).subarray(0, 512);
  async function* tar(): AsyncGenerator<Buffer> {
    for (let i = 0; i < count; i++) {
      // The header of an empty file, with its size field rewritten (octal), and its checksum redone.
      const block = Buffer.from(header(i));
      block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
      block.write('        ', 148);
      let sum = 0;
      for (const byte of block) sum += byte;
      block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      yield block;
      for (let left = size / MiB; left > 0; left--) yield zero;
    }
    yield Buffer.alloc(1024);
  }
  const chunks: Buffer[] = [];
  const gzip = createGzip({ level });
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    Readable.from(tar()).pipe(gzip).on('end', resolve).on('error', reject);
  });
  return Buffer.concat(chunks);
}

/** `bytes` as a stream of `size`-byte chunks, as a socket or file stream delivers them. */
function inChunks(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
    })(),
  );
}

describe('a 1.5 GiB tar.gz bomb is refused in bounded memory', () => {
  let bomb: Buffer;
  beforeAll(async () => {
    bomb = await zeroBomb();
  }, 60_000);

  for (const [name, input] of [
    ['in 256 KiB chunks', () => inChunks(bomb, 256 * 1024)],
    ['in 1 MiB chunks', () => inChunks(bomb, MiB)],
    ['as one buffer', () => bomb],
  ] as const) {
    it(name, { timeout: 60_000 }, async () => {
      expect(bomb.length).toBeLessThan(2 * MiB);
      const dest = join(await tempDir(), 'out');
      const { outcome, growth } = await measurePeakRss(() => extractTarball(input(), dest, { registry: 'acme' }));
      if (process.env.REPORT_MEMORY) console.log(`bomb ${name}: ${(growth / MiB).toFixed(1)} MiB`);
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ code: 'E_UNSAFE_PATH', registry: 'acme', details: { limit: 'decompressionRatio' } });
      expect(error.message).toContain('compression bomb');
      expect(growth).toBeLessThan(BOUND);
    });
  }
});

it('an archive below the bomb ratio is stopped at maxDecodedBytes, though nothing of it is extracted, in bounded memory', { timeout: 60_000 }, async () => {
  // Level 1 inflates some 230-fold: not a bomb by its ratio, only large. Its files are outside the subdir, so maxBytes
  // never sees them; the decoded total does.
  const large = await zeroBomb(2, 256 * MiB, 1);
  const dest = join(await tempDir(), 'out');
  const options = { subdir: 'elsewhere', maxDecodedBytes: 128 * MiB, registry: 'acme' };
  const { outcome, growth } = await measurePeakRss(() => extractTarball(inChunks(large, 256 * 1024), dest, options));
  if (process.env.REPORT_MEMORY) console.log(`512 MiB at level 1 (${(large.length / MiB).toFixed(1)} MiB): ${(growth / MiB).toFixed(1)} MiB`);
  expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_UNSAFE_PATH', details: { limit: 'maxDecodedBytes' } } });
  expect(growth).toBeLessThan(BOUND);
});
