import {
  type FaultRule,
  hasOpenssl,
  MiB,
  makeTestCertificates,
  measurePeakRss,
  startFaultProxy,
  startForwardProxy,
  startGitHubEmulator,
  startTlsFront,
} from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { failure, registryFiles, TestBed } from './support/registry-repo.js';

/**
 * Issue 11 through the GitHub source: the fault proxy sits between the source and the GitHub emulator and breaks the
 * branch check (`GET /repos/…/commits/main`). A network fault at any stage is E_UNREACHABLE, so a cached index is
 * served stale; an endless answer is E_TOO_LARGE in bounded memory; a trickle ends at its deadline. Memory is per
 * process, so these tests live in a file of their own.
 */

const COMMITS = '/repos/your-org/extensions/commits/main';
let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

/**
 * The emulator behind a fault proxy, and a registry through the proxy whose index (one tool) is cached and revalidated
 * on every call; the branch has moved on since (two tools), so a registry that lists one tool served its cached copy.
 */
async function scene(config: Record<string, unknown> = {}) {
  const repo = await bed.repo(registryFiles(1));
  const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: false } } }));
  const proxy = await bed.cleanup.add(startFaultProxy({ target: emulator.apiUrl }));
  const warnings: string[] = [];
  const registry = await bed.registry(
    { location: 'your-org/extensions', branch: 'main', baseUrl: proxy.url, cacheDuration: 0, ...config },
    { logger: { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) } },
  );
  expect(await registry.list()).toHaveLength(1);
  // A new commit, so that revalidating gets a 200 with a body to break (a 304 has none).
  await repo.commit('main', registryFiles(2));
  return { emulator, proxy, registry, warnings, fault: (rule: FaultRule) => proxy.setFaults([{ ...rule, path: COMMITS }]) };
}

describe('network faults on the branch check are E_UNREACHABLE, so a cached index is served stale', () => {
  test('a reset mid-body: retried, then E_UNREACHABLE (not "not a commit sha"); the cached index is served', async () => {
    // The page's config, nothing of issue 11's new options: the default budget of 2 retries applies.
    const s = await scene();
    s.fault({ kind: 'reset', afterBytes: 5 });
    expect(await s.registry.list()).toHaveLength(1);
    expect(s.warnings.some((w) => w.includes('E_UNREACHABLE'))).toBe(true);
    expect(s.warnings.join('\n')).not.toContain('commit sha');
    expect(s.proxy.requests.filter((r) => r.url.startsWith(COMMITS) && r.fault === 'reset')).toHaveLength(3);

    const cold = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.proxy.url })).list());
    expect(cold.code).toBe('E_UNREACHABLE');
  });

  test('a stall after the headers ends at the idle body timeout as E_UNREACHABLE; the cached index is served', async () => {
    const s = await scene({ retries: 0, timeouts: { body: 1_000 } });
    s.fault({ kind: 'stall' });
    expect(await s.registry.list()).toHaveLength(1);
    expect(s.warnings.some((w) => w.includes('E_UNREACHABLE') && w.includes('stopped sending data'))).toBe(true);
  });

  test('a trickling answer ends at timeouts.index, within seconds of it, as E_UNREACHABLE naming the option', async () => {
    const s = await scene({ retries: 0, timeouts: { index: 2_000 } });
    s.fault({ kind: 'trickle', intervalMs: 500 });
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.proxy.url, retries: 0, timeouts: { index: 2_000 } });
    const started = Date.now();
    const error = await failure(cold.list());
    const elapsed = Date.now() - started;
    if (process.env.REPORT_MEMORY) console.log(`github index deadline of 2 s reached after ${elapsed} ms`);
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('raise timeouts.index');
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(2_000 + 10_000);
    // The warm registry serves its cached index instead.
    expect(await s.registry.list()).toHaveLength(1);
  });
});

