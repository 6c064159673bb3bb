import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSourceConformance } from '@agentos-registry/source-testkit';
import { startTlsFront, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmSource } from '../src/index.js';
import { startRegistryServer } from './support/packages.js';

// Publishing is `npm publish` of the fixture folder to a real Verdaccio, in the private scope so every check also
// runs with a token; an update publishes the edited folder as the next patch version.
let server: VerdaccioServer;
let token: string;
let published = 0;

beforeAll(async () => {
  ({ server, token } = await startRegistryServer());
}, 60_000);
afterAll(() => server?.close());

runSourceConformance(
  { describe, test, expect, beforeAll, afterAll },
  {
    name: 'npm (Verdaccio)',
    adapter: [npmSource()],
    async setup(fixture) {
      published += 1;
      const name = `@private/conformance-registry-${published}`;
      let patch = 0;
      const publish = async () => {
        await writeFile(join(fixture.dir, 'package.json'), `${JSON.stringify({ name, version: `1.0.${patch}` }, null, 2)}\n`);
        await server.publish(fixture.dir, { token });
      };
      await publish();
      return {
        config: { type: 'npm', location: name, registry: server.url, token },
        update: async (mutate) => {
          await mutate(fixture.dir);
          patch += 1;
          await publish();
        },
      };
    },
    // The same Verdaccio behind an HTTPS front. Verdaccio builds tarball URLs from the Host header (the front's, passed
    // on) and X-Forwarded-Proto (which the front sets), so the tarball is fetched over https from the front too.
    async https(fixture, tls) {
      published += 1;
      const name = `@private/conformance-registry-${published}`;
      await writeFile(join(fixture.dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0' }, null, 2)}\n`);
      await server.publish(fixture.dir, { token });
      const front = await startTlsFront(server.url, tls);
      return {
        config: { type: 'npm', location: name, registry: front.url, token },
        update: () => Promise.reject(new Error('the HTTPS registry is read-only')),
        teardown: () => front.close(),
      };
    },
  },
  // npm tarballs carry no symlinks (npm pack leaves them out), so the escaping-symlink check cannot be published.
  { skip: { unsafePath: true }, timeout: 60_000 },
);
