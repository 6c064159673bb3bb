import type { SpawnOptions } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { inspect } from 'node:util';
import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type GitHttpServer, makeTempDir, startFaultProxy, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { filesBelow, leaks, openRegistry, pageRegistry, TOKEN, TOOL_ID } from './support/registry.js';

const cleanup = new Cleanup();
let basic: GitHttpServer;
let bearer: GitHttpServer;

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir('git-credentials-'))).path;
  await cleanup.add(createGitRepo(pageRegistry('private'), { root, name: 'private', branches: ['stable'] }));
  await cleanup.add(createGitRepo(pageRegistry('public'), { root, name: 'public' }));
  basic = await cleanup.add(startGitHttpServer({ root, auth: { type: 'basic', username: 'x-access-token', password: TOKEN }, privateRepos: ['private'] }));
  bearer = await cleanup.add(startGitHttpServer({ root, auth: { type: 'bearer', token: TOKEN }, privateRepos: ['private'] }));
});

afterAll(() => cleanup.run());

/** Every way an error can be shown: message, stack, JSON, and `util.inspect` (which walks `cause` and own fields). */
function renderings(error: unknown): string {
  const parts = [inspect(error, { depth: 12 }), JSON.stringify(error) ?? ''];
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    parts.push(String(current), current.stack ?? '');
  }
  return parts.join('\n');
}

async function fetchFailure(config: Record<string, unknown>): Promise<{ error: RegistryError; cacheDir: string; lines: string[] }> {
  const { registry, cacheDir, logger } = await openRegistry(config as { location: string });
  try {
    await registry.fetch('tool', TOOL_ID);
  } catch (error) {
    if (isRegistryError(error)) return { error, cacheDir, lines: logger.lines };
    throw error;
  } finally {
    await registry.close();
  }
  throw new Error('the fetch succeeded');
}

/** Fails the test if a secret shows in any file below `dir` (index, entries, the git mirror and its config). */
async function expectNoFileLeaks(dir: string, secret: string): Promise<void> {
  const files = await filesBelow(dir);
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((file) => leaks(file.bytes, secret)).map((file) => file.path)).toEqual([]);
}

