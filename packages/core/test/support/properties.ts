/**
 * Shared settings of the property tests (`test/properties-*.test.ts`): one fixed seed so a run in CI is the run on a
 * laptop, and a modest number of runs so the whole set stays within a few seconds. On a failure fast-check prints the
 * seed, the path and the shrunk counterexample; re-run with them (`{ seed, path }`) to replay exactly that case.
 */
import type fc from 'fast-check';
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
