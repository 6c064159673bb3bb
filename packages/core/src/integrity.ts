/**
 * Subresource Integrity strings (`sha512-<base64>`), as npm writes them in `dist.integrity` and as ssri parses them:
 * whitespace-separated `<algorithm>-<base64 digest>[?options]` tokens. The strongest algorithm present decides, and
 * any digest of that algorithm may match (that is how a publisher rotates hashes). Node's crypto computes them.
 *
 * Our own rather than ssri's: ssri accepts sha1 and, even when strict, a digest of the wrong length for its
 * algorithm, which we report as an invalid index up front instead of a failed download later; and the few lines
 * here save core a dependency.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Algorithms accepted, weakest first. sha1 and md5 are not: they no longer protect against a hostile server. */
const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** A parsed integrity string: the strongest algorithm it names and the digests given for it. */
export interface ParsedIntegrity {
  algorithm: Algorithm;
  digests: string[];
}

/** The SRI string of `bytes`: `sha512-<base64>` unless another algorithm is asked for. */
export function integrityOf(bytes: Uint8Array, algorithm: Algorithm = 'sha512'): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/**
 * Parses an SRI string. Returns `undefined` when it names no supported algorithm with a well-formed digest, which
 * a source reports as an invalid index: an entry whose integrity cannot be checked is never downloaded.
 */
export function parseIntegrity(value: string): ParsedIntegrity | undefined {
  const byAlgorithm = new Map<Algorithm, string[]>();
  for (const token of value.trim().split(/\s+/)) {
    const match = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token);
    if (!match) continue;
    const algorithm = match[1] as Algorithm;
    const digest = match[2]!;
    // A digest of the wrong length is a typo or truncation, not a hash this algorithm could produce.
    if (Buffer.from(digest, 'base64').length !== digestLength(algorithm)) continue;
    byAlgorithm.set(algorithm, [...(byAlgorithm.get(algorithm) ?? []), digest]);
  }
  for (const algorithm of [...ALGORITHMS].reverse()) {
    const digests = byAlgorithm.get(algorithm);
    if (digests) return { algorithm, digests };
  }
  return undefined;
}

function digestLength(algorithm: Algorithm): number {
  return algorithm === 'sha512' ? 64 : algorithm === 'sha384' ? 48 : 32;
}

/** True when `bytes` hash to one of the expected digests. */
export function matchesIntegrity(bytes: Uint8Array, expected: ParsedIntegrity): boolean {
  const actual = createHash(expected.algorithm).update(bytes).digest('base64');
  return expected.digests.includes(actual);
}

/** A stream of a download's bytes, hashed as they are read, and the verdict once they have all been read. */
export interface CheckedStream {
  /** The same bytes as the source, unchanged. */
  readonly stream: Readable;
  /** True when the source has been read to its end and its hash is one of the expected digests; false before. */
  matches(): boolean;
}

/**
 * Checks a download's integrity while it streams on (into an extractor), so that it is never buffered whole. The
 * caller must not accept what the bytes produced until `matches()` says so.
 *
 * The stream is lazy, like `Readable.from`: nothing is read from `source` before the consumer asks. A stream that
 * flowed at once could fail before a consumer that sets up asynchronously (extractTarball makes its folder first)
 * has subscribed, and that consumer would then wait forever. Source errors pass through; destroying the stream
 * destroys the source.
 */
export function checkedStream(source: AsyncIterable<Uint8Array>, expected: ParsedIntegrity): CheckedStream {
  const hash: Hash = createHash(expected.algorithm);
  let digest: string | undefined;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('base64');
  }
  return { stream: Readable.from(hashed(), { objectMode: false }), matches: () => digest !== undefined && expected.digests.includes(digest) };
}
