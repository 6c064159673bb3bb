import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistry, isRegistryError, packRegistry, type RegistryConfig } from '@agentos-registry/core';
import { writeConformanceFixture } from '@agentos-registry/source-testkit';
import { makeTempDir, OCI_TEST_USER, type OciRegistryOptions, startOciRegistry, type TempDir } from '@agentos-registry/test-servers';
import { ociSource, type PushArtifact, pushArtifact, pushRegistry } from '../../src/index.js';

export const LOGIN = `${OCI_TEST_USER.username}:${OCI_TEST_USER.password}`;

/** What a test opened (registries, servers, folders); the test file's afterEach closes them, last first. */
export const opened: Array<{ close(): Promise<void> }> = [];

/** A real registry (Debian's docker-registry) with the conformance fixture pushed as `agentos/registry:1.0.0`. */
export async function published(options: OciRegistryOptions = {}) {
  const server = await startOciRegistry(options);
  opened.push(server);
  const dir = await makeTempDir('source-oci-fixture-');
  opened.push(dir);
  await writeConformanceFixture(join(dir.path, 'registry'));
  const location = `oci://${server.host}/agentos/registry:1.0.0`;
  const digest = await pushRegistry(join(dir.path, 'registry'), location, {
    plainHttp: true,
    ...(options.auth && options.auth !== 'none' ? { token: LOGIN } : {}),
  });
  return { server, location, digest, dir };
}

/** A registry of one `oci` registry at `location`, caching in `dir/cache`, with only `env` as its environment. */
export async function registryFor(location: string, dir: TempDir, extra: Record<string, unknown> = {}, env: Record<string, string> = {}, policy?: unknown) {
  const config = {
    ...(policy ? { policy } : {}),
    registries: { oci: { type: 'oci', location, plainHttp: true, cacheDuration: 0, ...extra } },
    cacheSettings: { directory: join(dir.path, 'cache') },
  };
  const registry = await createRegistry(config as RegistryConfig, { sources: [ociSource()], env: { ...env } });
  opened.push(registry);
  return registry;
}

/** `resolved`, or the code of the RegistryError the promise failed with. */
export const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error) => (isRegistryError(error) ? error.code : String(error)),
  );

/**
 * Publishes a registry folder as `pushRegistry` does (core's `packRegistry`, then `pushArtifact`). When pack refuses
 * the folder (E_UNSAFE_PATH: an index entry whose path leaves the registry), the registry.json is pushed as a
 * hand-made or hostile artifact would carry it, with the entry layers of the previous push, so that what the *reader*
 * does with such an index is still tested.
 */
export function publisher(location: string, token: string | undefined) {
  let last: PushArtifact['entries'] = [];
  return async (dir: string): Promise<string> => {
    const site = await mkdtemp(join(tmpdir(), 'source-oci-pack-'));
    try {
      const packed = await packRegistry(dir, site);
      last = await Promise.all(packed.entries.map(async (e) => ({ path: e.path, tarball: await readFile(join(site, e.tarball)) })));
    } catch (error) {
      if (!isRegistryError(error) || error.code !== 'E_UNSAFE_PATH') throw error;
    } finally {
      await rm(site, { recursive: true, force: true });
    }
    return pushArtifact(location, { index: await readFile(join(dir, 'registry.json')), entries: last }, { plainHttp: true, ...(token ? { token } : {}) });
  };
}
