import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conformanceFixture } from '@agentos-registry/source-testkit';
import { hasDockerRegistry, makeTempDir, OCI_TEST_USER, type OciRegistry } from '@agentos-registry/test-servers';
import { afterEach, describe, expect, test } from 'vitest';
import { INDEX_TITLE, parseOciReference, TITLE } from '../src/index.js';
import { codeOf, LOGIN, opened, published, registryFor } from './support/publish.js';

const echo = conformanceFixture.entries[0]!;
const cleanup = opened;
afterEach(async () => {
  for (const item of cleanup.splice(0).reverse()) await item.close();
});

describe('parseOciReference', () => {
  test.each([
    ['oci://127.0.0.1:5000/team/registry:1.2.0', { host: '127.0.0.1:5000', name: 'team/registry', reference: '1.2.0', pinned: false }],
    ['oci://ghcr.io/org/reg:1.2.0+build.7', { host: 'ghcr.io', name: 'org/reg', reference: '1.2.0_build.7', pinned: false }],
    [`oci://h/r@sha256:${'a'.repeat(64)}`, { host: 'h', name: 'r', reference: `sha256:${'a'.repeat(64)}`, pinned: true }],
    [`oci://h/r:1@sha256:${'b'.repeat(64)}`, { host: 'h', name: 'r', reference: `sha256:${'b'.repeat(64)}`, pinned: true }],
  ])('%s', (location, expected) => expect(parseOciReference(location)).toEqual(expected));
  test.each(['oci://h/r', 'https://h/r:1', 'oci://user:pw@h/r:1', 'oci://h/Upper:1', 'oci://h/r:1?x=y', 'oci://h/r@sha256:short'])('refuses %s', (location) =>
    expect(parseOciReference(location)).toBeUndefined(),
  );
});

describe('config', () => {
  test('config problems are E_CONFIG before anything runs', async () => {
    const dir = await makeTempDir('source-oci-config-');
    cleanup.push(dir);
    expect(await codeOf(registryFor('oci://user:pw@127.0.0.1:1/r:1', dir))).toBe('E_CONFIG');
    expect(await codeOf(registryFor('oci://127.0.0.1:1/r:1', dir, { plainHttp: 'yes' }))).toBe('E_CONFIG');
  });
});

const hasRegistry = hasDockerRegistry();

/** The manifest and its layers, read as any OCI client would. */
async function layers(server: OciRegistry, auth?: string): Promise<Array<{ digest: string; annotations: Record<string, string> }>> {
  const res = await fetch(`${server.url}/v2/agentos/registry/manifests/1.0.0`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json', ...(auth ? { authorization: auth } : {}) },
  });
  return ((await res.json()) as { layers: Array<{ digest: string; annotations: Record<string, string> }> }).layers;
}

const requestLine = (r: { method: string; path: string; status: number }) => `${r.method} ${r.path.replace(/sha256:[0-9a-f]{64}/, 'sha256:…')} ${r.status}`;

