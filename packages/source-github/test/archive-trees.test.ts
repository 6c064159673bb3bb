import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { ArchiveTrees } from '../src/archive-trees.js';

const SHA = 'a'.repeat(40);
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function root(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archive-trees-'));
  roots.push(dir);
  return dir;
}

/** A filler that waits until the test releases it, recording the signal it was given. */
function gatedFiller() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: AbortSignal[] = [];
  const fill = async (sha: string, destination: string, signal: AbortSignal) => {
    calls.push(signal);
    await Promise.race([gate, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
    await writeFile(join(destination, 'registry.json'), `{"sha":"${sha}"}`);
  };
  return { fill, calls, release };
}

/** Waits (without a clock) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : String(error)),
  );

describe('ArchiveTrees', () => {
  test('concurrent callers share one download; one giving up does not cancel it for the others', async () => {
    const dir = await root();
    const { fill, calls, release } = gatedFiller();
    const trees = new ArchiveTrees('custom', fill);
    const impatient = new AbortController();
    const first = trees.get(dir, SHA, impatient.signal);
    const second = trees.get(dir, SHA, new AbortController().signal);
    await until(() => calls.length > 0);
    impatient.abort();
    expect(await codeOf(first)).toBe('E_ABORTED');
    expect(calls[0]!.aborted).toBe(false);
    release();
    const folder = await second;
    expect(await readFile(join(folder, 'registry.json'), 'utf8')).toBe(`{"sha":"${SHA}"}`);
    // Done once: later callers read the folder without downloading again.
    expect(await trees.get(dir, SHA, new AbortController().signal)).toBe(folder);
    expect(calls).toHaveLength(1);
  });

  test('when every caller gives up, the download is cancelled and nothing is left behind', async () => {
    const dir = await root();
    const { fill, calls } = gatedFiller();
    const trees = new ArchiveTrees('custom', fill);
    const a = new AbortController();
    const b = new AbortController();
    const first = trees.get(dir, SHA, a.signal);
    const second = trees.get(dir, SHA, b.signal);
    await until(() => calls.length > 0);
    a.abort();
    b.abort();
    expect([await codeOf(first), await codeOf(second)]).toEqual(['E_ABORTED', 'E_ABORTED']);
    expect(calls[0]!.aborted).toBe(true);
    // The partial folder goes once the cancelled download has unwound.
    let left = ['?'];
    while (left.length > 0) left = await readdir(join(dir, 'trees'));
    expect(left).toEqual([]);
  });

  test('a caller whose signal fires before it joins is rejected at once, not left waiting', async () => {
    const dir = await root();
    const { fill } = gatedFiller();
    const trees = new ArchiveTrees('custom', fill);
    const controller = new AbortController();
    const pending = trees.get(dir, SHA, controller.signal);
    controller.abort();
    expect(await codeOf(pending)).toBe('E_ABORTED');
  });

  test('keeps the three most recently used revisions', async () => {
    const dir = await root();
    const trees = new ArchiveTrees('custom', async (sha, destination) => writeFile(join(destination, 'sha'), sha));
    const shas = ['1', '2', '3', '4', '5'].map((digit) => digit.repeat(40));
    for (const sha of shas) {
      await trees.get(dir, sha, new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect((await readdir(join(dir, 'trees'))).sort()).toEqual(shas.slice(2));
  });
});
