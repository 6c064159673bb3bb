import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeterministicTarball } from '@agentos-registry/core';
import { runSourceConformance } from '@agentos-registry/source-testkit';
import { startStaticServer } from '@agentos-registry/test-servers';
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
  },
);