describe('limits on GitHub answers', () => {
  test('an endless commits answer is E_TOO_LARGE at limits.index, in bounded memory', async () => {
    const s = await scene();
    // 1 GiB stands in for endless, so that a client without a limit ends too.
    s.fault({ kind: 'flood', bytes: 1024 * MiB });
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.proxy.url });
    const { outcome, growth } = await measurePeakRss(() => cold.list());
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as { code: string; message: string };
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('raise limits.index');
    expect(growth).toBeLessThan(256 * MiB);
  });

  test('a gzip-bomb commits answer (1.5 MB inflating to 1.5 GiB) is E_TOO_LARGE, counted after decoding', async () => {
    const s = await scene();
    s.fault({ kind: 'gzip-bomb', inflatedBytes: 1536 * MiB });
    const cold = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.proxy.url });
    const { outcome, growth } = await measurePeakRss(() => cold.list());
    expect(((outcome as PromiseRejectedResult).reason as { code: string }).code).toBe('E_TOO_LARGE');
    expect(growth).toBeLessThan(256 * MiB);
  });

  test('a tarball over limits.entry is E_TOO_LARGE naming the option', async () => {
    const s = await scene();
    const small = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: s.proxy.url, limits: { entry: 64 } });
    const error = await failure(small.fetch('tool', 'com.example.tool-0'));
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('limits.entry');
  });
});

describe('transport options, as every HTTP source takes them', () => {
  test("proxy, ca, timeouts, retries and limits are accepted and checked like a url registry's", async () => {
    const repo = await bed.repo(registryFiles(1));
    const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: false } } }));
    const forward = await bed.cleanup.add(startForwardProxy());
    const registry = await bed.registry({
      location: 'your-org/extensions',
      branch: 'main',
      baseUrl: emulator.apiUrl,
      proxy: forward.url,
      ca: '-----BEGIN CERTIFICATE-----\nnot used over http\n-----END CERTIFICATE-----\n',
      timeouts: { connect: 5_000, index: 60_000, entry: 60_000 },
      retries: 1,
      limits: { index: MiB, entry: 64 * MiB },
    });
    await registry.fetch('tool', 'com.example.tool-0');
    // Loopback targets are proxied too when a proxy is configured explicitly: the API call went through it.
    expect(forward.requests.some((r) => r.target.includes('/repos/your-org/extensions/commits/main'))).toBe(true);

    for (const [field, value] of [
      ['ca', 42],
      ['proxy', 'proxy:3128'],
      ['timeouts', { total: 1 }],
      ['limits', { index: -1 }],
    ] as const) {
      const error = await failure(bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl, [field]: value }));
      expect(error.code).toBe('E_CONFIG');
      expect(error.message).toContain(`registries.custom.${field}`);
    }
  });

  test.skipIf(!hasOpenssl())(
    'ca: a GitHub Enterprise API behind a private CA is reached over https with `ca` (PEM or file), and refused without it',
    async () => {
      const repo = await bed.repo(registryFiles(1));
      const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, private: false } } }));
      const certificates = await bed.cleanup.add(makeTestCertificates());
      const https = await bed.cleanup.add(startTlsFront(emulator.apiUrl, certificates));

      // Not trusted: a TLS failure is E_UNREACHABLE naming the `ca` option, never a silent downgrade.
      const untrusted = await failure((await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: https.url })).list());
      expect(untrusted.code).toBe('E_UNREACHABLE');
      expect(untrusted.message).toContain('"ca" option');

      for (const ca of [certificates.ca, certificates.caFile]) {
        const registry = await bed.registry({ location: 'your-org/extensions', branch: 'main', baseUrl: https.url, ca });
        expect((await registry.fetch('tool', 'com.example.tool-0')).manifest.id).toBe('com.example.tool-0');
      }
      expect(https.paths.filter((path) => path.startsWith('/repos/your-org/extensions/commits/main'))).toHaveLength(2);
    },
  );
});
