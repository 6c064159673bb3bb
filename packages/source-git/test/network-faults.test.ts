/**
 * A network fault is E_UNREACHABLE at whatever stage it hits, so a warm cache is served stale (issue 11). The
 * isomorphic engine got it wrong while the ref advertisement streamed: isomorphic-git takes a cut stream for its end,
 * so a reset became "Empty response from git server" (E_INTERNAL) or a partial list of refs ("no HEAD: it is empty",
 * E_NOT_FOUND), and a garbled pack an E_INTERNAL quoting the garbage. Each fault comes from the fault proxy in front
 * of a real git smart-HTTP server, once, on a refresh after a new commit; both engines must behave alike.
 */
import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type FaultRule, makeTempDir, startFaultProxy, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRegistry, pageRegistry, TOOL_ID, toolCode } from './support/registry.js';

const cleanup = new Cleanup();
let root: string;
beforeAll(async () => {
  root = (await cleanup.add(makeTempDir('git-network-faults-'))).path;
});
afterAll(() => cleanup.run());

type Stage = 'advertisement' | 'pack';
const FAULTS: Array<[name: string, stage: Stage, fault: FaultRule]> = [
  ['a reset before the ref advertisement', 'advertisement', { kind: 'reset', afterBytes: 0 }],
  ['a reset in the middle of the ref advertisement', 'advertisement', { kind: 'reset', afterBytes: 100 }],
  ['a ref advertisement cut short (clean close)', 'advertisement', { kind: 'truncate' }],
  ['a garbled ref advertisement', 'advertisement', { kind: 'garbage' }],
  ['a reset in the middle of the pack', 'pack', { kind: 'reset', afterBytes: 100 }],
  ['a garbled pack', 'pack', { kind: 'garbage' }],
];

let repoCounter = 0;
/** A repository of its own behind a git HTTP server and a fault proxy; `arm` makes the next matching request fail. */
async function served(stage: Stage, fault: FaultRule) {
  const name = `registry-${++repoCounter}`;
  const repo = await cleanup.add(createGitRepo(pageRegistry('v1'), { root, name }));
  const server = await cleanup.add(startGitHttpServer({ root }));
  const proxy = await cleanup.add(startFaultProxy({ target: server.url }));
  const path = stage === 'advertisement' ? `/${name}.git/info/refs` : `/${name}.git/git-upload-pack`;
  return { repo, proxy, location: `${proxy.url}${name}.git`, arm: () => proxy.setFaults([{ ...fault, path, times: 1 }]) };
}

async function settleError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRegistryError(error)) throw new Error(`expected a RegistryError, got ${String(error)}`);
  return error;
}

describe.each(['isomorphic', 'native'] as const)('%s engine: a network fault serves the stale copy', (engine) => {
  test.each(FAULTS)('%s: a warm cache is served stale (W_STALE), then the next fetch is fresh', async (_name, stage, fault) => {
    const { repo, location, arm } = await served(stage, fault);
    const warm = await openRegistry({ engine, location });
    await warm.registry.fetch('tool', TOOL_ID);
    await warm.registry.close();
    await repo.commit('main', pageRegistry('v2'));

    arm();
    const during = await openRegistry({ engine, location }, { cacheDir: warm.cacheDir, refresh: true });
    const stale = await during.registry.fetch('tool', TOOL_ID);
    await during.registry.close();
    expect(stale.stale).toBe(true);
    expect(await toolCode(stale.dir)).toContain('// v1');
    const warning = during.warnings.find((w) => w.code === 'W_STALE');
    expect(warning?.message).toContain('E_UNREACHABLE');
    expect(warning?.message).toContain('could not be reached at');

    const after = await openRegistry({ engine, location }, { cacheDir: warm.cacheDir, refresh: true });
    const fresh = await after.registry.fetch('tool', TOOL_ID);
    await after.registry.close();
    expect(fresh.stale).toBe(false);
    expect(await toolCode(fresh.dir)).toContain('// v2');
  });

  test.each(FAULTS)('%s: a cold cache is E_UNREACHABLE naming the registry', async (_name, stage, fault) => {
    const { location, arm } = await served(stage, fault);
    arm();
    const cold = await openRegistry({ engine, location });
    const error = await settleError(cold.registry.fetch('tool', TOOL_ID));
    await cold.registry.close();
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.registry).toBe('corp');
    // A garbled answer is described, never quoted (isomorphic-git says "but received …", git the bytes themselves).
    expect(error.message).not.toMatch(/received/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    if (fault.kind === 'garbage') expect(error.message).not.toMatch(/\uFFFD|[\u0000-\u001f\u007f-\u009f]/);
  });
});
