/**
 * Every step that talks to the server has a total deadline (issue 11, defect 6): a server that trickles one byte
 * every 2 s kept the isomorphic engine waiting more than 330 s, and native git's only guard, `http.lowSpeedLimit 1`
 * for `http.lowSpeedTime 60`, never ends a trickle of a byte a second or faster. The trickle and the stall here come
 * from the fault proxy in front of a real git smart-HTTP server; the trickle sends 2 bytes/s, above git's low-speed
 * limit and never idle long enough for an idle timeout, so only a deadline can end it. Each case sets the one option
 * under test to a few seconds (the other keeps its default of minutes) and checks that the step ends within a
 * generous bound of it, as E_UNREACHABLE naming that option.
 */
import { readdir, readFile } from 'node:fs/promises';
import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type FaultRule, makeTempDir, startFaultProxy, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRegistry, pageRegistry, TOOL_ID, toolCode } from './support/registry.js';

/** The deadline under test, and the bound within which the failing call must have returned. */
const DEADLINE_MS = 3_000;
// Generous: CI is a loaded 2-core machine, and a cold fetch is a few git processes before the step that stalls.
const BOUND_MS = DEADLINE_MS + 10_000;
/** Long enough that a step that is not ended by its deadline shows up as a failure, not as a slow pass. */
const TEST_TIMEOUT_MS = 60_000;

const cleanup = new Cleanup();
let root: string;
beforeAll(async () => {
  root = (await cleanup.add(makeTempDir('git-deadlines-'))).path;
});
afterAll(() => cleanup.run());

type Path = 'info/refs' | 'git-upload-pack';
type Hostile = 'trickle' | 'stall';

const FAULTS: Record<Hostile, FaultRule> = {
  // 2 bytes/s: faster than git's low-speed limit, and never idle for long.
  trickle: { kind: 'trickle', intervalMs: 500 },
  // The headers, then nothing: idle timeouts end this one after 60 s, the deadline much sooner.
  stall: { kind: 'stall' },
};

let repoCounter = 0;
/** A repository of its own behind a git HTTP server and a fault proxy; `arm` makes every request to `path` hostile. */
async function served() {
  const name = `registry-${++repoCounter}`;
  const repo = await cleanup.add(createGitRepo(pageRegistry('v1'), { root, name }));
  const server = await cleanup.add(startGitHttpServer({ root }));
  const proxy = await cleanup.add(startFaultProxy({ target: server.url }));
  const arm = (path: Path, hostile: Hostile) => proxy.setFaults([{ ...FAULTS[hostile], path: `/${name}.git/${path}` }]);
  return { repo, proxy, location: `${proxy.url}${name}.git`, arm };
}

async function settleError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRegistryError(error)) throw new Error(`expected a RegistryError, got ${String(error)}`);
  return error;
}

/** Runs `call` and returns how long it took and the RegistryError it failed with. */
async function timedFailure(call: () => Promise<unknown>): Promise<{ ms: number; error: RegistryError }> {
  const started = Date.now();
  const error = await settleError(call());
  return { ms: Date.now() - started, error };
}

/**
 * The command lines of processes still talking to `port`, once they had a moment to go: a git command stopped by
 * its deadline must take its children (git-remote-http, index-pack) with it. Asks /proc, so Linux only (elsewhere
 * simple-git still kills git itself).
 */
async function processesTalkingTo(port: number): Promise<string[]> {
  let left: string[] = [];
  // A deadline, not a number of sweeps: on a loaded machine one sweep of /proc and a SIGTERM both take a while.
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    left = [];
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
      if (cmdline.includes(`127.0.0.1:${port}`)) left.push(cmdline.replaceAll('\0', ' '));
    }
    if (left.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return left;
}

function expectDeadline(error: RegistryError, option: 'timeouts.index' | 'timeouts.entry'): void {
  expect(error.code).toBe('E_UNREACHABLE');
  expect(error.registry).toBe('corp');
  expect(error.message).toContain(option);
  expect(error.message).toContain('raise');
}