describe.skipIf(!hasRegistry)(
  `oci source against docker-registry${hasRegistry ? '' : ' (skipped: docker-registry is not installed; apt-get install docker-registry)'}`,
  () => {
    test('a cold fetch is the manifest, the index blob and the entry blob; an unchanged revalidation is one HEAD', async () => {
      const { server, location, dir } = await published();
      const before = server.requests().length;
      const registry = await registryFor(location, dir);
      const fetched = await registry.fetch('tool', echo.id);
      expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toBe(echo.files['src/index.js']);
      expect(server.requests().slice(before).map(requestLine)).toEqual([
        'GET /v2/agentos/registry/manifests/1.0.0 200',
        'GET /v2/agentos/registry/blobs/sha256:… 200',
        'GET /v2/agentos/registry/blobs/sha256:… 200',
      ]);
      // Another process with the same cache: the index is revalidated (cacheDuration 0) with one HEAD, the entry is cached.
      const warm = server.requests().length;
      const again = await registryFor(location, dir);
      await again.fetch('tool', echo.id);
      expect(server.requests().slice(warm).map(requestLine)).toEqual(['HEAD /v2/agentos/registry/manifests/1.0.0 200']);
    });

    test('a pinned digest needs no revision request at all', async () => {
      const { server, location, digest, dir } = await published();
      const pinned = location.replace(/:1\.0\.0$/, `@${digest}`);
      await (await registryFor(pinned, dir)).fetch('tool', echo.id);
      const warm = server.requests().length;
      await (await registryFor(pinned, dir)).list();
      expect(server.requests().slice(warm)).toEqual([]);
    });

    test('a tampered entry blob is E_INTEGRITY, and so is a tampered registry.json', async () => {
      const { server, location, dir } = await published();
      const all = await layers(server);
      const index = all.find((l) => l.annotations[TITLE] === INDEX_TITLE)!;
      const entry = all.find((l) => l.annotations[TITLE] === echo.folder)!;
      const other = all.find((l) => l !== index && l !== entry)!;
      // The registry serves what its storage holds: another entry's (valid) tarball in place of the echo tool's.
      await writeFile(server.blobFile(entry.digest), await readFile(server.blobFile(other.digest)));
      expect(await codeOf((await registryFor(location, dir)).fetch('tool', echo.id))).toBe('E_INTEGRITY');
      const text = await readFile(server.blobFile(index.digest), 'utf8');
      await writeFile(server.blobFile(index.digest), text.replace('"1.0.0"', '"9.9.9"'));
      const fresh = await makeTempDir('source-oci-cache-');
      cleanup.push(fresh);
      expect(await codeOf((await registryFor(location, fresh)).list())).toBe('E_INTEGRITY');
    });

    test('a pinned manifest whose stored bytes were altered is E_INTEGRITY', async () => {
      const { server, location, digest, dir } = await published();
      const text = await readFile(server.blobFile(digest), 'utf8');
      // Same length, still JSON, still an agentos artifact: only the hash tells (unchecked, the index layer would be "missing").
      await writeFile(server.blobFile(digest), text.replace('registry.json"', 'registry.jsoN"'));
      expect(await codeOf((await registryFor(location.replace(/:1\.0\.0$/, `@${digest}`), dir)).list())).toBe('E_INTEGRITY');
    });

    test('a missing tag is E_NOT_FOUND', async () => {
      const { server, dir } = await published();
      expect(await codeOf((await registryFor(`oci://${server.host}/agentos/registry:2.0.0`, dir)).list())).toBe('E_NOT_FOUND');
    });

    test.each(['htpasswd', 'token'] as const)('%s: no or a wrong password is E_AUTH; the right one works', async (auth) => {
      const { location, dir } = await published({ auth });
      expect(await codeOf((await registryFor(location, dir)).list())).toBe('E_AUTH');
      expect(await codeOf((await registryFor(location, dir, { token: `${OCI_TEST_USER.username}:wrong` })).list())).toBe('E_AUTH');
      expect(await codeOf((await registryFor(location, dir, { token: LOGIN })).fetch('tool', echo.id))).toBe('resolved');
    });

    test('a docker/podman auth file gives the login when the config has no token', async () => {
      const { server, location, dir } = await published({ auth: 'htpasswd' });
      const auths = { auths: { [server.host]: { auth: Buffer.from(LOGIN).toString('base64') } } };
      await writeFile(join(dir.path, 'auth.json'), JSON.stringify(auths));
      const hour = { cacheDuration: 3_600_000 };
      const registry = await registryFor(location, dir, hour, { REGISTRY_AUTH_FILE: join(dir.path, 'auth.json') });
      expect(await codeOf(registry.fetch('tool', echo.id))).toBe('resolved');
      // The same registry without the login, same cache, index still fresh: it is not served what the login read.
      expect(await codeOf((await registryFor(location, dir, hour)).list())).toBe('E_AUTH');
    });

    test("Podman's auth file in $XDG_CONFIG_HOME/containers gives the login too", async () => {
      const { server, location, dir } = await published({ auth: 'htpasswd' });
      await mkdir(join(dir.path, 'config', 'containers'), { recursive: true });
      const auths = { auths: { [server.host]: { auth: Buffer.from(LOGIN).toString('base64') } } };
      await writeFile(join(dir.path, 'config', 'containers', 'auth.json'), JSON.stringify(auths));
      expect(await codeOf((await registryFor(location, dir, {}, { XDG_CONFIG_HOME: join(dir.path, 'config') })).fetch('tool', echo.id))).toBe('resolved');
    });

    test('the token goes to the registry and Basic to the token realm, never to the blob host a registry redirects to', async () => {
      const { server, location, dir } = await published({ auth: 'token', redirectBlobs: true });
      const fetched = await (await registryFor(location, dir, { token: LOGIN })).fetch('tool', echo.id);
      expect(await readFile(join(fetched.dir, 'src/index.js'), 'utf8')).toBe(echo.files['src/index.js']);
      expect(server.blobHostRequests.length).toBeGreaterThanOrEqual(2); // registry.json and the entry came from there
      expect(server.blobHostRequests.map((r) => r.authorization)).toEqual(server.blobHostRequests.map(() => undefined));
      expect(new Set(server.tokenRequests.map((r) => r.authorization))).toEqual(new Set(['basic']));
    });
  },
);
