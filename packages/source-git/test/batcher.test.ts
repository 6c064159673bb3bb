import { describe, expect, test } from 'vitest';
import { Batcher } from '../src/batcher.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Batcher', () => {
  test('requests made while a run is in progress are served by one next run', async () => {
    const runs: string[][] = [];
    const gate = deferred();
    const batcher = new Batcher<string>(async (items) => {
      runs.push(items);
      if (runs.length === 1) await gate.promise;
    });
    const signal = new AbortController().signal;
    const first = batcher.run(['a'], signal);
    const others = [batcher.run(['b', 'c'], signal), batcher.run(['c', 'd'], signal)];
    gate.resolve();
    await Promise.all([first, ...others]);
    expect(runs).toEqual([['a'], ['b', 'c', 'd']]);
  });

  test('a caller that aborts is rejected at once; the run goes on for the others', async () => {
    const gates = [deferred(), deferred()];
    const signals: AbortSignal[] = [];
    const batcher = new Batcher<string>(async (_items, signal) => {
      signals.push(signal);
      await gates[signals.length - 1]!.promise;
    });
    const busy = batcher.run(['first'], new AbortController().signal);
    const leaving = new AbortController();
    const left = batcher.run(['a'], leaving.signal);
    const stayed = batcher.run(['b'], new AbortController().signal);
    gates[0]!.resolve();
    await busy;
    await Promise.resolve();
    leaving.abort(new Error('gone'));
    await expect(left).rejects.toThrow('gone');
    expect(signals[1]?.aborted).toBe(false);
    gates[1]!.resolve();
    await expect(stayed).resolves.toBeUndefined();
  });

  test('the run is aborted once every caller has left, and a failure reaches every caller', async () => {
    let runSignal: AbortSignal | undefined;
    const batcher = new Batcher<string>(async (_items, signal) => {
      runSignal = signal;
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('killed'))));
    });
    const controller = new AbortController();
    const only = batcher.run(['a'], controller.signal);
    await Promise.resolve();
    controller.abort(new Error('gone'));
    await expect(only).rejects.toThrow('gone');
    expect(runSignal?.aborted).toBe(true);

    const failing = new Batcher<string>(async () => {
      throw new Error('boom');
    });
    const signal = new AbortController().signal;
    await expect(Promise.all([failing.run(['a'], signal), failing.run(['b'], signal)])).rejects.toThrow('boom');
  });
});
