import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import {
  Cleanup,
  createGitRepo,
  type GitHttpServer,
  type GitRepo,
  makeTempDir,
  refusedPort,
  runGit,
  startFaultProxy,
  startGitHttpServer,
} from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { filesBelow, OTHER_ID, openRegistry, pageRegistry, TOOL_ID, toolCode } from './support/registry.js';

const cleanup = new Cleanup();
let root: string;
let home: string;

beforeAll(async () => {
  root = (await cleanup.add(makeTempDir('git-failures-'))).path;
  home = (await cleanup.add(makeTempDir('git-failures-home-'))).path;
});
afterAll(() => cleanup.run());

let repoCounter = 0;
/** A fresh repository and server of its own, so a test's faults and pushes touch no other test. */
async function served(): Promise<{ repo: GitRepo; server: GitHttpServer; url: string }> {
  const name = `registry-${++repoCounter}`;
  const repo = await cleanup.add(createGitRepo(pageRegistry('v1'), { root, name }));
  const server = await cleanup.add(startGitHttpServer({ root }));
  return { repo, server, url: server.repoUrl(name) };
}

async function settleError(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

/** Path → bytes of every file of core's cache except the source's own work folder (the git mirror). */
async function cacheSnapshot(cacheDir: string): Promise<Map<string, string>> {
  const snapshot = new Map<string, string>();
  for (const file of await filesBelow(cacheDir)) {
    const path = relative(cacheDir, file.path);
    if (path.split('/').includes('work') || path.split('/').includes('tmp')) continue;
    snapshot.set(path, file.bytes.toString('base64'));
  }
  return snapshot;
}

/** The native mirror inside a cache folder. */
async function nativeMirror(cacheDir: string): Promise<string> {
  const find = async (dir: string): Promise<string | undefined> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === 'native.git') return join(dir, entry.name);
      const below = await find(join(dir, entry.name));
      if (below) return below;
    }
    return undefined;
  };
  const found = await find(cacheDir);
  if (!found) throw new Error(`no native.git below ${cacheDir}`);
  return found;
}

