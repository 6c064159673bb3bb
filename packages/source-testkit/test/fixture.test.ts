import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashDirectory, parseRegistryIndex } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { conformanceFixture, writeConformanceFixture } from '../src/index.js';
import { readTree } from '../src/tree.js';

const made: string[] = [];
async function temp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'testkit-fixture-'));
  made.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('conformance fixture', () => {
  test('writes registry.json and exactly the files of every entry', async () => {
    const { dir } = await writeConformanceFixture(await temp());
    const expected = ['registry.json'];
    for (const entry of conformanceFixture.entries) for (const file of Object.keys(entry.files)) expected.push(`${entry.folder}/${file}`);
    expect([...(await readTree(dir)).keys()].sort()).toEqual(expected.sort());
  });

  test('is deterministic: two writes hash alike', async () => {
    const a = await writeConformanceFixture(await temp());
    const b = await writeConformanceFixture(await temp());
    expect(await hashDirectory(a.dir)).toBe(await hashDirectory(b.dir));
  });

  test("core reads the index in the page's shape, with paths that lead to the entry folders", async () => {
    const { dir } = await writeConformanceFixture(await temp());
    const index = parseRegistryIndex(await readFile(join(dir, 'registry.json')), { registry: 'fixture' });
    expect(index.entries.map((e) => [e.id, e.section, e.tier, e.path])).toEqual(conformanceFixture.entries.map((e) => [e.id, e.section, 'curated', e.folder]));
  });

  test('has two tools and one persona', () => {
    expect(conformanceFixture.entries.map((e) => e.kind)).toEqual(['tool', 'tool', 'persona']);
    expect(Object.isFrozen(conformanceFixture.index)).toBe(true);
  });
});
