import { deepStrictEqual, notStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeterministicTarball, type SourceAdapter } from '@agentos-registry/core';
import { type ConformanceRunner, runSourceConformance, type SourceHarness } from '@agentos-registry/source-testkit';
import { hasOpenssl, startStaticServer, startTlsFront } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { tarballSource } from '../src/index.js';

/**
 * The testkit's transport checks catch a source that drops `ca` or `limits` (here: the minimal source with the option
 * taken out of its config before it builds its HTTP client, as a source that builds its own client without core's
 * options does).
 * Only the transport group runs; the tests are recorded, run, and the names of the failed ones returned.
 */
async function failingTransportChecks(adapter: SourceAdapter): Promise<string[]> {
  const tests: Array<{ name: string; body: () => Promise<void> }> = [];
  const afterAll: Array<() => Promise<void>> = [];
  const path: string[] = [];
  const runner: ConformanceRunner = {
    describe(name, body) {
      path.push(name);
      body();
      path.pop();
    },
    test(name, body) {
      if (path.some((part) => part.startsWith('transport'))) tests.push({ name, body });
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
  // The same site, over plain HTTP (the limit check) or behind an HTTPS front with the kit's certificate.
  const publish = async (fixture: Parameters<SourceHarness['setup']>[0], tls?: Parameters<NonNullable<SourceHarness['https']>>[1]) => {
    const site = await mkdtemp(join(tmpdir(), 'minimal-source-site-'));
    await writeFile(join(site, 'registry.tgz'), await createDeterministicTarball(fixture.dir));
    const server = await startStaticServer({ root: site });
    const front = tls ? await startTlsFront(server.url, tls) : undefined;
    return {
      config: { type: 'tarball', location: `${front?.url ?? server.url}/registry.tgz` },
      update: () => Promise.reject(new Error('read-only')),
      teardown: async () => {
        await front?.close();
        await server.close();
        await rm(site, { recursive: true, force: true });
      },
    };
  };
  const harness: SourceHarness = { name: 'tarball', adapter, setup: (fixture) => publish(fixture), https: (fixture, tls) => publish(fixture, tls) };
  runSourceConformance(runner, harness);
  const failed: string[] = [];
  for (const { name, body } of tests) await body().catch(() => failed.push(name));
  for (const body of afterAll) await body();
  return tests.length === 0 ? ['no transport checks were registered'] : failed;
}

/** The minimal source, with one option removed from its config before it builds its HTTP client. */
function dropping(option: string): SourceAdapter {
  const real = tarballSource();
  return {
    ...real,
    create: (config, ctx) => {
      const { [option]: _ignored, ...rest } = config;
      return real.create(rest as typeof config, ctx);
    },
  };
}

test('the limit check catches a source that ignores `limits`', async () => {
  expect(await failingTransportChecks(dropping('limits'))).toContain(
    '`limits.entry` below the size of an entry: fetch() is E_TOO_LARGE naming the option, and nothing is cached',
  );
});

describe.skipIf(!hasOpenssl())('the transport checks catch a source that ignores `ca`', () => {
  test('the minimal source passes them', async () => {
    expect(await failingTransportChecks(tarballSource())).toEqual([]);
  });

  test('the same source with `ca` dropped fails the checks that configure it', async () => {
    expect(await failingTransportChecks(dropping('ca'))).toEqual([
      "with `ca` (PEM), list() and fetch() give the fixture's entries and files",
      'with `ca` as a file path relative to the base folder, fetch() gives the same files',
    ]);
  });
});
