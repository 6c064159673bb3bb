import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CacheStore, hashDirectory, silentLogger } from '@agentos-registry/core';
import { hasOpenssl, makeTestCertificates, startForwardProxy, startStaticServer, startTlsFront } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { integrityOf, packRegistry, urlSource } from '../src/index.js';
import { codeOf, errorOf, filesUnder, openRegistry, tempDir, templateRegistry, track } from './support/scene.js';
import { servedSite } from './support/site.js';
import { tarWith } from './support/tar.js';

const ENTRIES = [
  ['tool', 'com.example.echo', 'registry/curated/echo'],
  ['tool', 'com.example.calculator', 'registry/curated/calculator'],
  ['persona', 'com.example.helpful-assistant', 'registry/personas/helpful-assistant'],
] as const;

async function siteIndex(siteDir: string) {
  return JSON.parse(await readFile(join(siteDir, 'registry.json'), 'utf8'));
}

describe('url source through core', () => {
  test('a cold registry: one GET of registry.json, then one GET per entry tarball; files as published', async () => {
    const site = await servedSite();
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    expect((await registry.list()).map((row) => row.id).sort()).toEqual(ENTRIES.map(([, id]) => id).sort());
    for (const [kind, id, path] of ENTRIES) {
      const fetched = await registry.fetch(kind, id);
      expect(fetched.integrity).toBe(await hashDirectory(join(templateRegistry, path)));
      expect(fetched.provenance).toMatchObject({ sourceType: 'url', location: site.server.url, revision: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    }
    expect(site.server.requests.map((r) => `${r.method} ${r.path.replace(/-[0-9a-f]{16}\.tgz$/, '.tgz')} ${r.status}`)).toEqual([
      'GET /registry.json 200',
      'GET /tarballs/com.example.echo-1.0.0.tgz 200',
      'GET /tarballs/com.example.calculator-1.0.0.tgz 200',
      'GET /tarballs/com.example.helpful-assistant-1.0.0.tgz 200',
    ]);
  });

  test('revalidating an unchanged registry is one request, answered 304, with no body', async () => {
    const site = await servedSite();
    const cache = await tempDir('cache');
    await (await openRegistry({ location: site.server.url }, cache)).list();
    const before = site.server.requests.length;
    const again = await openRegistry({ location: site.server.url }, cache, { refresh: true });
    await again.list();
    const revalidation = site.server.requests.slice(before);
    expect(revalidation.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /registry.json 304']);
    // The validators came back: If-None-Match with the ETag (and If-Modified-Since with Last-Modified).
    expect(revalidation[0]!.headers['if-none-match']).toMatch(/^".+"$/);
    expect(revalidation[0]!.headers['if-modified-since']).toBeDefined();
  });

  test('a later process fetches an entry with no request for registry.json: the index copy is in the work folder', async () => {
    const site = await servedSite();
    const cache = await tempDir('cache');
    await (await openRegistry({ location: site.server.url }, cache)).list();
    const before = site.server.requests.length;
    const later = await openRegistry({ location: site.server.url }, cache);
    await later.fetch('tool', 'com.example.echo');
    expect(site.server.requests.slice(before).map((r) => r.path.replace(/-[0-9a-f]{16}\.tgz$/, '.tgz'))).toEqual(['/tarballs/com.example.echo-1.0.0.tgz']);
  });

  test('a re-published site is a new revision with the new files; the old revision id is content, not the ETag', async () => {
    const site = await servedSite();
    const cache = await tempDir('cache');
    const first = await (await openRegistry({ location: site.server.url }, cache)).fetch('tool', 'com.example.echo');
    await writeFile(join(site.registryDir, 'registry/curated/echo/src/index.js'), 'export const edited = 1;\n');
    await site.republish();
    const second = await (await openRegistry({ location: site.server.url }, cache, { refresh: true })).fetch('tool', 'com.example.echo');
    expect(second.revision).not.toBe(first.revision);
    expect(await readFile(join(second.dir, 'src/index.js'), 'utf8')).toBe('export const edited = 1;\n');
  });

  test('an entry without dist is E_INDEX_INVALID, saying to publish with agentos-registry pack', async () => {
    const site = await servedSite();
    const index = await siteIndex(site.siteDir);
    delete index.extensions.curated[0].dist;
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.message).toContain('agentos-registry pack');
    // The other entries are fine.
    expect((await registry.fetch('tool', 'com.example.calculator')).id).toBe('com.example.calculator');

    // A dist without integrity breaks the schema core checks: the whole index is refused, naming the field.
    delete index.extensions.curated[1].dist.integrity;
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const unchecked = await errorOf((await openRegistry({ location: site.server.url }, await tempDir('cache'))).list());
    expect(unchecked.code).toBe('E_INDEX_INVALID');
    expect(unchecked.message).toContain('extensions.curated[1].dist.integrity');
  });

  test('an integrity that is not a usable SRI hash is E_INDEX_INVALID, and nothing is downloaded', async () => {
    const site = await servedSite();
    const index = await siteIndex(site.siteDir);
    index.extensions.curated[0].dist.integrity = 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=';
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    expect(await codeOf(registry.fetch('tool', 'com.example.echo'))).toBe('E_INDEX_INVALID');
    expect(site.server.requests.map((r) => r.path)).toEqual(['/registry.json']);
  });

  test('a tampered tarball is E_INTEGRITY and nothing is cached; the intact tarball is fetched afterwards', async () => {
    const site = await servedSite();
    const cache = await tempDir('cache');
    const { tarball } = (await siteIndex(site.siteDir)).extensions.curated[0].dist;
    const file = join(site.siteDir, tarball);
    const good = await readFile(file);
    const bad = Buffer.from(good);
    bad[bad.length - 9]! ^= 0xff;
    await writeFile(file, bad);
    const registry = await openRegistry({ location: site.server.url }, cache);
    // A damaged byte near the end: the archive fails to inflate, but only once every byte was read and hashed, so the
    // mismatch is what is reported (the extractor's error is its cause).
    const damaged = await errorOf(registry.fetch('tool', 'com.example.echo'));
    expect(damaged.code).toBe('E_INTEGRITY');
    expect(damaged.message).toContain('does not match the sha512 integrity it was published with');
    expect((damaged.cause as { code?: string } | undefined)?.code).toBe('E_INTEGRITY');
    // A sound archive that is not the published one extracts fine, and is then refused by its hash.
    await writeFile(file, await readFile(join(site.siteDir, (await siteIndex(site.siteDir)).extensions.curated[1].dist.tarball)));
    const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
    expect(error.code).toBe('E_INTEGRITY');
    expect(error.message).toContain('does not match the sha512 integrity it was published with; nothing of it was kept');
    expect((await new CacheStore(cache).summary())[0]!.entries).toBe(0);
    expect(await filesUnder(join(cache, 'v1', 'content'))).toEqual([]);
    expect(await filesUnder(join(cache, 'v1', 'tmp'))).toEqual([]);

    await writeFile(file, good);
    const fetched = await registry.fetch('tool', 'com.example.echo');
    expect(fetched.integrity).toBe(await hashDirectory(join(templateRegistry, 'registry/curated/echo')));
  });

  test('a tarball cut short on the server is a mismatch of its integrity, not a damaged archive', async () => {
    const site = await servedSite();
    const { tarball } = (await siteIndex(site.siteDir)).extensions.curated[0].dist;
    const file = join(site.siteDir, tarball);
    const good = await readFile(file);
    // Served whole as far as HTTP goes (its own Content-Length), so no retry: the bytes simply end too soon.
    for (const cut of [good.subarray(0, good.length - 4), good.subarray(0, Math.floor(good.length / 2))]) {
      await writeFile(file, cut);
      const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
      const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
      expect(error.code).toBe('E_INTEGRITY');
      expect(error.message).toContain('does not match the sha512 integrity it was published with; nothing of it was kept');
    }
    // Damage the extractor meets before the end still stops the download there: its own E_INTEGRITY, unhashed.
    const early = Buffer.concat([good.subarray(0, 10), Buffer.alloc(64 * 1024, 0x55)]);
    await writeFile(file, early);
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    const error = await errorOf(registry.fetch('tool', 'com.example.echo'));
    expect(error.code).toBe('E_INTEGRITY');
  });

  test('a tarball with a symlink out of the entry is E_UNSAFE_PATH, even with a matching integrity', async () => {
    const site = await servedSite();
    const index = await siteIndex(site.siteDir);
    const hostile = tarWith([
      { path: 'package/manifest.json', body: '{"name":"x","version":"1.0.0"}' },
      { path: 'package/leak', linkTo: '../../../etc/passwd' },
    ]);
    await writeFile(join(site.siteDir, 'tarballs/hostile.tgz'), hostile);
    index.extensions.curated[0].dist = { tarball: 'tarballs/hostile.tgz', integrity: integrityOf(hostile) };
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const cache = await tempDir('cache');
    const registry = await openRegistry({ location: site.server.url }, cache);
    expect(await codeOf(registry.fetch('tool', 'com.example.echo'))).toBe('E_UNSAFE_PATH');
    expect(await filesUnder(join(cache, 'v1', 'content'))).toEqual([]);
  });

  test('a missing tarball is E_NOT_FOUND; a missing registry.json is E_NOT_FOUND naming pack', async () => {
    const site = await servedSite();
    const index = await siteIndex(site.siteDir);
    index.extensions.curated[0].dist.tarball = 'tarballs/gone.tgz';
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    expect(await codeOf(registry.fetch('tool', 'com.example.echo'))).toBe('E_NOT_FOUND');
    const nowhere = await openRegistry({ location: `${site.server.url}nowhere/` }, await tempDir('cache'));
    const error = await errorOf(nowhere.list());
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.message).toContain('agentos-registry pack');
  });

  test('an aborted call is E_ABORTED', async () => {
    const site = await servedSite();
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(registry.fetch('tool', 'com.example.echo', { signal: controller.signal }))).toBe('E_ABORTED');
    const source = urlSource().create({ type: 'url', location: site.server.url }, { registry: 'hosted', baseDir: '/', logger: silentLogger, env: {} });
    await track({ close: () => source.close?.() });
    expect(await codeOf(source.revision({ registry: 'hosted', signal: controller.signal, logger: silentLogger, workDir: await tempDir('work') }))).toBe(
      'E_ABORTED',
    );
  });
});

