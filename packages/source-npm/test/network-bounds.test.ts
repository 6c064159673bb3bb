/**
 * The `timeouts` and `limits` of an npm registry use the names every HTTP source takes (`index`, `entry`), plus npm's
 * own `timeouts.attempt` and `timeouts.install`; the shared names are checked by core's own validator.
 */
import { DEFAULT_HTTP_TIMEOUTS, validateHttpSourceOptions } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { DEFAULT_NPM_LIMITS, DEFAULT_NPM_TIMEOUTS, networkBoundsProblems, resolveNetworkBounds } from '../src/network-bounds.js';

const MiB = 1024 ** 2;

describe('defaults', () => {
  test('with nothing configured every bound is set', () => {
    expect(resolveNetworkBounds({}, 'r')).toEqual({
      timeouts: { attempt: 30_000, index: 120_000, entry: 600_000, install: 600_000 },
      limits: { index: 128 * MiB, entry: 512 * MiB },
    });
  });

  test("the deadlines are core's, so they mean the same on every source", () => {
    expect(DEFAULT_NPM_TIMEOUTS.index).toBe(DEFAULT_HTTP_TIMEOUTS.index);
    expect(DEFAULT_NPM_TIMEOUTS.entry).toBe(DEFAULT_HTTP_TIMEOUTS.entry);
  });

  test('the index limit is above the ~100 MB at which npmjs.org stops growing a packument', () => {
    expect(DEFAULT_NPM_LIMITS.index).toBeGreaterThan(100 * 1000 ** 2);
  });

  test('fetch-timeout from .npmrc sets attempt; the option wins over it', () => {
    expect(resolveNetworkBounds({}, 'r', 5000).timeouts.attempt).toBe(5000);
    expect(resolveNetworkBounds({ timeouts: { attempt: 7000 } }, 'r', 5000).timeouts.attempt).toBe(7000);
  });

  test('each option replaces its own default only', () => {
    const bounds = resolveNetworkBounds({ timeouts: { entry: 900_000 }, limits: { entry: 2 * 1024 ** 3 } }, 'r');
    expect(bounds.timeouts).toEqual({ ...DEFAULT_NPM_TIMEOUTS, entry: 900_000 });
    expect(bounds.limits).toEqual({ ...DEFAULT_NPM_LIMITS, entry: 2 * 1024 ** 3 });
  });
});

describe('checks', () => {
  test('a config valid for every source is valid for npm too', () => {
    const shared = { timeouts: { index: 60_000, entry: 900_000 }, limits: { index: 64 * MiB, entry: 2 * 1024 ** 3 } };
    expect(validateHttpSourceOptions({ type: 'url', location: 'https://example.invalid/', ...shared })).toEqual([]);
    expect(networkBoundsProblems(shared)).toEqual([]);
  });

  test("the shared names get core's checks and messages", () => {
    for (const config of [
      { timeouts: { index: 2 ** 31 } },
      { timeouts: { entry: -1 } },
      { limits: { index: 1.5 } },
      { limits: { entry: 'big' } },
      { limits: [] },
    ]) {
      expect(networkBoundsProblems(config)).toEqual(validateHttpSourceOptions({ type: 'url', location: 'https://example.invalid/', ...config }));
    }
  });

  test('every problem is reported, each naming its field and the accepted names', () => {
    expect(networkBoundsProblems({ timeouts: { total: 1, headers: 1, install: 0 }, limits: { packument: 1 } })).toEqual([
      { field: 'timeouts.total', message: 'is not a timeout; use attempt, index, entry or install' },
      {
        field: 'timeouts.headers',
        message: "is not a timeout of an npm registry (npm's fetch has one per-request timeout, `timeouts.attempt`); use attempt, index, entry or install",
      },
      { field: 'timeouts.install', message: 'must be a positive number of milliseconds' },
      { field: 'limits.packument', message: 'is not a limit; use index or entry' },
    ]);
  });

  test('resolveNetworkBounds throws E_CONFIG for the first one, naming the field', () => {
    let error: unknown;
    try {
      resolveNetworkBounds({ limits: { tarball: 1 } }, 'npm');
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'E_CONFIG', registry: 'npm', details: { field: 'limits.tarball' } });
    expect((error as Error).message).toBe("Registry 'npm': `limits.tarball` is not a limit; use index or entry.");
  });
});
