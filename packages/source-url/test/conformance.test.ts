import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@agentos-registry/core';
import { conformanceFixture, runSourceConformance, writeConformanceFixture } from '@agentos-registry/source-testkit';
import { startStaticServer, startTlsFront } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { urlSource } from '../src/index.js';
import { publishSite } from './support/publish.js';

// Publishing is `pack` into a site folder served by a real static server (ETag, Last-Modified, 304); an update is
// an edit of the registry folder followed by a re-pack.
runSourceConformance(
  { describe, test, expect, beforeAll, afterAll },
  {
    name: 'url (static HTTP site)',
    adapter: [urlSource()],
    async setup(fixture) {
      const site = await mkdtemp(join(tmpdir(), 'source-url-site-'));
      await publishSite(fixture.dir, site);
      const server = await startStaticServer({ root: site });
      return {
        config: { type: 'url', location: server.url },
        update: async (mutate) => {
          await mutate(fixture.dir);
          await publishSite(fixture.dir, site);
        },
        teardown: async () => {
          await server.close();
          await rm(site, { recursive: true, force: true });
        },
      };
    },
    // The same site behind an HTTPS front with the kit's certificate: the transport checks' `ca`.
    async https(fixture, tls) {
      const site = await mkdtemp(join(tmpdir(), 'source-url-site-'));
      await publishSite(fixture.dir, site);
      const server = await startStaticServer({ root: site });
      const front = await startTlsFront(server.url, tls);
      return {
        config: { type: 'url', location: front.url },
        update: () => Promise.reject(new Error('the HTTPS registry is read-only')),
        teardown: async () => {
          await front.close();
          await server.close();
          await rm(site, { recursive: true, force: true });
        },
      };
    },
  },
  // `pack` refuses to publish a symlink that leaves its entry, so that check cannot be published through this medium;
  // url-source.test.ts serves a hand-made tarball with such a link instead.
  // A static site's registry.json is the fixture's document plus a `dist` per entry, written by `pack`.
  { skip: { unsafePath: true }, indexEntryAdditions: ['dist'] },
);

describe('source conformance: url (static HTTP site), the index byte for byte', () => {
  test("readIndex returns the site's registry.json: the fixture's document plus a dist per entry", async () => {
    const root = await mkdtemp(join(tmpdir(), 'source-url-conf-'));
    const fixture = await writeConformanceFixture(join(root, 'fixture'));
    const site = join(root, 'site');
    await publishSite(fixture.dir, site);
    const server = await startStaticServer({ root: site });
    const source = urlSource().create({ type: 'url', location: server.url }, { registry: 'conformance', baseDir: root, logger: silentLogger, env: {} });
    try {
      const ctx = { registry: 'conformance', signal: new AbortController().signal, logger: silentLogger, workDir: root };
      const revision = await source.revision(ctx);
      if (revision === 'unchanged') throw new Error("revision() answered 'unchanged' without a previous revision");
      // The bytes come with the revision, and readIndex (asked without them) gives the same.
      expect(Buffer.from(revision.index!).equals(Buffer.from(await source.readIndex!(revision, ctx)))).toBe(true);
      const bytes = Buffer.from(revision.index!);
      expect(bytes.equals(await readFile(join(site, 'registry.json')))).toBe(true);
      const index = JSON.parse(bytes.toString('utf8'));
      for (const section of ['extensions', 'personas']) {
        for (const list of Object.values(index[section]) as Array<Array<Record<string, unknown>>>) {
          for (const entry of list) {
            expect(entry.dist).toEqual({ tarball: expect.stringMatching(/^tarballs\/.+\.tgz$/), integrity: expect.stringMatching(/^sha512-/) });
            delete entry.dist;
          }
        }
      }
      expect(index).toEqual(conformanceFixture.index);
    } finally {
      await source.close?.();
      await server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