describe.each(['native', 'isomorphic'] as const)('%s engine: tokens', (engine) => {
  test('a wrong token is E_AUTH naming the registry and saying how to pass a token, and it shows nowhere', async () => {
    const wrong = 'wrong-token-for-corp-9c2e41';
    const { error, cacheDir, lines } = await fetchFailure({ engine, location: basic.repoUrl('private'), branch: 'stable', token: wrong });
    expect(error.code).toBe('E_AUTH');
    expect(error.registry).toBe('corp');
    expect(error.message).toContain("Registry 'corp'");
    expect(error.message).toContain('refused the configured token');
    expect(leaks(renderings(error), wrong)).toBe(false);
    expect(lines.filter((line) => leaks(line, wrong))).toEqual([]);
    for (const file of await filesBelow(cacheDir)) expect(leaks(file.bytes, wrong), file.path).toBe(false);
  });

  test('no token for a private repository is E_AUTH that says to set `token`', async () => {
    const { error } = await fetchFailure({ engine, location: bearer.repoUrl('private') });
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toMatch(/needs credentials[\s\S]*Set the registry's `token`/);
    expect(error.message).not.toMatch(/could not read|terminal prompts|fatal:/i);
  });

  test("a refused token's message is the HTTP status and what to do, never git's prompt wording", async () => {
    const { error } = await fetchFailure({ engine, location: basic.repoUrl('private'), branch: 'stable', token: 'wrong-token-2f81' });
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('refused the configured token while');
    expect(error.message).toContain('(HTTP 401)');
    expect(error.message).not.toMatch(/could not read|terminal prompts|username for|fatal:/i);
    expect(error.message).toContain('Check that the token is current');
    // With the basic scheme, trying bearer is advice worth giving.
    expect(error.message).toContain("or `authScheme: 'bearer'` if it takes bearer tokens");
  });

  test("a refused bearer token does not suggest `authScheme: 'bearer'`, which is already set", async () => {
    const { error } = await fetchFailure({ engine, location: bearer.repoUrl('private'), token: 'wrong-token-77ad', authScheme: 'bearer' });
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('(HTTP 401)');
    expect(error.message).not.toMatch(/could not read|terminal prompts|fatal:/i);
    expect(error.message).not.toContain("`authScheme: 'bearer'` if");
    expect(error.message).toContain('remove `authScheme`');
  });

  test('after a successful fetch the token is in no file of the cache (index, entries, mirror, .git/config)', async () => {
    const { registry, cacheDir } = await openRegistry({ engine, location: bearer.repoUrl('private'), token: TOKEN, authScheme: 'bearer' });
    await registry.fetch('tool', TOOL_ID);
    await registry.close();
    await expectNoFileLeaks(cacheDir, TOKEN);
  });
});

describe.each(['native', 'isomorphic'] as const)('%s engine: redirects', (engine) => {
  let redirector: Server;
  let redirectUrl: string;
  beforeAll(async () => {
    // Another origin (another port) that redirects every request to the git server, as a moved repository would.
    redirector = createServer((req, res) => {
      res.writeHead(302, { location: `${basic.url.replace(/\/$/, '')}${req.url}` }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const address = redirector.address();
    redirectUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => redirector.close(() => resolve())));

  test('with a token, a redirect to another origin is refused and the token never reaches it', async () => {
    const before = basic.requests.length;
    const { error } = await fetchFailure({ engine, location: `${redirectUrl}/private.git`, token: TOKEN, branch: 'stable' });
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('redirected');
    expect(basic.requests.slice(before).filter((request) => request.authorization)).toEqual([]);
  });

  test('without a token, a redirect is followed', async () => {
    const { registry } = await openRegistry({ engine, location: `${redirectUrl}/public.git` });
    await expect(registry.fetch('tool', TOOL_ID)).resolves.toMatchObject({ id: TOOL_ID });
    await registry.close();
  });

  test('with policy.allowHosts listing only the location, the redirect to another host is not followed', async () => {
    const before = basic.requests.length;
    const { registry } = await openRegistry({ engine, location: `${redirectUrl}/public.git` }, { allowHosts: [new URL(redirectUrl).host] });
    const error = await registry.fetch('tool', TOOL_ID).then(
      () => undefined,
      (e: unknown) => e as RegistryError,
    );
    await registry.close();
    expect(isRegistryError(error), inspect(error)).toBe(true);
    // isomorphic-git's hops go through core's client, which judges each; native git follows no redirect at all.
    expect({ code: error!.code, rule: error!.details?.rule }).toEqual({ code: 'E_POLICY', rule: 'allowHosts' });
    expect(error!.message).toContain('policy.allowHosts');
    expect(basic.requests.length).toBe(before);
  });
});

describe('native engine: the token is in no process argv', () => {
  const childProcess = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  const originalSpawn = childProcess.spawn;
  const spawned: Array<{ argv: string[]; env: NodeJS.ProcessEnv | undefined }> = [];

  beforeAll(() => {
    // simple-git imports `spawn` from node:child_process: replacing the export and syncing the ESM bindings lets the
    // test see every git it starts, with its argv and environment.
    childProcess.spawn = ((command: string, args: readonly string[], options: SpawnOptions) => {
      spawned.push({ argv: [command, ...(args ?? [])], env: options?.env });
      return originalSpawn(command, args, options);
    }) as typeof childProcess.spawn;
    syncBuiltinESMExports();
  });
  afterEach(() => {
    spawned.length = 0;
  });
  afterAll(() => {
    childProcess.spawn = originalSpawn;
    syncBuiltinESMExports();
  });

  /** Reads the argv of every process on the machine while `work` runs (git's own children included). */
  async function watchProcesses(work: () => Promise<void>): Promise<string[]> {
    const seen = new Set<string>();
    let running = true;
    const poll = (async () => {
      while (running) {
        for (const pid of await readdir('/proc').catch(() => [] as string[])) {
          if (!/^\d+$/.test(pid)) continue;
          const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
          if (cmdline.includes('git')) seen.add(cmdline.split('\0').join(' '));
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      await work();
    } finally {
      running = false;
      await poll;
    }
    return [...seen];
  }

  test.each([
    ['Basic', () => basic, {}],
    ['Bearer', () => bearer, { authScheme: 'bearer' }],
  ] as const)('%s: a successful and a refused fetch', { timeout: 90_000 }, async (_scheme, server, extra) => {
    const wrong = 'wrong-token-for-argv-61b0d7';
    // A proxy that holds the first answer back for four seconds, so that git's processes (git-remote-http among them)
    // are certainly alive during several full /proc sweeps, even on a machine so loaded that one sweep takes over a
    // second (a one-second hold was missed in CI); later answers pass at once to keep the test short.
    const proxy = await cleanup.add(startFaultProxy({ target: server().url, faults: [{ kind: 'delay', ms: 4_000, times: 1 }] }));
    const location = `${proxy.url}private.git`;
    const cmdlines = await watchProcesses(async () => {
      const good = await openRegistry({ engine: 'native', location, token: TOKEN, ...extra });
      await good.registry.fetch('tool', TOOL_ID);
      await good.registry.close();
      const bad = await openRegistry({ engine: 'native', location, token: wrong, ...extra });
      await expect(bad.registry.fetch('tool', TOOL_ID)).rejects.toSatisfy((error: unknown) => isRegistryError(error, 'E_AUTH'));
      await bad.registry.close();
    });
    // The spy saw the git commands, and the token did reach them — through the environment, not argv.
    expect(spawned.some(({ argv }) => argv.includes('ls-remote'))).toBe(true);
    expect(spawned.some(({ argv }) => argv.includes('fetch'))).toBe(true);
    expect(spawned.some(({ env }) => Object.values(env ?? {}).some((value) => typeof value === 'string' && leaks(value, TOKEN)))).toBe(true);
    expect(spawned.filter(({ argv }) => argv.some((arg) => leaks(arg, TOKEN) || leaks(arg, wrong)))).toEqual([]);
    // /proc saw running git processes (git-remote-http among them), none with the token in its command line.
    expect(cmdlines.some((line) => line.includes('remote-http'))).toBe(true);
    expect(cmdlines.filter((line) => leaks(line, TOKEN) || leaks(line, wrong))).toEqual([]);
  });
});
