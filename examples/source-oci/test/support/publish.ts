import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRegistryError, packRegistry } from '@agentos-registry/core';
import { OCI_TEST_USER } from '@agentos-registry/test-servers';
import { type PushArtifact, pushArtifact } from '../../src/index.js';

export const LOGIN = `${OCI_TEST_USER.username}:${OCI_TEST_USER.password}`;

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