describe.each(['native', 'isomorphic'] as const)('%s engine: failures', (engine) => {
  test('an unreachable server is E_UNREACHABLE naming the registry', async () => {
    const { registry } = await openRegistry({ engine, location: `http://127.0.0.1:${await refusedPort()}/registry.git` });
    const error = await settleError(registry.fetch('tool', TOOL_ID));
    await registry.close();
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.registry).toBe('corp');
    expect(error.message).toContain("'corp'");
  });

  test('a server that dies mid-fetch on a cold cache: E_UNREACHABLE, and the next fetch works', async () => {
    const { server, url } = await served();
    const { registry } = await openRegistry({ engine, location: url });
    server.failNext({ afterBytes: 100 });
    expect((await settleError(registry.fetch('tool', TOOL_ID))).code).toBe('E_UNREACHABLE');
    expect(server.requests.some((request) => request.aborted)).toBe(true);
    const fetched = await registry.fetch('tool', TOOL_ID);
    expect(await toolCode(fetched.dir)).toContain('// v1');
    await registry.close();
  });

  test('a server that dies mid-fetch of a new revision leaves the cache as it was; the stale copy is served, then the next fetch works', async () => {
    const { repo, server, url } = await served();
    const first = await openRegistry({ engine, location: url });
    await first.registry.fetch('tool', TOOL_ID);
    await first.registry.close();
    const before = await cacheSnapshot(first.cacheDir);
    await repo.commit('main', pageRegistry('v2'));

    server.failNext({ afterBytes: 100 });
    const during = await openRegistry({ engine, location: url }, { cacheDir: first.cacheDir, refresh: true });
    const stale = await during.registry.fetch('tool', TOOL_ID);
    await during.registry.close();
    expect(server.faultArmed).toBe(false);
    expect(stale.stale).toBe(true);
    expect(during.warnings.map((warning) => warning.code)).toContain('W_STALE');
    expect(await toolCode(stale.dir)).toContain('// v1');
    expect(await cacheSnapshot(first.cacheDir)).toEqual(before);

    const after = await openRegistry({ engine, location: url }, { cacheDir: first.cacheDir, refresh: true });
    const fresh = await after.registry.fetch('tool', TOOL_ID);
    await after.registry.close();
    expect(fresh.stale).toBe(false);
    expect(await toolCode(fresh.dir)).toContain('// v2');
  });

  test('a killed server: a cold registry is E_UNREACHABLE, a warm one is served stale', async () => {
    const { server, url } = await served();
    const warm = await openRegistry({ engine, location: url });
    await warm.registry.fetch('tool', TOOL_ID);
    await warm.registry.close();
    await server.kill();
    const cold = await openRegistry({ engine, location: url });
    expect((await settleError(cold.registry.fetch('tool', TOOL_ID))).code).toBe('E_UNREACHABLE');
    await cold.registry.close();
    const again = await openRegistry({ engine, location: url }, { cacheDir: warm.cacheDir, refresh: true });
    expect((await again.registry.fetch('tool', TOOL_ID)).stale).toBe(true);
    await again.registry.close();
  });

  test('aborting mid-fetch is E_ABORTED, leaves no git process behind, and the next fetch works', { timeout: 90_000 }, async () => {
    const { server } = await served();
    const name = `registry-${repoCounter}`;
    const proxy = await cleanup.add(startFaultProxy({ target: server.url, faults: [{ kind: 'delay', ms: 20_000, path: `/${name}.git/git-upload-pack` }] }));
    const location = `${proxy.url}${name}.git`;
    const { registry } = await openRegistry({ engine, location });
    const controller = new AbortController();
    const pending = settleError(registry.fetch('tool', TOOL_ID, { signal: controller.signal }));
    const until = Date.now() + 30_000;
    while (!proxy.requests.some((request) => request.method === 'POST')) {
      if (Date.now() > until) throw new Error('the fetch never reached git-upload-pack (no POST through the proxy in 30 s)');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort();
    expect((await pending).code).toBe('E_ABORTED');
    // Nothing keeps talking to the proxy: every git process of the fetch is gone (asked /proc, given a moment).
    const port = String(proxy.port);
    let left: string[] = [];
    // A deadline, not a number of sweeps: on a loaded machine one sweep of /proc and a SIGTERM both take longer.
    const gone = Date.now() + 15_000;
    while (Date.now() < gone) {
      left = [];
      for (const pid of await readdir('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
        if (cmdline.includes(`127.0.0.1:${port}`)) left.push(cmdline.replaceAll('\0', ' '));
      }
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(left).toEqual([]);
    proxy.setFaults([]);
    expect(await toolCode((await registry.fetch('tool', TOOL_ID)).dir)).toContain('// v1');
    await registry.close();
  });
});

describe('native engine: the mirror', () => {
  test('partial clone + sparse: only registry.json and the fetched entry are downloaded; the rest stays on the server', async () => {
    const { repo, url } = await served();
    const { registry, cacheDir } = await openRegistry({ engine: 'native', location: url });
    await registry.fetch('tool', TOOL_ID);
    const mirror = await nativeMirror(cacheDir);
    const missing = async (path: string) =>
      (await runGit(['rev-list', '--objects', '--missing=print', `${repo.initialCommit}:${path}`], { home, env: { GIT_DIR: mirror } })).stdout
        .split('\n')
        .filter((line) => line.startsWith('?'));
    expect(await missing('registry/curated/your-tool')).toEqual([]);
    expect(await missing('registry/curated/other-tool')).toHaveLength(3);
    // Fetching the other entry brings exactly its files.
    await registry.fetch('tool', OTHER_ID);
    expect(await missing('registry/curated/other-tool')).toEqual([]);
    await registry.close();
  });

  test('a new revision is fetched incrementally: only what changed is transferred', async () => {
    // Enough incompressible content that the first fetch dwarfs the few objects of a one-file change.
    const filler = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`registry/curated/filler-${i}/data.txt`, randomBytes(2048).toString('hex')]));
    const name = `incremental-${++repoCounter}`;
    const repo = await cleanup.add(createGitRepo({ ...pageRegistry('v1'), ...filler }, { root, name }));
    const server = await cleanup.add(startGitHttpServer({ root }));
    const url = server.repoUrl(name);
    const bytes = (from: number) =>
      server.requests
        .slice(from)
        .filter((r) => r.method === 'POST')
        .reduce((sum, r) => sum + r.bytesSent, 0);
    let mark = server.requests.length;
    const first = await openRegistry({ engine: 'native', location: url, sparse: false });
    await first.registry.list();
    await first.registry.close();
    const initial = bytes(mark);
    await repo.commit('main', { 'registry/curated/your-tool/src/index.js': '// v2\n' }, { overlay: true });
    mark = server.requests.length;
    const second = await openRegistry({ engine: 'native', location: url, sparse: false }, { cacheDir: first.cacheDir, refresh: true });
    expect(await toolCode((await second.registry.fetch('tool', TOOL_ID)).dir)).toBe('// v2\n');
    await second.registry.close();
    expect(initial).toBeGreaterThan(80_000);
    expect(bytes(mark)).toBeLessThan(initial / 20);
  });

  test('a mirror left damaged by a killed git (a stale shallow.lock) is rebuilt, with a warning', async () => {
    const { repo, url } = await served();
    const first = await openRegistry({ engine: 'native', location: url });
    await first.registry.fetch('tool', TOOL_ID);
    await first.registry.close();
    await writeFile(join(await nativeMirror(first.cacheDir), 'shallow.lock'), '');
    await repo.commit('main', pageRegistry('v2'));
    const second = await openRegistry({ engine: 'native', location: url }, { cacheDir: first.cacheDir, refresh: true });
    expect(await toolCode((await second.registry.fetch('tool', TOOL_ID)).dir)).toContain('// v2');
    await second.registry.close();
    expect(second.logger.lines.some((line) => line.includes('damaged') && line.includes('rebuilding'))).toBe(true);
  });
});

