import { hashDirectory } from '@agentos-registry/core';
import { join } from 'node:path';
import { type ConformanceFixtureEntry, fixtureBytes } from '../fixture.js';
import type { ConformanceExpect } from '../runner.js';
import type { ConformanceSession } from '../session.js';
import { readTree } from '../tree.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Asserts that `dir` holds exactly the fixture entry's files, byte for byte, and hashes like the pristine fixture
 * folder. File lists first, so a missing or extra file is reported as such rather than as a hash mismatch.
 */
export async function expectEntryFolder(
  expect: ConformanceExpect,
  session: ConformanceSession,
  dir: string,
  entry: ConformanceFixtureEntry,
  how: string,
): Promise<void> {
  const tree = await readTree(dir);
  expect([...tree.keys()], `files of ${entry.id} (${how})`).toEqual(Object.keys(entry.files).sort());
  for (const [relative, content] of Object.entries(entry.files)) {
    const node = tree.get(relative);
    const actual = node?.kind === 'file' ? hex(node.bytes) : `not a file: ${node?.kind ?? 'missing'}`;
    expect(actual, `bytes of ${entry.id}/${relative} (${how}), in hex`).toBe(hex(fixtureBytes(content)));
  }
  const reference = join(await session.referenceDir(), entry.folder);
  expect(await hashDirectory(dir), `hashDirectory of ${entry.id} (${how})`).toBe(await hashDirectory(reference));
}
