import { join } from 'node:path';
import { hashDirectory, type SourceRevision } from '@agentos-registry/core';
import type { CheckContext } from '../context.js';
import { conformanceFixture } from '../fixture.js';
import { CONFORMANCE_REGISTRY } from '../session.js';
import { describeOutcome, outcomeCode, settle } from '../errors.js';
import { expectEntryFolder } from './compare.js';

/** Decodes what `readIndex` returned (bytes or text) into the JSON document. */
function parseIndex(bytes: Uint8Array | string): unknown {
  return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
}

/** A revision that must be a real answer: `'unchanged'` is only allowed when the caller passed `previous`. */
function expectRevision(expect: CheckContext['expect'], answer: SourceRevision | 'unchanged', what: string): SourceRevision {
  expect(typeof answer === 'object' && typeof answer.id === 'string' && answer.id.length > 0, `${what} is a revision with a non-empty id`).toBe(true);
  return answer as SourceRevision;
}

/**
 * The index without the fields a medium adds to every entry, after checking that each entry has them (a static site
 * adds `dist`). With no additions the document is returned as it is.
 */
function withoutAdditions(expect: CheckContext['expect'], index: unknown, additions: readonly string[]): unknown {
  if (additions.length === 0) return index;
  const doc = structuredClone(index) as Record<string, Record<string, Array<Record<string, unknown>>> | unknown>;
  for (const section of ['extensions', 'personas']) {
    const tiers = doc[section] as Record<string, Array<Record<string, unknown>>> | undefined;
    for (const [tier, entries] of Object.entries(tiers ?? {})) {
      for (const entry of entries) {
        for (const field of additions) {
          expect(field in entry, `${section}.${tier} entry ${String(entry.id)} carries the medium's "${field}"`).toBe(true);
          delete entry[field];
        }
      }
    }
  }
  return doc;
}

/** Checks that read the published registry without changing it: revision, index, list, fetch, materialize. */
export function registerContentChecks(
  { describe, test, expect, shared, prepareShared }: CheckContext,
  options: { indexEntryAdditions: readonly string[] } = { indexEntryAdditions: [] },
): void {
  describe('revision and index', () => {
    prepareShared();
    test('revision is stable while nothing changes', async () => {
      const session = await shared();
      const source = session.source();
      const ctx = await session.callContext();
      const first = expectRevision(expect, await source.revision(ctx), 'the first revision()');
      const again = await source.revision({ ...ctx, previous: first });
      expect(again === 'unchanged' ? first.id : again.id, 'revision() asked again with `previous`').toBe(first.id);
      // A second instance (a fresh process, in effect) must name the same content the same way.
      const other = session.source();
      const fromOther = expectRevision(expect, await other.revision(await session.callContext()), 'revision() of a second instance');
      expect(fromOther.id, 'revision() of a second instance').toBe(first.id);
    });

    test("readIndex returns the fixture's registry.json", async () => {
      const session = await shared();
      const source = session.source();
      const ctx = await session.callContext();
      const revision = expectRevision(expect, await source.revision(ctx), 'revision()');
      const index = withoutAdditions(expect, parseIndex(await source.readIndex(revision, ctx)), options.indexEntryAdditions);
      expect(index, 'registry.json as read by readIndex').toEqual(conformanceFixture.index);
    });

    test("list() returns the fixture's entries", async () => {
      const registry = await (await shared()).registry();
      const rows = await registry.list();
      expect(rows.map((row) => `${row.registry} ${row.id}@${row.version}`).sort(), 'list() rows as "registry id@version"').toEqual(
        conformanceFixture.entries.map((entry) => `${CONFORMANCE_REGISTRY} ${entry.id}@1.0.0`).sort(),
      );
    });
  });

  describe('entries', () => {
    prepareShared();
    for (const entry of conformanceFixture.entries) {
      test(`fetch('${entry.kind}', '${entry.id}') yields exactly the fixture's files`, async () => {
        const session = await shared();
        const registry = await session.registry();
        const fetched = await registry.fetch(entry.kind, entry.id);
        await expectEntryFolder(expect, session, fetched.dir, entry, 'fetch');
        // Core records the same hash it would compute for the pristine fixture folder.
        const reference = join(await session.referenceDir(), entry.folder);
        expect(fetched.integrity, `integrity of ${entry.id}`).toBe(await hashDirectory(reference));
      });
    }

    test("materialize writes exactly the entry's files into the destination", async () => {
      const session = await shared();
      const registry = await session.registry();
      const source = session.source();
      for (const entry of conformanceFixture.entries) {
        // The path as core hands it over (normalized from the index), so the kit does not re-implement core's rules.
        const { entry: indexed } = await registry.resolve(entry.kind, entry.id);
        const ctx = await session.callContext();
        const revision = expectRevision(expect, await source.revision(ctx), 'revision()');
        const destination = await session.tempDir('materialized');
        await source.materialize({ path: indexed.path, entry: indexed.raw, revision, destination }, ctx);
        await expectEntryFolder(expect, session, destination, entry, 'materialize');
      }
    });

    test('what the source declares is what it has: a snapshot or per-entry reads, `local` only with locate', async () => {
      const session = await shared();
      const { built } = session.source();
      const has = (name: 'snapshot' | 'readIndex' | 'materialize' | 'locate') => typeof built[name] === 'function';
      const shape = has('snapshot') ? 'snapshot' : has('readIndex') && has('materialize') ? 'per entry' : 'neither';
      expect(shape, 'snapshot(), or both readIndex() and materialize()').not.toBe('neither');
      expect(
        Object.keys(built.flags ?? {}).filter((flag) => flag !== 'local'),
        'flags core acts on (only `local`)',
      ).toEqual([]);
      if (built.flags?.local) expect(has('locate'), 'a source with flags.local has locate()').toBe(true);
      for (const [name, role] of Object.entries(Array.isArray(session.adapter().options) ? {} : (session.adapter().options ?? {}))) {
        expect(['identity', 'transport', 'secret'], `role of option "${name}"`).toContain(role);
      }
    });

    test('locate (local sources only) returns the folder holding the entry', async () => {
      const session = await shared();
      const source = session.source();
      if (!source.flags?.local || !source.locate) return; // Not a local source: nothing to serve in place.
      const registry = await session.registry();
      for (const entry of conformanceFixture.entries) {
        const { entry: indexed } = await registry.resolve(entry.kind, entry.id);
        const ctx = await session.callContext();
        const revision = expectRevision(expect, await source.revision(ctx), 'revision()');
        await expectEntryFolder(expect, session, await source.locate(indexed.path, revision, ctx), entry, 'locate');
      }
    });

    test('an unknown entry id is E_NOT_FOUND', async () => {
      const registry = await (await shared()).registry();
      const outcome = await settle(registry.fetch('tool', 'com.conformance.no-such-entry'));
      expect(outcomeCode(outcome), describeOutcome(outcome)).toBe('E_NOT_FOUND');
    });
  });
}
