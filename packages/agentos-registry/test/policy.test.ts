/**
 * Issue 14, "Policy": `registryConfig.policy` (`requireVerified`, `allowTypes`, `allowHosts`) and the
 * `onBeforeActivate` hook, against real `file` registries (read in place) and real `url` registries (a static HTTP
 * server on loopback serving a packed site). Every refusal must be `E_POLICY` naming its rule, and the entry's module
 * — which appends a line to a marker file when imported — must never have run.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isRegistryError, type Registry, type RegistryError, registerSecret } from '@agentos-registry/core';
import { type StaticServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterEach, describe, expect, test } from 'vitest';
import { createRegistry, packRegistry } from '../src/index.js';
import { cli, scratch } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Transport = 'file' | 'url';

/** A registry with a tool (its module declares a guardrail too), a plain tool, an npm-only tool and a persona. */
async function writeRegistry(root: string, marker: string): Promise<void> {
  const module = (name: string) =>
    `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, ${JSON.stringify(`${name}\n`)});\nexport function createExtensionPack() { return { name: ${JSON.stringify(name)}, descriptors: [] }; }\n`;
  const files: Record<string, string | object> = {
    'registry.json': {
      version: '1.0.0',
      extensions: {
        curated: [
          { id: 'com.test.echo', name: 'Echo', version: '1.0.0', path: 'curated/echo' },
          { id: 'com.test.both', name: 'Both', version: '1.0.0', path: 'curated/both' },
          { id: 'com.test.npm-only', name: 'Npm only', version: '1.0.0', path: 'curated/npm-only', package: '@acme/npm-only' },
        ],
      },
      personas: { curated: [{ id: 'com.test.helper', name: 'Helper', version: '1.0.0', path: 'personas/helper' }] },
    },
    'registry/curated/echo/manifest.json': { id: 'com.test.echo', name: 'Echo', version: '1.0.0', extensions: [{ kind: 'tool', id: 'echo' }] },
    'registry/curated/echo/package.json': { name: 'echo-tool', version: '1.0.0', type: 'module', main: './index.js' },
    'registry/curated/echo/index.js': module('echo'),
    'registry/curated/both/manifest.json': {
      id: 'com.test.both',
      name: 'Both',
      version: '1.0.0',
      extensions: [
        { kind: 'tool', id: 'both-tool' },
        { kind: 'guardrail', id: 'both-guard' },
      ],
    },
    'registry/curated/both/package.json': { name: 'both', version: '1.0.0', type: 'module', main: './index.js' },
    'registry/curated/both/index.js': module('both'),
    'registry/curated/npm-only/manifest.json': { id: 'com.test.npm-only', name: 'Npm only', version: '1.0.0', extensions: [{ kind: 'tool', id: 'npm-only' }] },
    'registry/personas/helper/manifest.json': { id: 'com.test.helper', name: 'Helper', version: '1.0.0' },
    'registry/personas/helper/persona.json': { id: 'com.test.helper', name: 'Helper', version: '1.0.0', baseSystemPrompt: 'Be helpful.' },
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
}

class Scene {
  server: StaticServer | undefined;
  constructor(
    readonly transport: Transport,
    readonly dir: string,
  ) {}

  get marker(): string {
    return join(this.dir, 'imported.txt');
  }

  static async create(transport: Transport): Promise<Scene> {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    const scene = new Scene(transport, dir);
    await writeRegistry(join(dir, 'src'), scene.marker);
    if (transport === 'url') {
      await packRegistry(join(dir, 'src'), join(dir, 'site'));
      scene.server = await startStaticServer({ root: join(dir, 'site') });
      cleanups.push(() => scene.server!.close());
    }
    return scene;
  }

  get location(): string {
    return this.transport === 'file' ? join(this.dir, 'src') : this.server!.url;
  }

  get host(): string {
    return new URL(this.server?.url ?? 'http://127.0.0.1/').hostname;
  }

  async imported(): Promise<string[]> {
    return existsSync(this.marker) ? (await readFile(this.marker, 'utf8')).split('\n').filter(Boolean) : [];
  }

  async open(
    extra: { registry?: Record<string, unknown>; policy?: unknown; onBeforeActivate?: unknown; packages?: { registry?: string } } = {},
  ): Promise<Registry> {
    const hostDir = join(this.dir, 'host');
    await mkdir(hostDir, { recursive: true });
    const registry = await createRegistry(
      {
        registries: { acme: { type: this.transport, location: this.location, cacheDuration: 0, ...extra.registry } },
        defaultRegistries: { tool: 'acme', guardrail: 'acme', persona: 'acme' },
        cacheSettings: { directory: join(this.dir, 'cache') },
        // biome-ignore lint/suspicious/noExplicitAny: tests pass invalid policies on purpose
        ...(extra.policy !== undefined ? { policy: extra.policy as any } : {}),
      },
      {
        env: {},
        baseDir: hostDir,
        dependencies: { hostDir },
        // biome-ignore lint/suspicious/noExplicitAny: tests pass invalid hooks on purpose
        ...(extra.onBeforeActivate !== undefined ? { onBeforeActivate: extra.onBeforeActivate as any } : {}),
        ...(extra.packages ? { packages: extra.packages } : {}),
      },
    );
    cleanups.push(() => registry.close());
    return registry;
  }
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isRegistryError(outcome)) throw new Error(`expected a RegistryError, got ${outcome === undefined ? 'success' : String(outcome)}`);
  return outcome;
}

