import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckContext } from '../context.js';
import { describeOutcome, outcomeCode, settle } from '../errors.js';
import { conformanceFixture } from '../fixture.js';
import { addEscapingEntry, addEscapingSymlink, EDITED_ECHO_CODE, EDITED_UPDATED, editEchoTool, ESCAPING_ENTRY_ID } from '../mutations.js';

const echo = conformanceFixture.entries[0]!;

/** Checks that publish a change through the harness's `update`: a new revision, and what core refuses. */
export function registerMutationChecks({ describe, test, expect, fresh }: CheckContext, options: { symlinks: boolean }): void {
  describe('updates', () => {
    test('revision changes after an update, and the new content is served', async () => {
      await fresh(async (session) => {
        const source = session.source();
        const ctx = await session.callContext();
        const before = await source.revision(ctx);
        if (before === 'unchanged') throw new Error("revision() answered 'unchanged' without a previous revision");
        await session.published.update(editEchoTool);

        const after = await source.revision({ ...ctx, previous: before });
        expect(after === 'unchanged' ? 'unchanged' : after.id, 'revision() after update (must differ from before)').not.toBe(before.id);
        expect(after, "revision() after update (must not be 'unchanged')").not.toBe('unchanged');
        if (after === 'unchanged') return;

        const index = JSON.parse(Buffer.from(await source.readIndex(after, ctx)).toString('utf8')) as { updated?: unknown };
        expect(index.updated, 'registry.json `updated` read after the update').toBe(EDITED_UPDATED);
        const registry = await session.registry();
        const fetched = await registry.fetch('tool', echo.id);
        expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8'), 'src/index.js fetched after the update').toBe(EDITED_ECHO_CODE);
      });
    });
  });

  describe('path safety', () => {
    test("an index entry with path '../outside' is E_UNSAFE_PATH", async () => {
      await fresh(async (session) => {
        await session.published.update(addEscapingEntry);
        const registry = await session.registry();
        const outcome = await settle(registry.fetch('tool', ESCAPING_ENTRY_ID));
        expect(outcomeCode(outcome), describeOutcome(outcome)).toBe('E_UNSAFE_PATH');
      });
    });

    if (options.symlinks) {
      test('a symlink inside an entry that points outside it is E_UNSAFE_PATH on fetch', async () => {
        await fresh(async (session) => {
          await session.published.update(addEscapingSymlink);
          const registry = await session.registry();
          const outcome = await settle(registry.fetch('tool', echo.id));
          expect(outcomeCode(outcome), describeOutcome(outcome)).toBe('E_UNSAFE_PATH');
        });
      });
    }
  });
}
