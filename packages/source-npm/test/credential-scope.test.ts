/**
 * A token goes to its registry's origin (scheme, host and port) only. npm's fetch stack drops Authorization on a
 * redirect only when the host name changes, so a registry that answers 302 to another port of the same host used to
 * hand that port the token: for packuments, tarballs and every request of a dependency install.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type Registry } from '@agentos-registry/core';
import { type HostileServer, startHostileServer, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { authorizationFor, credentialScope } from '../src/credential-scope.js';
import { installDependencies, npmSource } from '../src/index.js';
import { registryPackageDir, startRegistryServer, tempDir } from './support/packages.js';

const REGISTRY_PACKAGE = '@acme/scoped-registry';
const LIBRARY = 'scope-lib';

let server: VerdaccioServer;
let token: string;
const closing: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
  await server.publish(await registryPackageDir(REGISTRY_PACKAGE, '1.0.0'), { token });
  await server.publish(
    { 'package.json': JSON.stringify({ name: LIBRARY, version: '1.0.0', main: 'index.js' }), 'index.js': 'module.exports = 1;\n' },
    { token },
  );
}, 60_000);

afterEach(async () => {
  await Promise.allSettled(closing.splice(0).map((item) => item.close()));
});
afterAll(() => server?.close());

/**
 * The registry the client is configured with (`front`, which holds the token's origin) and a second server on
 * another port of the same host; `front` redirects the requests `redirect` picks to `other`. Both forward the rest to
 * Verdaccio, so the flow completes either way; `other` tells Verdaccio it is `front`, so the tarball URLs of a
 * packument it serves still point at the registry (as a registry behind a redirecting load balancer would).
 */
async function frontAndOther(redirect: (url: string) => boolean): Promise<{ front: HostileServer; other: HostileServer }> {
  let frontHost = '';
  const other = await startHostileServer({ target: server.url, watch: [token], respond: () => ({ kind: 'forward', host: frontHost }) });
  const front = await startHostileServer({
    target: server.url,
    watch: [token],
    respond: ({ url }) => (redirect(url) ? { kind: 'redirect', location: `${other.origin}${url}` } : { kind: 'forward' }),
  });
  frontHost = new URL(front.url).host;
  closing.push(front, other);
  return { front, other };
}

async function openRegistry(registry: string, cache?: string): Promise<Registry> {
  cache ??= await tempDir('cache');
  const opened = await createRegistry(
    {
      registries: { scoped: { type: 'npm', location: REGISTRY_PACKAGE, registry, token } },
      defaultRegistries: { tool: 'scoped' },
      cacheSettings: { directory: cache },
    },
    { sources: [npmSource()], env: {}, baseDir: cache },
  );
  closing.push(opened);
  return opened;
}

/** What `other` must never have seen: an Authorization header, or the token anywhere in a request. */
function leaks(other: HostileServer): unknown[] {
  return other.requests.filter((r) => r.authorization || r.leaked);
}

describe('a redirect to another port of the same host never carries the token', () => {
  test('packument: the 302 target gets no Authorization and no token', async () => {
    const { front, other } = await frontAndOther((url) => url === `/${REGISTRY_PACKAGE.replace('/', '%2f')}`);
    const registry = await openRegistry(front.url);
    expect((await registry.list()).length).toBeGreaterThan(0);
    // The token did go to its own origin, and the redirect was followed.
    expect(front.requests[0]).toMatchObject({ behaviour: 'redirect', authorization: true });
    expect(other.requests.length).toBeGreaterThan(0);
    expect(leaks(other)).toEqual([]);
  });

  test('tarball: the 302 target gets no Authorization and no token', async () => {
    const { front, other } = await frontAndOther((url) => url.includes('/-/'));
    const registry = await openRegistry(front.url);
    expect((await registry.list()).length).toBeGreaterThan(0);
    expect(front.requests.find((r) => r.behaviour === 'redirect')).toMatchObject({ authorization: true });
    expect(other.requests.some((r) => r.url.endsWith('.tgz'))).toBe(true);
    expect(leaks(other)).toEqual([]);
  });

  test('dependency install (arborist): packument and tarball redirects get no Authorization and no token', async () => {
    const { front, other } = await frontAndOther((url) => url === `/${LIBRARY}` || url.includes('/-/'));
    const dir = await tempDir('install');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scoped-install', version: '1.0.0', dependencies: { [LIBRARY]: '1.0.0' } }));
    const result = await installDependencies({ dir, registry: front.url, token, npmrc: false, cacheDir: join(await tempDir('npm-cache'), '_cacache') });
    expect(result.packages.map((p) => `${p.name}@${p.version}`)).toEqual([`${LIBRARY}@1.0.0`]);
    expect(front.requests.filter((r) => r.behaviour === 'redirect').every((r) => r.authorization)).toBe(true);
    expect(other.requests.map((r) => r.url)).toEqual(expect.arrayContaining([`/${LIBRARY}`, expect.stringMatching(/\.tgz$/)]));
    expect(leaks(other)).toEqual([]);
  });
});

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

describe('no token on disk', () => {
  test("a registry answering Vary: Authorization does not get the token written into npm's cache", async () => {
    const front = await startHostileServer({ target: server.url, respond: () => ({ kind: 'forward', headers: { vary: 'Accept, Authorization' } }) });
    closing.push(front);
    const cache = await tempDir('cache');
    const registry = await openRegistry(front.url, cache);
    expect((await registry.list()).length).toBeGreaterThan(0);
    expect(front.requests.every((r) => r.authorization)).toBe(true);
    expect(await filesContaining(cache, token)).toEqual([]);
  });
});

describe('which Authorization a URL may carry (table)', () => {
  const options = {
    registry: 'https://npm.corp.example/',
    '@team:registry': 'http://127.0.0.1:4873/team/',
    '//npm.corp.example/:_authToken': 'corp-token',
    '//127.0.0.1:4873/team/:_authToken': 'team-token',
    '//cdn.corp.example/:_authToken': 'cdn-token',
  };
  const scope = credentialScope(options);
  test.each([
    ['the registry itself', 'https://npm.corp.example/pkg', 'Bearer corp-token'],
    ['a tarball on the registry origin', 'https://npm.corp.example/pkg/-/pkg-1.0.0.tgz', 'Bearer corp-token'],
    ['the same host over http (another scheme and port; the nerf dart alone would match)', 'http://npm.corp.example/pkg', undefined],
    ['the same host on another port', 'https://npm.corp.example:8443/pkg', undefined],
    ['a scoped registry, with its own token', 'http://127.0.0.1:4873/team/@team%2fpkg', 'Bearer team-token'],
    ['another port of the scoped registry host', 'http://127.0.0.1:4874/team/@team%2fpkg', undefined],
    ['a host with a credential in .npmrc that is no configured registry', 'https://cdn.corp.example/pkg.tgz', undefined],
    ['another host', 'https://elsewhere.example/pkg', undefined],
  ])('%s', (_label, url, expected) => {
    expect(authorizationFor(new URL(url), scope)).toBe(expected);
  });
});