describe.each(['native', 'isomorphic'] as const)('%s engine: what the index names but the commit lacks', (engine) => {
  test('no registry.json, an entry folder that is missing, and one that is a file: E_NOT_FOUND', async () => {
    const name = `broken-${engine}`;
    const index = {
      extensions: {
        curated: [
          { id: 'com.x.missing', name: 'Missing', version: '1.0.0', path: 'curated/missing' },
          { id: 'com.x.file', name: 'File', version: '1.0.0', path: 'curated/file.md' },
        ],
      },
    };
    await cleanup.add(createGitRepo({ 'registry.json': JSON.stringify(index), 'registry/curated/file.md': '# not a folder\n' }, { root, name }));
    await cleanup.add(createGitRepo({ 'README.md': '# no index here\n' }, { root, name: `${name}-empty` }));
    const server = await cleanup.add(startGitHttpServer({ root }));
    const { registry } = await openRegistry({ engine, location: server.repoUrl(name) });
    const missing = await settleError(registry.fetch('tool', 'com.x.missing'));
    expect(missing.code).toBe('E_NOT_FOUND');
    expect(missing.message).toContain("Entry folder 'registry/curated/missing'");
    const file = await settleError(registry.fetch('tool', 'com.x.file'));
    expect(file.code).toBe('E_NOT_FOUND');
    expect(file.message).toContain('not a folder');
    await registry.close();
    const noIndex = await openRegistry({ engine, location: server.repoUrl(`${name}-empty`) });
    const error = await settleError(noIndex.registry.list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('has no registry.json');
    await noIndex.registry.close();
  });
});