/** `E_POLICY` naming `rule`, with nothing imported. */
async function refused(scene: Scene, attempt: () => Promise<unknown>, rule: string): Promise<RegistryError> {
  const before = await scene.imported();
  const error = await failure(attempt());
  expect({ code: error.code, rule: error.details?.rule }).toEqual({ code: 'E_POLICY', rule });
  expect(await scene.imported()).toEqual(before);
  return error;
}

describe('policy config is validated (E_CONFIG naming the field)', () => {
  test.each([
    ['policy', 'everything'],
    ['policy.requireVerified', { requireVerified: 'tool' }],
    ['policy.requireVerified', { requireVerified: [1] }],
    ['policy.allowTypes', { allowTypes: 'file' }],
    ['policy.allowHosts', { allowHosts: ['https://example.com'] }],
    ['policy.allowHosts', { allowHosts: [''] }],
    ['policy.allowHost', { allowHost: ['example.com'] }],
  ])('%s: %j', async (field, policy) => {
    const scene = await Scene.create('file');
    const error = await failure(scene.open({ policy }));
    expect({ code: error.code, field: error.details?.field }).toEqual({ code: 'E_CONFIG', field });
  });

  test('onBeforeActivate that is not a function', async () => {
    const scene = await Scene.create('file');
    const error = await failure(scene.open({ onBeforeActivate: 'yes' }));
    expect({ code: error.code, field: error.details?.field }).toEqual({ code: 'E_CONFIG', field: 'onBeforeActivate' });
  });
});

