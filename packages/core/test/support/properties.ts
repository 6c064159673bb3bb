/**
 * Shared settings of the property tests (`test/properties-*.test.ts`): one fixed seed so a run in CI is the run on a
 * laptop, and a modest number of runs so the whole set stays within a few seconds. On a failure fast-check prints the
 * seed, the path and the shrunk counterexample; re-run with them (`{ seed, path }`) to replay exactly that case.
 */
import type { posix, win32 } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { RegistryError } from '../../src/index.js';

export const PROPERTY_SEED = 0x14_2026;

/** Parameters for `fc.assert`: the fixed seed and `numRuns` runs. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { seed: PROPERTY_SEED, numRuns };
}

/** What `fn` threw (or `undefined`). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Asserts that `error` is a RegistryError with one of `codes`; anything else (a TypeError…) fails, naming it. */
export function expectRegistryError(error: unknown, codes: readonly string[]): asserts error is RegistryError {
  if (!(error instanceof RegistryError)) {
    throw new Error(`expected a RegistryError, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  expect(codes).toContain(error.code);
}

/** Object.prototype's own keys, to check before and after that nothing was added to it. */
export function prototypeKeys(): string[] {
  return Reflect.ownKeys(Object.prototype).map(String).sort();
}

/** Path segments chosen to be hostile: traversal and its look-alikes, drives, encodings, odd unicode, NUL. */
export const HOSTILE_SEGMENTS = [
  '..',
  '.',
  '',
  '...',
  '.. ',
  '. .',
  '..\u200b',
  'a.',
  'a..',
  '..a',
  'a',
  'b',
  'curated',
  'registry',
  'x y',
  'C:',
  'c:',
  'C:..',
  'Z:\\',
  '\\\\?',
  '\\\\server',
  '%2e%2e',
  '%2E%2e',
  '%2f',
  '%5c',
  '..%2f',
  '%00',
  '\uff0e\uff0e',
  '\u2024\u2024',
  '\u2025',
  '\u0000',
  'a\u0000b',
  '\u202e',
  'é',
  'e\u0301',
  '~',
  '$HOME',
  'NUL',
  'con',
];
/** Separators between them, doubled and dotted as well. */
export const SEPARATORS = ['/', '\\', '//', '\\\\', '/./', '\\.\\'];

/** A path a hostile registry might write: hostile segments and separators, binary junk, or a soup of path characters. */
export const hostilePath = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...HOSTILE_SEGMENTS), fc.constantFrom(...SEPARATORS)), { maxLength: 7 })
      .map((parts) => parts.map(([s, p]) => s + p).join('')),
  },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...HOSTILE_SEGMENTS), { minLength: 1, maxLength: 7 }).map((parts) => parts.join('/')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('.', '/', '\\', 'a', ':', '%', '2', 'e', '\0', ' '), maxLength: 24 }) },
);

/** The oracle: `target` is `root` or below it, as node:path's `relative` judges it for that flavour of path. */
export function insideBy(flavour: typeof posix | typeof win32, root: string, target: string): boolean {
  const rel = flavour.relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${flavour.sep}`) && !flavour.isAbsolute(rel));
}
