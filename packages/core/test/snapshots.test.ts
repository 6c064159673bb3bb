import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeterministicTarball } from '../src/archive-pack.js';
import type { RegistrySource, SourceCallContext } from '../src/contract.js';
import { isRegistryError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { readSource, Snapshots } from '../src/snapshots.js';

const SHA = 'a'.repeat(40);
const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
});

async function root(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'snapshots-'));
  roots.push(dir);
  return dir;
}

/** A tarball of one folder holding `registry.json` = `{"sha": …}` and one entry, under a GitHub-like top folder. */
async function tarballFor(sha: string): Promise<Buffer> {
  const dir = await root();
  await mkdir(join(dir, 'registry/curated/echo'), { recursive: true });
  await writeFile(join(dir, 'registry.json'), `{"sha":"${sha}"}`);
  await writeFile(join(dir, 'registry/curated/echo/manifest.json'), '{}');
  return createDeterministicTarball(dir, { prefix: 'top' });
}

/** A snapshot source that waits until the test releases it, recording the signal each snapshot() call was given. */
function gatedSource() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: AbortSignal[] = [];
  const source: RegistrySource = {
    displayLocation: 'test://gated',
    revision: async () => ({ id: SHA }),
    snapshot: async (revision, ctx) => {
      calls.push(ctx.signal);
      await Promise.race([gate, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }))]);
      return { archive: await tarballFor(revision.id), strip: 1 };
    },
  };
  return { source, calls, release };
}

function callContext(workDir: string, signal: AbortSignal): SourceCallContext {
  return { registry: 'custom', signal, logger: silentLogger, workDir };
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

describe('snapshots', () => {
  test('concurrent callers share one download; one giving up does not cancel it for the others', async () => {
    const dir = await root();
    const { source, calls, release } = gatedSource();
    const trees = new Snapshots();
    const reg = { name: 'custom', source };
    const get = (signal: AbortSignal) => trees.tree(reg, { id: SHA }, callContext(dir, signal));
    const impatient = new AbortController();
    const first = get(impatient.signal);
    const second = get(new AbortController().signal);
    await until(() => calls.length > 0);
    impatient.abort();
    expect(await codeOf(first)).toBe('E_ABORTED');
    expect(calls[0]!.aborted).toBe(false);
    release();
    const folder = await second;
    expect(await readFile(join(folder, 'registry.json'), 'utf8')).toBe(`{"sha":"${SHA}"}`);
    // Done once: later callers read the folder without downloading again.
    expect(await get(new AbortController().signal)).toBe(folder);
    expect(calls).toHaveLength(1);
    // And core's reader serves the index and an entry from it, in another instance sharing the work folder.
    const read = readSource(source, 'custom');
    expect(Buffer.from(await read.readIndex({ id: SHA }, callContext(dir, new AbortController().signal))).toString()).toBe(`{"sha":"${SHA}"}`);
    const destination = await root();
    await read.materialize({ path: 'registry/curated/echo', entry: {}, revision: { id: SHA }, destination }, callContext(dir, new AbortController().signal));
    expect(await readdir(destination)).toEqual(['manifest.json']);
    expect(calls).toHaveLength(1);
  });

  test('when every caller gives up, the download is cancelled and nothing is left behind', async () => {
    const dir = await root();
    const { source, calls } = gatedSource();
    const trees = new Snapshots();
    const reg = { name: 'custom', source };
    const a = new AbortController();
    const b = new AbortController();
    const first = trees.tree(reg, { id: SHA }, callContext(dir, a.signal));
    const second = trees.tree(reg, { id: SHA }, callContext(dir, b.signal));
    await until(() => calls.length > 0);
    a.abort();
    b.abort();
    expect([await codeOf(first), await codeOf(second)]).toEqual(['E_ABORTED', 'E_ABORTED']);
    expect(calls[0]!.aborted).toBe(true);
    // The partial folder goes once the cancelled download has unwound.
    let left = ['?'];
    while (left.length > 0) left = await readdir(join(dir, 'snapshots'));
    expect(left).toEqual([]);
  });

  test('a caller whose signal fires before it joins is rejected at once, not left waiting', async () => {
    const dir = await root();
    const { source } = gatedSource();
    const trees = new Snapshots();
    const controller = new AbortController();
    const pending = trees.tree({ name: 'custom', source }, { id: SHA }, callContext(dir, controller.signal));
    controller.abort();
    expect(await codeOf(pending)).toBe('E_ABORTED');
  });

  test('keeps the three most recently used revisions, and any other one used in the last minutes', async () => {
    const dir = await root();
    const source: RegistrySource = {
      displayLocation: 'test://plain',
      revision: async () => ({ id: SHA }),
      snapshot: async (revision) => ({ archive: await tarballFor(revision.id), strip: 1 }),
    };
    const trees = new Snapshots();
    const shas = ['1', '2', '3', '4', '5'].map((digit) => digit.repeat(40));
    const folders: string[] = [];
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
    for (const [i, sha] of shas.slice(0, 4).entries()) {
      folders.push(await trees.tree({ name: 'custom', source }, { id: sha }, callContext(dir, new AbortController().signal)));
      // Last used 4, 3, 2, 1 hours ago: older than anything a reader elsewhere could still be using.
      await utimes(folders[i]!, hoursAgo(4 - i), hoursAgo(4 - i));
    }
    // Every revision so far was used hours ago: past the three most recent, the oldest ones go.
    expect((await readdir(join(dir, 'snapshots'))).sort()).toEqual(
      folders
        .slice(1)
        .map((folder) => basename(folder))
        .sort(),
    );
    // Hosts sharing the cache still read each of the three kept revisions now (every use touches the folder) …
    for (const folder of folders.slice(1)) await utimes(folder, new Date(), new Date());
    folders.push(await trees.tree({ name: 'custom', source }, { id: shas[4]! }, callContext(dir, new AbortController().signal)));
    // … so none is removed under them, although that makes four besides the new one's three.
    expect((await readdir(join(dir, 'snapshots'))).sort()).toEqual(
      folders
        .slice(1)
        .map((folder) => basename(folder))
        .sort(),
    );
  });
});
