import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeterministicTarball } from '@agentos-registry/core';
import { runSourceConformance } from '@agentos-registry/source-testkit';
import { startStaticServer, startTlsFront } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tarballSource } from '../src/index.js';

/** Publishing is packing the registry folder into `registry.tgz`, which a real static server on 127.0.0.1 serves (strong ETags, 304). */
async function pack(dir: string, site: string): Promise<void> {
  await writeFile(join(site, 'registry.tgz'), await createDeterministicTarball(dir));
}

// The whole suite, nothing skipped: a tarball carries symlinks, so the escaping-link check is published too.
runSourceConformance(
  { describe, test, expect, beforeAll, afterAll },
  {
    name: 'tarball (the minimal source of docs/writing-a-source.md)',
    adapter: [tarballSource()],
    async setup(fixture) {
      const site = await mkdtemp(join(tmpdir(), 'minimal-source-site-'));
      await pack(fixture.dir, site);
      const server = await startStaticServer({ root: site });
      return {
        config: { type: 'tarball', location: `${server.url}registry.tgz` },
        update: async (mutate) => {
          await mutate(fixture.dir);
          await pack(fixture.dir, site);
        },
        teardown: async () => {
          await server.close();
          await rm(site, { recursive: true, force: true });
        },
      };
    },
    // The transport checks: the same tarball over HTTPS behind the kit's private CA. The source only hands its config
    // to createSourceHttpClient, so `ca` works without a line of its own.
    async https(fixture, tls) {
      const site = await mkdtemp(join(tmpdir(), 'minimal-source-site-'));
      await pack(fixture.dir, site);
      const server = await startStaticServer({ root: site });
      const front = await startTlsFront(server.url, tls);
      return {
        config: { type: 'tarball', location: `${front.url}/registry.tgz` },
        update: () => Promise.reject(new Error('the HTTPS registry is read-only')),
        teardown: async () => {
          await front.close();
          await server.close();
          await rm(site, { recursive: true, force: true });
        },
      };
    },
  },
);
