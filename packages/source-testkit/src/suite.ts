import { registerAbortChecks } from './checks/abort.js';
import { registerContentChecks } from './checks/contents.js';
import { registerCredentialChecks } from './checks/credentials.js';
import { registerMutationChecks } from './checks/mutation.js';
import { registerLimitChecks, registerTransportChecks } from './checks/transport.js';
import type { CheckContext } from './context.js';
import type { ConformanceOptions, SourceHarness } from './harness.js';
import type { ConformanceRunner } from './runner.js';
import { ConformanceSession } from './session.js';
import { opensslAvailable } from './tls.js';

const DEFAULT_TIMEOUT = 30_000;

/**
 * Registers the conformance suite for one source with the caller's test runner.
 *
 * Checks that only read share one published registry (set up on first use, torn down in `afterAll`); checks that
 * change it get a registry of their own, so the order tests run in never matters. Everything goes through core's
 * `createRegistry` with the harness's adapters, plus direct calls on the adapter's `create()` result where the
 * contract itself is what is checked.
 *
 * @param runner The runner's `describe`, `test`, `expect` and, ideally, `beforeAll`/`afterAll` (without `afterAll`
 *   the shared registry is not torn down).
 * @param harness Publishes the fixture registry through the source's medium.
 * @param options Groups to switch off where the medium lacks a capability, and the per-test timeout.
 */
export function runSourceConformance(runner: ConformanceRunner, harness: SourceHarness, options: ConformanceOptions = {}): void {
  const skip = options.skip ?? {};
  const timeout = options.timeout ?? DEFAULT_TIMEOUT;
  let shared: Promise<ConformanceSession> | undefined;
  let https: Promise<ConformanceSession> | undefined;

  const context: CheckContext = {
    expect: runner.expect,
    describe: (name, body) => runner.describe(name, body),
    test: (name, body) => {
      runner.test(name, body, timeout);
    },
    prepareShared: () => {
      runner.beforeAll?.(async () => {
        await context.shared();
      }, timeout);
    },
    shared: () => {
      shared ??= ConformanceSession.start(harness);
      return shared;
    },
    prepareHttps: () => {
      runner.beforeAll?.(async () => {
        await context.https();
      }, timeout);
    },
    https: () => {
      https ??= ConformanceSession.start(harness, 'https');
      return https;
    },
    fresh: async (body) => {
      const session = await ConformanceSession.start(harness);
      try {
        await body(session);
      } finally {
        await session.close();
      }
    },
  };

  runner.describe(`source conformance: ${harness.name}`, () => {
    runner.afterAll?.(async () => {
      // A failed setup has nothing to close; its error was already reported by the tests that needed it.
      const sessions = await Promise.all([shared?.catch(() => undefined), https?.catch(() => undefined)]);
      await Promise.all(sessions.map((session) => session?.close()));
    }, timeout);

    registerContentChecks(context, { indexEntryAdditions: options.indexEntryAdditions ?? [] });
    if (!skip.mutation) registerMutationChecks(context, { symlinks: !skip.unsafePath });
    if (!skip.abort) registerAbortChecks(context);
    if (!skip.credentials) registerCredentialChecks(context);
    // Without the hook there is nothing to serve over HTTPS, and without openssl no certificate to serve it with.
    // Sources with an `https` hook are HTTP sources: they take core's transport options, limits among them.
    if (!skip.limits && harness.https) registerLimitChecks(context);
    if (!skip.tls && harness.https && opensslAvailable()) registerTransportChecks(context);
  });
}