describe.each(['isomorphic', 'native'] as const)('%s engine: deadlines', (engine) => {
  test.each(['trickle', 'stall'] as const)(
    'a revision check (ref listing) that meets a %s ends at timeouts.index: E_UNREACHABLE naming it',
    { timeout: TEST_TIMEOUT_MS },
    async (hostile) => {
      const { location, arm } = await served();
      arm('info/refs', hostile);
      const { registry } = await openRegistry({ engine, location, timeouts: { index: DEADLINE_MS } });
      const { ms, error } = await timedFailure(() => registry.list());
      await registry.close();
      expectDeadline(error, 'timeouts.index');
      expect(ms).toBeLessThan(BOUND_MS);
    },
  );

  // The first pack request reads the index. Native (partial clone) fetches only the commit's trees and registry.json
  // then, an index-sized download; isomorphic-git has no partial clone, so its first pack holds every entry's files.
  const indexRead = engine === 'native' ? 'timeouts.index' : 'timeouts.entry';
  test(`a trickled first pack (reading the index) ends at ${indexRead}: E_UNREACHABLE naming it`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const { location, arm, proxy } = await served();
    arm('git-upload-pack', 'trickle');
    const option = indexRead === 'timeouts.index' ? { index: DEADLINE_MS } : { entry: DEADLINE_MS };
    const { registry } = await openRegistry({ engine, location, timeouts: option });
    const { ms, error } = await timedFailure(() => registry.list());
    expectDeadline(error, indexRead);
    expect(ms).toBeLessThan(BOUND_MS);
    // The mirror keeps nothing of the fetch that was stopped: with the server well again, the same registry reads.
    proxy.setFaults([]);
    expect((await registry.list()).map((entry) => entry.id)).toContain(TOOL_ID);
    await registry.close();
  });

  test('a trickled revision check on a warm cache: the cached copy is served stale (W_STALE naming timeouts.index)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { repo, location, arm } = await served();
    const warm = await openRegistry({ engine, location });
    await warm.registry.fetch('tool', TOOL_ID);
    await warm.registry.close();
    await repo.commit('main', pageRegistry('v2'));

    arm('info/refs', 'trickle');
    const during = await openRegistry({ engine, location, timeouts: { index: DEADLINE_MS } }, { cacheDir: warm.cacheDir, refresh: true });
    const started = Date.now();
    const stale = await during.registry.fetch('tool', TOOL_ID);
    const ms = Date.now() - started;
    await during.registry.close();
    expect(stale.stale).toBe(true);
    expect(await toolCode(stale.dir)).toContain('// v1');
    const warning = during.warnings.find((w) => w.code === 'W_STALE');
    expect(warning?.message).toContain('E_UNREACHABLE');
    expect(warning?.message).toContain('timeouts.index');
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('native engine: deadlines of entry downloads', () => {
  test.each(['trickle', 'stall'] as const)(
    "a fetch of an entry's files that meets a %s ends at timeouts.entry: E_UNREACHABLE naming it, no git process left",
    { timeout: TEST_TIMEOUT_MS },
    async (hostile) => {
      const { location, arm, proxy } = await served();
      const { registry } = await openRegistry({ engine: 'native', location, timeouts: { entry: DEADLINE_MS } });
      // The index (trees and registry.json) arrives untouched; only the entry's own files then trickle or stall.
      await registry.list();
      arm('git-upload-pack', hostile);
      const { ms, error } = await timedFailure(() => registry.fetch('tool', TOOL_ID));
      expectDeadline(error, 'timeouts.entry');
      expect(ms).toBeLessThan(BOUND_MS);
      // A stalled git-remote-http would wait on its socket long after git itself was killed.
      if (process.platform === 'linux') expect(await processesTalkingTo(proxy.port)).toEqual([]);
      // Nothing half-fetched counts: with the server well again, the same registry fetches the entry.
      proxy.setFaults([]);
      expect(await toolCode((await registry.fetch('tool', TOOL_ID)).dir)).toContain('// v1');
      await registry.close();
    },
  );

  test('sparse: false fetches the whole commit when reading the index, an entry download: a trickle ends at timeouts.entry', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    const { location, arm } = await served();
    arm('git-upload-pack', 'trickle');
    const { registry } = await openRegistry({ engine: 'native', location, sparse: false, timeouts: { entry: DEADLINE_MS } });
    const { ms, error } = await timedFailure(() => registry.list());
    await registry.close();
    expectDeadline(error, 'timeouts.entry');
    expect(ms).toBeLessThan(BOUND_MS);
  });
});
