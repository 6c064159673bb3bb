import { deepStrictEqual, notStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { describe, expect, test } from 'vitest';
import { type ConformanceOptions, type ConformanceRunner, runSourceConformance, type SourceHarness } from '../src/index.js';
import { type FolderSourceFaults, folderSource } from './support/folder-source.js';

interface Collected {
  name: string;
  body: () => Promise<void>;
}

/**
 * Registers the suite with a runner that only records tests (and uses node:assert, proving no vitest is needed),
 * then runs them and returns the names of the ones that failed.
 */
async function failingChecks(faults: FolderSourceFaults, options: ConformanceOptions = {}): Promise<string[]> {
  const tests: Collected[] = [];
  const afterAll: Array<() => Promise<void>> = [];
  const path: string[] = [];
  const runner: ConformanceRunner = {
    describe(name, body) {
      path.push(name);
      body();
      path.pop();
    },
    test(name, body) {
      tests.push({ name: [...path.slice(1), name].join(' > '), body });
    },
    afterAll(body) {
      afterAll.push(body);
    },
    expect: (actual, message) => ({
      toBe: (expected) => strictEqual(actual, expected, message),
      toEqual: (expected) => deepStrictEqual(actual, expected, message),
      toContain: (item) => ok((actual as unknown[]).includes(item), message),
      not: {
        toBe: (expected) => notStrictEqual(actual, expected, message),
        toContain: (item) => ok(!(actual as unknown[]).includes(item), message),
      },
    }),
  };
  const adapter = folderSource(faults);
  const harness: SourceHarness = {
    name: 'faulty',
    adapter,
    async setup(fixture) {
      return { config: { type: adapter.type, location: fixture.dir }, update: (mutate) => mutate(fixture.dir) };
    },
  };
  runSourceConformance(runner, harness, options);
  const failed: string[] = [];
  for (const { name, body } of tests) await body().catch(() => failed.push(name));
  for (const body of afterAll) await body();
  return failed;
}

describe('the suite catches faulty sources', () => {
  test('a correct source fails nothing', async () => {
    expect(await failingChecks({})).toEqual([]);
  });

  test('a revision that never changes', async () => {
    expect(await failingChecks({ constantRevision: true })).toEqual(['updates > revision changes after an update, and the new content is served']);
  });

  test('materialize that ignores an aborted signal', async () => {
    expect(await failingChecks({ ignoreAbort: true })).toEqual(['abort > materialize with an already-aborted signal rejects']);
  });

  test('materialize that words E_ABORTED itself', async () => {
    expect(await failingChecks({ ownAbortWording: true })).toEqual(['abort > materialize with an already-aborted signal rejects']);
  });

  test('materialize that adds a file', async () => {
    const failed = await failingChecks({ extraFile: true });
    expect(failed).toContain("entries > materialize writes exactly the entry's files into the destination");
    expect(failed).toContain("entries > fetch('tool', 'com.conformance.echo') yields exactly the fixture's files");
  });

  test('a token in displayLocation', async () => {
    expect(await failingChecks({ leakToken: true })).toEqual(['credentials > a configured token appears in no result, error, stack or log line']);
  });

  test('skip options switch groups off', async () => {
    const failed = await failingChecks(
      { constantRevision: true, ignoreAbort: true, leakToken: true },
      { skip: { mutation: true, abort: true, credentials: true } },
    );
    expect(failed).toEqual([]);
  });
});
