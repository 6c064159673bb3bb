import { inspect } from 'node:util';
import type { Logger } from '@agentos-registry/core';
import type { CheckContext } from '../context.js';
import { settle } from '../errors.js';
import { conformanceFixture } from '../fixture.js';
import { CONFORMANCE_TOKEN } from '../session.js';

const echo = conformanceFixture.entries[0]!;

/** A logger that keeps every line (message and data) for inspection. */
function capturingLogger(lines: string[]): Logger {
  const keep = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push(`${level}: ${message} ${data === undefined ? '' : inspect(data, { depth: 8 })}`);
  };
  return { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/**
 * Every way a value can be shown: its message and stack, its JSON, and `util.inspect`, which walks `cause` chains
 * and own properties (where a token hides in a copied config or request object).
 */
function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 12, showHidden: false, getters: false })];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch {
    // Circular values cannot be JSON; inspect above still covers them.
  }
  for (let error = value, depth = 0; error instanceof Error && depth < 8; error = error.cause, depth += 1) {
    out.push(String(error), error.message, error.stack ?? '');
  }
  return out;
}

/** Checks that the token of a registry never shows in anything the source or core returns, throws or logs. */
export function registerCredentialChecks({ describe, test, expect, shared, prepareShared }: CheckContext): void {
  describe('credentials', () => {
    prepareShared();
    test('a configured token appears in no result, error, stack or log line', async () => {
      const session = await shared();
      // A harness whose server checks a token of its own supplies it; otherwise the kit's is used.
      const secret = typeof session.published.config.token === 'string' ? session.published.config.token : CONFORMANCE_TOKEN;
      const lines: string[] = [];
      const logger = capturingLogger(lines);
      const seen: Array<[string, unknown]> = [];

      const registry = await session.registry({ token: secret, logger });
      seen.push(['list()', await settle(registry.list())]);
      seen.push(['fetch()', await settle(registry.fetch('tool', echo.id))]);
      seen.push(['info()', await settle(registry.info('tool', echo.id))]);
      seen.push(['fetch() of an unknown id', await settle(registry.fetch('tool', 'com.conformance.no-such-entry'))]);
      const controller = new AbortController();
      controller.abort();
      seen.push(['aborted fetch()', await settle(registry.fetch('tool', echo.id, { signal: controller.signal }))]);

      const source = session.source({ token: secret, logger });
      seen.push(['displayLocation', source.displayLocation]);
      const ctx = await session.callContext({ logger });
      const revision = await settle(source.revision(ctx));
      seen.push(['revision()', revision]);
      if (revision.ok && revision.value !== 'unchanged') {
        const missing = {
          path: 'registry/curated/no-such-entry',
          entry: { id: 'com.conformance.no-such-entry' },
          revision: revision.value,
          destination: await session.tempDir('missing'),
        };
        seen.push(['materialize() of a missing folder', await settle(source.materialize(missing, ctx))]);
      }

      const encoded = Buffer.from(secret).toString('base64');
      const leaks: string[] = [];
      for (const [what, value] of seen) {
        if (renderings(value).some((text) => text.includes(secret) || text.includes(encoded))) leaks.push(what);
      }
      for (const line of lines) if (line.includes(secret) || line.includes(encoded)) leaks.push(`log line "${line.slice(0, 80)}"`);
      expect(leaks, 'places where the token showed').toEqual([]);
    });
  });
}
