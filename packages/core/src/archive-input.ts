/**
 * The bytes of an archive as tar bytes, for `extractTarball`: gzip (recognised by its first two bytes) is inflated
 * here, by zlib's streaming gunzip, rather than by tar. tar inflates each write whole before it checks the
 * decompression ratio, so one 256 KiB network chunk of a bomb became some 260 MB in memory at once; zlib's stream
 * hands out chunks of at most `PIECE` bytes and inflates only as fast as they are taken, so the ratio and the decoded
 * total are checked after every 64 KiB however the compressed bytes arrive. Plain archives are cut to the same
 * pieces, so that no single write costs tar's parser more than that either.
 *
 * It also keeps the count that ends an archive: once tar has seen the end-of-archive marker (`archiveEnded()`), the
 * bytes that follow are read on (the gzip trailer holds the checksum, and a caller hashing the download needs every
 * byte) but only up to `maxTrailingBytes`, raw or decoded, because tar itself is quadratic on what follows its end.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** The most bytes handed on at once, inflated or not. */
export const PIECE = 64 * 1024;

/** A limit `TarInput` enforces, as named in `details.limit` of the error it throws. */
export type InputLimit = 'maxDecodedBytes' | 'decompressionRatio' | 'trailingBytes' | 'compressedTwice';

export interface TarInputOptions {
  /** Most bytes of the tar stream, after inflating. */
  maxDecodedBytes: number;
  /** Most inflated bytes per compressed byte, over the stream so far. */
  maxRatio: number;
  /** Most bytes, raw or inflated, read after the end-of-archive marker. */
  maxTrailingBytes: number;
  /** The error to throw when a limit is passed (`value` is the figure that passed it). */
  refuse(limit: InputLimit, value: number): Error;
  /** The error to throw for a failure of the source itself (a network error, an abort). */
  sourceError(error: unknown): Error;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export class TarInput {
  readonly #options: TarInputOptions;
  readonly #source: AsyncIterator<Uint8Array>;
  #first: Promise<IteratorResult<Uint8Array>> | undefined;
  #raw = 0;
  #decoded = 0;
  #end: { raw: number; decoded: number } | undefined;

  constructor(source: AsyncIterable<Uint8Array>, options: TarInputOptions) {
    this.#options = options;
    this.#source = source[Symbol.asyncIterator]();
    // The first read starts now, not when the caller first waits for a chunk: a stream's iterator listens for its
    // errors from its first `next()`, and a stream that fails before that (while the destination folder is being
    // made) would otherwise fail unheard, leaving the extraction waiting for events that have already gone.
    this.#first = this.#source.next();
    this.#first.catch(() => {});
  }

  /** tar has parsed the end-of-archive marker: from here on, only `maxTrailingBytes` more may be read. */
  archiveEnded(): void {
    this.#end ??= { raw: this.#raw, decoded: this.#decoded };
  }

  /** The tar bytes, in pieces of at most `PIECE` bytes. Returning early stops reading the source. */
  async *chunks(): AsyncGenerator<Buffer> {
    const raw = this.#pieces();
    // Gzip or not is told by the first two bytes; a first piece may be shorter, so gather up to two.
    const head: Buffer[] = [];
    while (head.reduce((n, b) => n + b.length, 0) < 2) {
      const next = await raw.next();
      if (next.done) break;
      head.push(next.value);
    }
    const all = (async function* () {
      yield* head;
      yield* raw;
    })();
    if (!startsWithGzip(head)) {
      for await (const piece of all) {
        this.#count(piece.length);
        yield piece;
      }
      return;
    }
    yield* this.#inflated(all);
  }

  /** The source's bytes in pieces, counted as raw bytes; a failure of the source becomes `sourceError`. */
  async *#pieces(): AsyncGenerator<Buffer> {
    let finished = false;
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await (this.#first ?? this.#source.next());
        } catch (error) {
          finished = true;
          throw this.#options.sourceError(error);
        } finally {
          this.#first = undefined;
        }
        if (next.done) {
          finished = true;
          return;
        }
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        // Slices, not copies.
        for (let at = 0; at < chunk.length; at += PIECE) {
          const piece = chunk.subarray(at, at + PIECE);
          this.#raw += piece.length;
          if (this.#end && this.#raw - this.#end.raw > this.#options.maxTrailingBytes) throw this.#options.refuse('trailingBytes', this.#raw - this.#end.raw);
          yield piece;
        }
      }
    } finally {
      // Stopped early (the extraction failed or the archive ended): let the source go, which destroys a stream.
      if (!finished) await this.#source.return?.();
    }
  }

  /** The inflated bytes of a gzip stream (one member or several, as gzip writes them), checked chunk by chunk. */
  async *#inflated(compressed: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const gunzip = createGunzip({ chunkSize: PIECE });
    // A failure of either side destroys both, and reaches the loop below through the gunzip stream.
    const feeding = pipeline(Readable.from(compressed, { objectMode: false, highWaterMark: PIECE }), gunzip);
    feeding.catch(() => {});
    const head: number[] = [];
    try {
      // Not destroyed when its output ends: zlib ends the output at the end of the gzip stream, while the source may
      // still be writing into it (see below), and destroying it then would fail that as a premature close.
      for await (const chunk of gunzip.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        if (head.length < 2) {
          head.push(...chunk.subarray(0, 2 - head.length));
          // tar's parser would inflate an inner gzip layer itself, a whole write at a time and unchecked.
          if (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) throw this.#options.refuse('compressedTwice', 2);
        }
        this.#count(chunk.length);
        // bytesWritten is what zlib has consumed: the ratio of what was inflated so far, exactly, and so the same
        // verdict however the network happened to cut the compressed bytes.
        const ratio = this.#decoded / Math.max(1, gunzip.bytesWritten);
        if (ratio > this.#options.maxRatio) throw this.#options.refuse('decompressionRatio', ratio);
        yield chunk;
      }
      // The gzip stream is over (zlib ends it after the last member, and swallows zeros after that): what the source
      // still holds is trailing bytes, read to the end, so that a caller hashing the download sees every byte, but
      // counted against the allowance like any other bytes after the end.
      this.archiveEnded();
      await feeding;
    } finally {
      gunzip.destroy();
    }
  }

  #count(length: number): void {
    this.#decoded += length;
    if (this.#decoded > this.#options.maxDecodedBytes) throw this.#options.refuse('maxDecodedBytes', this.#decoded);
    if (this.#end && this.#decoded - this.#end.decoded > this.#options.maxTrailingBytes)
      throw this.#options.refuse('trailingBytes', this.#decoded - this.#end.decoded);
  }
}

function startsWithGzip(head: Buffer[]): boolean {
  const start = Buffer.concat(head.map((b) => b.subarray(0, 2))).subarray(0, 2);
  return start.length === 2 && start[0] === GZIP_MAGIC[0] && start[1] === GZIP_MAGIC[1];
}
