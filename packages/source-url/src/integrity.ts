/**
 * Subresource Integrity strings (`sha512-<base64>`), as npm writes them in `dist.integrity` and as ssri parses them:
 * whitespace-separated `<algorithm>-<base64 digest>[?options]` tokens. The strongest algorithm present decides, and
 * any digest of that algorithm may match (that is how a publisher rotates hashes). Node's crypto computes them.
 */
import { createHash } from 'node:crypto';

/** Algorithms accepted, weakest first. sha1 and md5 are not: they no longer protect against a hostile server. */
const ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** A parsed integrity string: the strongest algorithm it names and the digests given for it. */
export interface ParsedIntegrity {
  algorithm: Algorithm;
  digests: string[];
}

/** The SRI string of `bytes`: `sha512-<base64>`, what `agentos-registry pack` writes. */
export function integrityOf(bytes: Uint8Array, algorithm: Algorithm = 'sha512'): string {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;
}

/**
 * Parses an SRI string. Returns `undefined` when it names no supported algorithm with a well-formed digest, which
 * the caller reports as an invalid index: an entry whose integrity cannot be checked is never downloaded.
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
