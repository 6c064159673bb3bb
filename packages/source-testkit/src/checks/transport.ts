import { relative } from 'node:path';
import type { CheckContext } from '../context.js';
import { describeOutcome, outcomeCode, settle } from '../errors.js';
import { conformanceFixture } from '../fixture.js';
import type { ConformanceSession } from '../session.js';
import { readTree } from '../tree.js';
import { expectEntryFolder } from './compare.js';

const echo = conformanceFixture.entries[0]!;

/** The list() rows the fixture gives, as "id@version". */
const fixtureRows = () => conformanceFixture.entries.map((entry) => `${entry.id}@1.0.0`).sort();

function tlsOf(session: ConformanceSession) {
  if (!session.tls) throw new Error('The HTTPS session has no certificates.');
  return session.tls;
}

/**
 * The download limits core's HTTP client applies for every HTTP source: an entry larger than `limits.entry` is
 * refused as it streams, in core's words, and nothing of it reaches the cache.
 */
export function registerLimitChecks({ describe, test, expect, fresh }: CheckContext): void {
  describe('transport: download limits', () => {
    test('`limits.entry` below the size of an entry: fetch() is E_TOO_LARGE naming the option, and nothing is cached', async () => {
      // A registry of its own: a medium with a request quota (GitHub's 60 an hour without a token) is not charged
      // for this on top of the shared checks.
      await fresh(async (session) => {
        const cacheDir = await session.tempDir('limited-cache');
        // 64 bytes: less than the entry's files (and than any archive of them), so every medium's download passes it.
        const registry = await session.registry({ cacheDir, extra: { limits: { entry: 64 } } });
        const outcome = await settle(registry.fetch(echo.kind, echo.id));
        expect(outcomeCode(outcome), `fetch() with limits.entry: 64: ${describeOutcome(outcome)}`).toBe('E_TOO_LARGE');
        const message = outcome.ok ? '' : String((outcome.error as { message?: unknown }).message);
        expect(message, 'the message names the option to raise').toContain('limits.entry');
        // Core's content store; a source's own work folder (a packument in npm's cache) is not the entry.
        const stored = [...(await readTree(cacheDir)).keys()].filter((path) => path.startsWith('v1/content/'));
        expect(stored, 'entry files in the cache after the refused fetch').toEqual([]);
      });
    });
  });
}

/**
 * Checks of the transport options core validates and applies for every HTTP source: a registry behind a private CA
 * is reached with `ca` (PEM text, or a file relative to the config's folder), and refused without it, with
 * core's certificate error and nothing cached.
 */
export function registerTransportChecks({ describe, test, expect, https, prepareHttps }: CheckContext): void {
  describe('transport: a registry behind a private CA', () => {
    prepareHttps();

    test("with `ca` (PEM), list() and fetch() give the fixture's entries and files", async () => {
      const session = await https();
      const registry = await session.registry({ extra: { ca: tlsOf(session).ca } });
      const rows = await registry.list();
      expect(rows.map((row) => `${row.id}@${row.version}`).sort(), 'list() rows as "id@version"').toEqual(fixtureRows());
      const fetched = await registry.fetch(echo.kind, echo.id);
      await expectEntryFolder(expect, session, fetched.dir, echo, 'fetch over https with ca');
    });

    test('with `ca` as a file path relative to the base folder, fetch() gives the same files', async () => {
      const session = await https();
      const ca = relative(session.baseDir(), tlsOf(session).caFile);
      const registry = await session.registry({ extra: { ca } });
      const fetched = await registry.fetch(echo.kind, echo.id);
      await expectEntryFolder(expect, session, fetched.dir, echo, `fetch over https with ca: '${ca}'`);
    });

    test('without `ca`, the untrusted certificate is E_UNREACHABLE naming the certificate, and nothing is cached', async () => {
      const session = await https();
      const cacheDir = await session.tempDir('untrusted-cache');
      const registry = await session.registry({ cacheDir });
      for (const [what, call] of [
        ['list()', () => registry.list() as Promise<unknown>],
        ['fetch()', () => registry.fetch(echo.kind, echo.id)],
      ] as const) {
        const outcome = await settle(call());
        // Core's one mapping of a TLS failure (a network error, so stale-if-error could serve a cached copy).
        expect(outcomeCode(outcome), `${what}: ${describeOutcome(outcome)}`).toBe('E_UNREACHABLE');
        const message = outcome.ok ? '' : String((outcome.error as { message?: unknown }).message);
        expect(/certificate/i.test(message) && /["`]ca["`]/.test(message), `${what}: the message names the certificate and the "ca" option: ${message}`).toBe(
          true,
        );
      }
      expect([...(await readTree(cacheDir)).keys()], 'files in the cache after the refused calls').toEqual([]);
    });
  });
}