/** The real AgentOS extensions registry, kept next to the repository (see DESIGN.md). */
const realRegistry = process.env.AGENTOS_FIXTURES_DIR ?? resolve(templateRegistry, '../../../shared/fixtures/agentos-extensions');

describe('the real AgentOS registry (root-relative layout)', () => {
  test('packs, serves and fetches like the folder itself', async () => {
    const site = await tempDir('real-site');
    const packed = await packRegistry(realRegistry, site);
    const server = await track(startStaticServer({ root: site }));
    const registry = await openRegistry({ location: server.url }, await tempDir('cache'));
    const rows = await registry.list();
    expect(rows).toHaveLength(packed.entries.length);
    const first = packed.entries.find((entry) => entry.section === 'extensions')!;
    const fetched = await registry.fetch('tool', `hosted:${first.id}@${first.version}`, { code: 'registry' });
    expect(fetched.integrity).toBe(await hashDirectory(join(realRegistry, first.path)));
  });
});

describe('credentials', () => {
  const TOKEN = 'url-source-test-token-5f1d2c';

  test('the token goes to the registry origin as Bearer; without it the site answers E_AUTH', async () => {
    const site = await servedSite({ auth: { token: TOKEN } });
    const anonymous = await openRegistry({ location: site.server.url }, await tempDir('cache'));
    const refused = await errorOf(anonymous.list());
    expect(refused.code).toBe('E_AUTH');
    expect(refused.message).toContain('token');
    const wrong = await openRegistry({ location: site.server.url, token: 'wrong-token' }, await tempDir('cache'));
    expect(await codeOf(wrong.list())).toBe('E_AUTH');
    const registry = await openRegistry({ location: site.server.url, token: TOKEN }, await tempDir('cache'));
    await registry.fetch('tool', 'com.example.echo');
    expect(site.server.requests.filter((r) => r.status === 200).every((r) => r.authorization)).toBe(true);
  });

  test('a 302 of a tarball to another origin drops the token and the credential headers', async () => {
    const site = await servedSite({ auth: { token: TOKEN } });
    const cdn = await track(startStaticServer({ root: site.siteDir }));
    const { tarball } = (await siteIndex(site.siteDir)).extensions.curated[0].dist;
    site.server.setRedirect(`/${tarball}`, `${cdn.url}${tarball}`);
    const registry = await openRegistry({ location: site.server.url, token: TOKEN, headers: { 'X-Registry-Key': 'key-9a8b7c' } }, await tempDir('cache'));
    await registry.fetch('tool', 'com.example.echo');

    expect(site.server.requests.map((r) => [r.path, r.status, r.authorization, r.headers['x-registry-key']])).toEqual([
      ['/registry.json', 200, true, 'key-9a8b7c'],
      [`/${tarball}`, 302, true, 'key-9a8b7c'],
    ]);
    expect(cdn.requests.map((r) => [r.path, r.status, r.authorization, r.headers['x-registry-key']])).toEqual([[`/${tarball}`, 200, false, undefined]]);
  });

  test('headers carry other schemes to the registry origin; an absolute tarball URL on another origin gets none', async () => {
    const site = await servedSite();
    const cdn = await track(startStaticServer({ root: site.siteDir }));
    const index = await siteIndex(site.siteDir);
    index.extensions.curated[0].dist.tarball = `${cdn.url}${index.extensions.curated[0].dist.tarball}`;
    await writeFile(join(site.siteDir, 'registry.json'), JSON.stringify(index));
    const basic = `Basic ${Buffer.from('reader:s3cret-pass').toString('base64')}`;
    const registry = await openRegistry({ location: site.server.url, headers: { Authorization: basic } }, await tempDir('cache'));
    await registry.fetch('tool', 'com.example.echo');
    await registry.fetch('tool', 'com.example.calculator');
    expect(site.server.requests.every((r) => r.authorization)).toBe(true);
    expect(cdn.requests.map((r) => r.authorization)).toEqual([false]);
  });

  test('plain http:// off this machine is refused at config time unless allowInsecure', async () => {
    const cache = await tempDir('cache');
    const error = await errorOf(openRegistry({ location: 'http://registry.example.invalid' }, cache));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('allowInsecure');
    // Allowed, it is only a config: nothing connects until the first call.
    await openRegistry({ location: 'http://registry.example.invalid', allowInsecure: true }, cache);
  });
});