describe('allowTypes: checked at createRegistry, before any request', () => {
  test('a url registry when only file is allowed', async () => {
    const scene = await Scene.create('url');
    const error = await refused(scene, () => scene.open({ policy: { allowTypes: ['file'] } }), 'allowTypes');
    expect(error.message).toContain('"url"');
    expect(error.registry).toBe('acme');
    expect(scene.server!.requests).toEqual([]);
  });

  test.each<Transport>(['file', 'url'])('an allowed type (%s) loads', async (transport) => {
    const scene = await Scene.create(transport);
    const registry = await scene.open({ policy: { allowTypes: ['file', 'url'] } });
    await registry.load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('entry code from npm is the npm type: refused before any package request', async () => {
    const scene = await Scene.create('file');
    const registry = await scene.open({ policy: { allowTypes: ['file'] }, packages: { registry: 'http://127.0.0.1:9/' } });
    const error = await refused(scene, () => registry.load('tool', 'com.test.npm-only'), 'allowTypes');
    expect(error.details?.package).toBe('@acme/npm-only');
  });
});

describe('allowHosts', () => {
  test('a url registry on a host not listed: refused at createRegistry, no request made', async () => {
    const scene = await Scene.create('url');
    const error = await refused(scene, () => scene.open({ policy: { allowHosts: ['registry.example.com'] } }), 'allowHosts');
    expect(error.details?.host).toBe(`${scene.host}:${scene.server!.port}`);
    expect(scene.server!.requests).toEqual([]);
  });

  test('loopback is not implied: localhost does not admit 127.0.0.1, nor another port', async () => {
    const scene = await Scene.create('url');
    await refused(scene, () => scene.open({ policy: { allowHosts: ['localhost'] } }), 'allowHosts');
    await refused(scene, () => scene.open({ policy: { allowHosts: [`127.0.0.1:${scene.server!.port + 1}`] } }), 'allowHosts');
    expect(scene.server!.requests).toEqual([]);
  });

  test.each([['127.0.0.1'], ['127.0.0.1:PORT'], ['*.example.com', '127.0.0.1']])('a listed host loads: %s', async (...hosts) => {
    const scene = await Scene.create('url');
    const registry = await scene.open({ policy: { allowHosts: hosts.map((h) => h.replace('PORT', String(scene.server!.port))) } });
    await registry.load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('a local folder has no host: judged by allowTypes alone', async () => {
    const scene = await Scene.create('file');
    const registry = await scene.open({ policy: { allowHosts: [] } });
    await registry.load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('at run time too: a tarball redirect, or a tarball URL in the index, to a host not listed is refused', async () => {
    const scene = await Scene.create('url');
    // A second origin that serves the same site: a host the policy does not list.
    const other = await startStaticServer({ root: join(scene.dir, 'site') });
    cleanups.push(() => other.close());
    const allowHosts = [`127.0.0.1:${scene.server!.port}`];
    const index = JSON.parse(await readFile(join(scene.dir, 'site', 'registry.json'), 'utf8'));
    const echo = index.extensions.curated.find((e: { id: string }) => e.id === 'com.test.echo');
    const tarball = new URL(echo.dist.tarball, scene.server!.url);

    // 1. The site answers the tarball with a redirect to the other origin.
    scene.server!.setRedirect(tarball.pathname, new URL(tarball.pathname, other.url).href);
    const redirected = await refused(scene, async () => (await scene.open({ policy: { allowHosts } })).load('tool', 'com.test.echo'), 'allowHosts');
    expect(redirected.details?.host).toBe(`127.0.0.1:${other.port}`);
    expect(redirected.details?.redirectedBy).toBe(`127.0.0.1:${scene.server!.port}`);
    scene.server!.setRedirect(tarball.pathname, undefined);

    // 2. The index itself names the tarball on the other origin.
    echo.dist.tarball = new URL(tarball.pathname, other.url).href;
    await writeFile(join(scene.dir, 'site', 'registry.json'), JSON.stringify(index));
    const named = await refused(scene, async () => (await scene.open({ policy: { allowHosts } })).load('tool', 'com.test.echo'), 'allowHosts');
    expect(named.details?.host).toBe(`127.0.0.1:${other.port}`);
    expect(named.message).toContain('policy.allowHosts');
    // Refused before any connection: the other origin never saw a request.
    expect(other.requests).toEqual([]);
    // Without the policy the same registry loads (the refusal above was the policy's, not a broken site).
    await (await scene.open()).load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
    expect(other.requests.length).toBeGreaterThan(0);
  });

  test('entry code from npm: the package registry host is checked per request, before the package is fetched', async () => {
    const scene = await Scene.create('file');
    const named = await scene.open({ policy: { allowHosts: ['registry.example.com'] }, packages: { registry: 'http://127.0.0.1:9/' } });
    const error = await refused(scene, () => named.load('tool', 'com.test.npm-only'), 'allowHosts');
    expect(error.details?.host).toBe('127.0.0.1:9');
    // No package registry named: .npmrc would choose it, which core cannot judge, so it is refused.
    const unnamed = await scene.open({ policy: { allowHosts: ['registry.example.com'] } });
    await refused(scene, () => unnamed.load('tool', 'com.test.npm-only'), 'allowHosts');
  });
});

describe('requireVerified', () => {
  test.each<Transport>(['file', 'url'])('true: an unverified %s registry is refused before anything is fetched', async (transport) => {
    const scene = await Scene.create(transport);
    const registry = await scene.open({ policy: { requireVerified: true } });
    await refused(scene, () => registry.load('tool', 'com.test.echo'), 'requireVerified');
    // Only the index was read: the entry itself was never requested.
    if (scene.server) expect(scene.server.requests.map((r) => r.path).filter((p) => p !== '/registry.json')).toEqual([]);
  });

  test.each<Transport>(['file', 'url'])('true: a verified %s registry (local path / loopback transport) loads', async (transport) => {
    const scene = await Scene.create(transport);
    const registry = await scene.open({ registry: { verified: true }, policy: { requireVerified: true } });
    const loaded = await registry.load('tool', 'com.test.echo');
    expect(loaded.fetched.provenance.verified).toBe(true);
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('a list of kinds: other kinds load; a kind the module declares counts too', async () => {
    const scene = await Scene.create('url');
    const registry = await scene.open({ policy: { requireVerified: ['guardrail'] } });
    await registry.load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
    await refused(scene, () => registry.load('guardrail', 'com.test.both'), 'requireVerified');
    // Asked for as a tool, its module still declares a guardrail: loading it would activate one.
    await refused(scene, () => registry.load('tool', 'com.test.both'), 'requireVerified');
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('personas: covered by true and by "persona", not by other kinds', async () => {
    const scene = await Scene.create('file');
    await refused(scene, async () => (await scene.open({ policy: { requireVerified: true } })).load('persona', 'com.test.helper'), 'requireVerified');
    await refused(scene, async () => (await scene.open({ policy: { requireVerified: ['persona'] } })).load('persona', 'com.test.helper'), 'requireVerified');
    const loaded = await (await scene.open({ policy: { requireVerified: ['tool'] } })).load('persona', 'com.test.helper');
    expect(loaded.persona.id).toBe('com.test.helper');
  });

  test('from the config file the CLI reads', async () => {
    const scene = await Scene.create('file');
    const cwd = join(scene.dir, 'cli');
    await mkdir(cwd, { recursive: true });
    await writeFile(
      join(cwd, 'agentos-registry.config.json'),
      JSON.stringify({
        registries: { acme: { type: 'file', location: scene.location } },
        defaultRegistries: { tool: 'acme' },
        cacheSettings: { directory: join(scene.dir, 'cache') },
        policy: { requireVerified: ['tool'] },
      }),
    );
    const result = await cli(['load', 'com.test.echo', '--json'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('E_POLICY');
    expect(result.stdout + result.stderr).toContain('requireVerified');
    expect(await scene.imported()).toEqual([]);
    await writeFile(
      join(cwd, 'agentos-registry.config.json'),
      JSON.stringify({ registries: { acme: { type: 'file', location: scene.location } }, policy: { allowTypes: ['url'] } }),
    );
    const types = await cli(['list', '--json'], { cwd });
    expect(types.code).toBe(1);
    expect(types.stdout + types.stderr).toContain('allowTypes');
  });
});

describe('onBeforeActivate', () => {
  test.each<Transport>(['file', 'url'])('a veto by throwing (%s): E_POLICY with its message, redacted', async (transport) => {
    const scene = await Scene.create(transport);
    const secret = 'sk-policy-test-0123456789abcdef';
    registerSecret(secret);
    const seen: Array<{ id: string; dir: string; kind: string; manifest: boolean }> = [];
    const registry = await scene.open({
      onBeforeActivate: async (entry: { id: string }, dir: string, context: { kind: string }) => {
        seen.push({ id: entry.id, dir, kind: context.kind, manifest: existsSync(join(dir, 'manifest.json')) });
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw new Error(`not on my watch (${secret})`);
      },
    });
    const error = await refused(scene, () => registry.load('tool', 'com.test.echo'), 'onBeforeActivate');
    expect(error.message).toContain('not on my watch');
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify({ message: error.message, stack: error.stack, cause: String(error.cause) })).not.toContain(secret);
    expect(seen).toEqual([{ id: 'com.test.echo', dir: expect.any(String), kind: 'tool', manifest: true }]);
  });

  test('a veto by returning false; anything else lets the entry load', async () => {
    const scene = await Scene.create('url');
    const vetoing = await scene.open({ onBeforeActivate: () => false });
    await refused(scene, () => vetoing.load('tool', 'com.test.echo'), 'onBeforeActivate');
    const allowing = await scene.open({ onBeforeActivate: async () => true });
    await allowing.load('tool', 'com.test.echo');
    expect(await scene.imported()).toEqual(['echo']);
  });

  test('runs for personas too, and can veto them', async () => {
    const scene = await Scene.create('file');
    const kinds: string[] = [];
    const registry = await scene.open({
      onBeforeActivate: (_entry: unknown, dir: string, context: { kind: string }) => {
        kinds.push(context.kind);
        if (existsSync(join(dir, 'persona.json'))) throw new Error('no personas here');
      },
    });
    await refused(scene, () => registry.load('persona', 'com.test.helper'), 'onBeforeActivate');
    await registry.load('tool', 'com.test.echo');
    expect(kinds).toEqual(['persona', 'tool']);
  });

  test('fetch and info are not activation: the hook does not run', async () => {
    const scene = await Scene.create('file');
    let calls = 0;
    const registry = await scene.open({
      policy: { requireVerified: true },
      onBeforeActivate: () => {
        calls += 1;
        return false;
      },
    });
    await registry.fetch('tool', 'com.test.echo');
    await registry.info('tool', 'com.test.echo');
    expect(calls).toBe(0);
    expect(await scene.imported()).toEqual([]);
  });
});
