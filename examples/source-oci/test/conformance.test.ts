import { runSourceConformance } from '@agentos-registry/source-testkit';
import { hasDockerRegistry, startOciRegistry, startTlsFront } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ociSource } from '../src/index.js';
import { LOGIN, publisher } from './support/publish.js';

// A real registry: Debian's docker-registry (the CNCF distribution registry), once per auth variant. `.ci/run` installs it.
const variants = [
  { auth: 'none', token: undefined },
  { auth: 'htpasswd', token: LOGIN },
  { auth: 'token', token: LOGIN },
] as const;

if (!hasDockerRegistry()) {
  describe.skip('source conformance: oci (docker-registry is not installed: apt-get install docker-registry)', () => {
    test('skipped', () => {});
  });
} else {
  for (const variant of variants) {
    runSourceConformance(
      { describe, test, expect, beforeAll, afterAll },
      {
        name: `oci (docker-registry, auth ${variant.auth})`,
        adapter: [ociSource()],
        async setup(fixture) {
          const server = await startOciRegistry({ auth: variant.auth });
          const location = `oci://${server.host}/conformance/registry:1.0.0`;
          const publish = publisher(location, variant.token);
          await publish(fixture.dir);
          return {
            config: { type: 'oci', location, plainHttp: true, ...(variant.token ? { token: variant.token } : {}) },
            update: async (mutate) => {
              await mutate(fixture.dir);
              await publish(fixture.dir);
            },
            teardown: () => server.close(),
          };
        },
        // The same registry behind an HTTPS front with the kit's certificate: `ca` reaches the source's client.
        async https(fixture, tls) {
          const server = await startOciRegistry({ auth: variant.auth });
          const location = `oci://${server.host}/conformance/registry:1.0.0`;
          await publisher(location, variant.token)(fixture.dir);
          const front = await startTlsFront(server.url, tls);
          return {
            config: {
              type: 'oci',
              location: `oci://${new URL(front.url).host}/conformance/registry:1.0.0`,
              ...(variant.token ? { token: variant.token } : {}),
            },
            update: () => Promise.reject(new Error('the HTTPS registry is read-only')),
            teardown: async () => {
              await front.close();
              await server.close();
            },
          };
        },
      },
      // Push packs each entry folder on its own (core's packRegistry), which refuses a symlink that leaves its entry,
      // so that check cannot be published through this medium; the `../outside` index entry is.
      { skip: { unsafePath: true } },
    );
  }
}
