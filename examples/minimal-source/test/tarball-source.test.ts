import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeterministicTarball, createRegistry, type Registry, type SourceConfig, silentLogger } from '@agentos-registry/core';
import { writeConformanceFixture } from '@agentos-registry/source-testkit';
import { type StaticServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { tarballSource } from '../src/index.js';

// What the conformance kit does not show of this source: what a revalidation costs, `subdir`, the race between
// revision() and snapshot(), and the config checks.
let root: string;
let fixture: string;
let server: StaticServer;
const registries: Registry[] = [];

async function publish(options: { prefix?: string } = {}): Promise<void> {
  await writeFile(join(root, 'site', 'registry.tgz'), await createDeterministicTarball(fixture, options));
}

async function open(config: Partial<SourceConfig> = {}): Promise<Registry> {
  const registry = await createRegistry(
    {
      registries: { corp: { type: 'tarball', location: `${server.url}registry.tgz`, cacheDuration: 0, ...config } },
      defaultRegistries: { tool: 'corp', persona: 'corp' },
      cacheSettings: { enabled: true, directory: join(root, 'cache') },
    },
    { sources: [tarballSource()], logger: silentLogger, env: {} },
  );
  registries.push(registry);
  return registry;
}

/** The requests the server saw since the last call, as "METHOD status". */
let seen = 0;
function requests(): string[] {
  const fresh = server.requests.slice(seen).map((r) => `${r.method} ${r.status}`);
  seen = server.requests.length;
  return fresh;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'minimal-source-'));
  fixture = (await writeConformanceFixture(join(root, 'fixture'))).dir;
  await mkdir(join(root, 'site'));
  await publish();
  server = await startStaticServer({ root: join(root, 'site') });
  seen = 0;
});

afterEach(async () => {
  await Promise.all(registries.splice(0).map((registry) => registry.close()));
  await server.close();
  await rm(root, { recursive: true, force: true });
});

test('a cold fetch is one HEAD and one GET; revalidating an unchanged tarball is one HEAD answered 304', async () => {
  const registry = await open();
  await registry.fetch('tool', 'com.conformance.echo');
  expect(requests()).toEqual(['HEAD 200', 'GET 200']);
  // cacheDuration 0: every call asks again, and the snapshot core extracted serves the other entry.
  await registry.fetch('tool', 'com.conformance.clock');
  expect(requests()).toEqual(['HEAD 304']);
  // A new process (registry object) shares the extracted snapshot through the cache folder.
  await (await open()).fetch('persona', 'com.conformance.helper');
  expect(requests()).toEqual(['HEAD 304']);
});

test('a republished tarball is a new revision, downloaded once', async () => {
  const registry = await open();
  await registry.fetch('tool', 'com.conformance.echo');
  requests();
  await writeFile(join(fixture, 'registry/curated/echo/src/index.js'), '// edited\n');
  await publish();
  const fetched = await registry.fetch('tool', 'com.conformance.echo');
  expect(requests()).toEqual(['HEAD 200', 'GET 200']);
  expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toBe('// edited\n');
});

test('`subdir` serves a registry that sits in a folder of the tarball', async () => {
  await publish({ prefix: 'site-v1' });
  await expect((await open()).list()).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('has no registry.json') });
  expect((await (await open({ subdir: 'site-v1' })).list()).map((row) => row.id).sort()).toEqual([
    'com.conformance.clock',
    'com.conformance.echo',
    'com.conformance.helper',
  ]);
});

test('a tarball replaced between revision() and snapshot() is not stored as the old revision', async () => {
  const source = tarballSource().create(
    { type: 'tarball', location: `${server.url}registry.tgz` },
    { registry: 'corp', baseDir: root, logger: silentLogger, env: {} },
  );
  const ctx = { registry: 'corp', signal: new AbortController().signal, logger: silentLogger, workDir: join(root, 'work') };
  try {
    const revision = await source.revision(ctx);
    if (revision === 'unchanged') throw new Error('no previous revision was given');
    await writeFile(join(fixture, 'registry.json'), '{}\n');
    await publish();
    await expect(source.snapshot!(revision, ctx)).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('changed since') });
  } finally {
    await source.close?.();
  }
});

test.each([
  [{ location: 'ftp://127.0.0.1/registry.tgz' }, 'location'],
  [{ location: 'http://user:secret@127.0.0.1/registry.tgz' }, 'location'],
  [{ subdir: 3 }, 'subdir'],
  [{ timeouts: { index: -1 } }, 'timeouts'],
])('config %j is E_CONFIG naming %s', async (config, field) => {
  await expect(open(config as Partial<SourceConfig>)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining(`registries.corp.${field}`) });
});

test('a missing tarball is E_NOT_FOUND, a refused one E_AUTH, worded by core with the advice of the source', async () => {
  await expect((await open({ location: `${server.url}nothing.tgz` })).list()).rejects.toMatchObject({
    code: 'E_NOT_FOUND',
    message: expect.stringMatching(/the tarball \/nothing\.tgz was not found on 127\.0\.0\.1:\d+ \(404\)\. `location` must be the URL of the tarball itself\./),
  });
  const guarded = await startStaticServer({ root: join(root, 'site'), auth: { token: 'right-token' } });
  try {
    await expect((await open({ location: `${guarded.url}registry.tgz` })).list()).rejects.toMatchObject({
      code: 'E_AUTH',
      message: expect.stringContaining('configure a `token`'),
    });
    const registry = await open({ location: `${guarded.url}registry.tgz`, token: 'wrong-token' });
    await expect(registry.list()).rejects.toMatchObject({ code: 'E_AUTH', message: expect.stringContaining('rejected the credentials') });
    const allowed = await open({ location: `${guarded.url}registry.tgz`, token: 'right-token' });
    expect((await allowed.list()).length).toBe(3);
  } finally {
    await guarded.close();
  }
});
