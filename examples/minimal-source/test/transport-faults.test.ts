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
 * The testkit's transport checks catch a source that drops `ca` (here: the minimal source with `ca` taken out of
 * its config before it builds its HTTP client, as a source that builds its own client without core's options does).
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
  const harness: SourceHarness = {
    name: 'tarball',
    adapter,
    setup: () => Promise.reject(new Error('only the transport checks run here')),
    async https(fixture, tls) {
      const site = await mkdtemp(join(tmpdir(), 'minimal-source-site-'));
      await writeFile(join(site, 'registry.tgz'), await createDeterministicTarball(fixture.dir));
      const server = await startStaticServer({ root: site });
      const front = await startTlsFront(server.url, tls);
      return {
        config: { type: 'tarball', location: `${front.url}/registry.tgz` },
        update: () => Promise.reject(new Error('read-only')),
        teardown: async () => {
          await front.close();
          await server.close();
          await rm(site, { recursive: true, force: true });
        },
      };
    },
  };
  runSourceConformance(runner, harness);
  const failed: string[] = [];
  for (const { name, body } of tests) await body().catch(() => failed.push(name));
  for (const body of afterAll) await body();
  return tests.length === 0 ? ['no transport checks were registered'] : failed;
}

describe.skipIf(!hasOpenssl())('the transport checks catch a source that ignores `ca`', () => {
  test('the minimal source passes them', async () => {
    expect(await failingTransportChecks(tarballSource())).toEqual([]);
  });

  test('the same source with `ca` dropped fails the checks that configure it', async () => {
    const real = tarballSource();
    const dropsCa: SourceAdapter = {
      ...real,
      create: (config, ctx) => {
        const { ca: _ignored, ...rest } = config;
        return real.create(rest as typeof config, ctx);
      },
    };
    expect(await failingTransportChecks(dropsCa)).toEqual([
      "with `ca` (PEM), list() and fetch() give the fixture's entries and files",
      'with `ca` as a file path relative to the base folder, fetch() gives the same files',
    ]);
  });
});
