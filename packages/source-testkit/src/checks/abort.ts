import type { CheckContext } from '../context.js';
import { describeOutcome, outcomeCode, settle } from '../errors.js';
import { conformanceFixture } from '../fixture.js';

const echo = conformanceFixture.entries[0]!;

/** Core's one E_ABORTED wording (abortError, throwIfAborted): "<What> for registry "<name>" was aborted." */
const ONE_WORDING = / for registry "conformance" was aborted\.$/;

function abortedSignal(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

/** Checks that an aborted call stops: through core, and on the source itself. */
export function registerAbortChecks({ describe, test, expect, shared, prepareShared }: CheckContext): void {
  describe('abort', () => {
    prepareShared();
    test('fetch with an already-aborted signal is E_ABORTED', async () => {
      const registry = await (await shared()).registry();
      const outcome = await settle(registry.fetch('tool', echo.id, { signal: abortedSignal() }));
      expect(outcomeCode(outcome), describeOutcome(outcome)).toBe('E_ABORTED');
      // One wording for every source: core's abortError ("<What> for registry "<name>" was aborted.").
      const message = outcome.ok ? '' : String((outcome.error as { message?: unknown })?.message);
      expect(ONE_WORDING.test(message), `the E_ABORTED message ends 'for registry "conformance" was aborted.': ${message}`).toBe(true);
    });

    test('materialize with an already-aborted signal rejects', async () => {
      const session = await shared();
      const { entry } = await (await session.registry()).resolve('tool', echo.id);
      const source = session.source();
      const revision = await source.revision(await session.callContext());
      if (revision === 'unchanged') throw new Error("revision() answered 'unchanged' without a previous revision");
      const ctx = await session.callContext({ signal: abortedSignal() });
      const outcome = await settle(source.materialize({ path: entry.path, entry: entry.raw, revision, destination: await session.tempDir('aborted') }, ctx));
      // Core maps an AbortError to E_ABORTED, so a source may throw either.
      const name = outcome.ok ? undefined : (outcome.error as { name?: unknown } | null)?.name;
      const code = outcomeCode(outcome);
      expect(code === 'E_ABORTED' || name === 'AbortError' ? 'aborted' : code, describeOutcome(outcome)).toBe('aborted');
      // A source that words E_ABORTED itself uses core's one wording (abortError / throwIfAborted), not its own.
      if (!outcome.ok && code === 'E_ABORTED') {
        const message = String((outcome.error as { message?: unknown }).message);
        expect(ONE_WORDING.test(message), `the E_ABORTED message ends 'for registry "conformance" was aborted.': ${message}`).toBe(true);
      }
    });
  });
}