describe('enterprise networks', () => {
  test('HTTP_PROXY (from the env createRegistry is given) carries every request', async () => {
    const site = await servedSite();
    const proxy = await track(startForwardProxy());
    const registry = await openRegistry({ location: site.server.url }, await tempDir('cache'), { env: { HTTP_PROXY: proxy.url } });
    await registry.fetch('tool', 'com.example.echo');
    expect(proxy.requests.map((r) => `${r.method} ${new URL(r.target).pathname.replace(/-[0-9a-f]{16}\.tgz$/, '.tgz')} ${r.status}`)).toEqual([
      'GET /registry.json 200',
      'GET /tarballs/com.example.echo-1.0.0.tgz 200',
    ]);
    expect(site.server.requests).toHaveLength(2);
  });

  test('the proxy option wins over the environment, and NO_PROXY still applies', async () => {
    const site = await servedSite();
    const configured = await track(startForwardProxy());
    const fromEnv = await track(startForwardProxy());
    const registry = await openRegistry({ location: site.server.url, proxy: configured.url }, await tempDir('cache'), { env: { HTTP_PROXY: fromEnv.url } });
    await registry.list();
    expect([configured.requests.length, fromEnv.requests.length]).toEqual([1, 0]);
    const bypass = await openRegistry({ location: site.server.url, proxy: configured.url }, await tempDir('cache'), { env: { NO_PROXY: '127.0.0.1' } });
    await bypass.list();
    expect(configured.requests.length).toBe(1);
  });
});

