import { inspect } from 'node:util';

/** The outcome of a call the suite expects to fail. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Waits for a promise and reports whether it rejected, so a check can assert on the error it got. */
export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The `code` of whatever was thrown, read by shape rather than `instanceof` so that a second copy of core in the
 * dependency tree does not make the suite blind. `resolved` when the call did not fail at all.
 */
export function outcomeCode(outcome: Settled<unknown>): string {
  if (outcome.ok) return 'resolved';
  const code = (outcome.error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : `thrown without a code: ${inspect(outcome.error, { depth: 2 })}`;
}

/** A one-line account of an outcome for assertion messages, so a failing check shows what actually happened. */
export function describeOutcome(outcome: Settled<unknown>): string {
  if (outcome.ok) return 'the call resolved';
  const error = outcome.error as { message?: unknown } | null;
  return `the call failed with ${outcomeCode(outcome)}: ${typeof error?.message === 'string' ? error.message : String(error)}`;
}
