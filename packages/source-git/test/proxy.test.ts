/**
 * The isomorphic engine talks HTTP through core's client, so enterprise proxies work for it as for every other
 * source: HTTP_PROXY from the environment the registry was created with carries every request, NO_PROXY bypasses it,
 * and the token still reaches the git server (and only it). The registry's `proxy` option, the one every HTTP source
 * takes, works for both engines (native: git's `http.proxy`).
 */
import { createRegistry } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type GitHttpServer, makeTempDir, startForwardProxy, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gitSource } from '../src/index.js';
import { pageRegistry, TOKEN, TOOL_ID } from './support/registry.js';
import { tempDir } from './support/temp.js';

const cleanup = new Cleanup();
let server: GitHttpServer;

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir('git-proxy-'))).path;
  await cleanup.add(createGitRepo(pageRegistry('via proxy'), { root, name: 'private' }));
  server = await cleanup.add(startGitHttpServer({ root, auth: { type: 'basic', username: 'x-access-token', password: TOKEN }, privateRepos: ['private'] }));
}, 60_000);
afterAll(() => cleanup.run());

async function open(env: Record<string, string>, options: { engine?: 'native' | 'isomorphic'; proxy?: string } = {}) {
  const { engine = 'isomorphic', proxy } = options;
  return createRegistry(
    {
      registries: { corp: { type: 'git', location: server.repoUrl('private'), token: TOKEN, engine, ...(proxy === undefined ? {} : { proxy }) } },
      defaultRegistries: { tool: 'corp' },
      cacheSettings: { directory: await tempDir('git-proxy-cache') },
    },
    { sources: [gitSource()], env },
  );
}

describe('isomorphic engine behind a forward proxy', () => {
  test('HTTP_PROXY carries every request; the token reaches the git server through it', async () => {
    const proxy = await cleanup.add(startForwardProxy());
    const before = server.requests.length;
    const registry = await open({ HTTP_PROXY: proxy.url });
    const fetched = await registry.fetch('tool', TOOL_ID);
    await registry.close();
    expect(fetched.id).toBe(TOOL_ID);
    const through = proxy.requests.map((r) => `${r.method} ${new URL(r.target).pathname}`);
    expect(through).toContain('GET /private.git/info/refs');
    expect(through).toContain('POST /private.git/git-upload-pack');
    const served = server.requests.slice(before);
    expect(served.length).toBe(proxy.requests.length);
    expect(served.every((r) => r.authorization)).toBe(true);
    expect(proxy.requests.every((r) => !r.proxyAuthorization)).toBe(true);
  });

  test('NO_PROXY bypasses it', async () => {
    const proxy = await cleanup.add(startForwardProxy());
    const registry = await open({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    await registry.fetch('tool', TOOL_ID);
    await registry.close();
    expect(proxy.requests).toEqual([]);
  });
});

describe.each(['isomorphic', 'native'] as const)('%s engine: the `proxy` option', (engine) => {
  test('carries every request, with no proxy in the environment; the token reaches the git server through it', async () => {
    const proxy = await cleanup.add(startForwardProxy());
    const before = server.requests.length;
    const registry = await open({}, { engine, proxy: proxy.url });
    const fetched = await registry.fetch('tool', TOOL_ID);
    await registry.close();
    expect(fetched.id).toBe(TOOL_ID);
    const through = proxy.requests.map((r) => `${r.method} ${new URL(r.target).pathname}`);
    expect(through).toContain('GET /private.git/info/refs');
    expect(through).toContain('POST /private.git/git-upload-pack');
    const served = server.requests.slice(before);
    expect(served.length).toBe(proxy.requests.length);
    expect(served.every((r) => r.authorization)).toBe(true);
  });
});