describe.skipIf(!hasOpenssl())('private CAs over https', () => {
  test('ca (PEM text or a file) and NODE_EXTRA_CA_CERTS trust a private CA; HTTPS_PROXY tunnels through CONNECT', async () => {
    const site = await servedSite();
    // The site's static server behind HTTPS with a certificate of a CA made for this test (test-servers' TLS front).
    const tls = await track(makeTestCertificates());
    const https = await track(startTlsFront(site.server.url, tls));

    // Not trusted: a TLS failure is E_UNREACHABLE, never a silent downgrade.
    expect(await codeOf((await openRegistry({ location: https.url }, await tempDir('cache'))).list())).toBe('E_UNREACHABLE');

    const withPem = await openRegistry({ location: https.url, ca: tls.ca }, await tempDir('cache'));
    expect((await withPem.fetch('tool', 'com.example.echo')).integrity).toBe(await hashDirectory(join(templateRegistry, 'registry/curated/echo')));
    const withFile = await openRegistry({ location: https.url, ca: tls.caFile }, await tempDir('cache'));
    expect((await withFile.list()).length).toBe(3);
    const fromEnv = await openRegistry({ location: https.url }, await tempDir('cache'), { env: { NODE_EXTRA_CA_CERTS: tls.caFile } });
    expect((await fromEnv.list()).length).toBe(3);

    const proxy = await track(startForwardProxy());
    const proxied = await openRegistry({ location: https.url, ca: tls.ca }, await tempDir('cache'), { env: { HTTPS_PROXY: proxy.url } });
    await proxied.fetch('tool', 'com.example.calculator');
    expect(proxy.requests.map((r) => `${r.method} ${r.target} ${r.status}`)).toEqual([`CONNECT ${new URL(https.url).host} 200`]);
  });

  test('a ca file that cannot be read is E_CONFIG naming the field', async () => {
    const error = await errorOf(openRegistry({ location: 'https://registry.example.com', ca: './no-such-ca.pem' }, await tempDir('cache')));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toContain('registries.hosted.ca');
  });
});
