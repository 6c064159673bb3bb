import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { packRegistry } from '../../src/index.js';

type Index = Record<string, Record<string, Array<Record<string, unknown>>> | unknown>;

/**
 * Publishes a registry folder as a static site: `agentos-registry pack`'s work. When pack refuses the folder
 * (E_UNSAFE_PATH: an index entry whose path leaves the registry), the registry.json is published as a hand-edited or
 * hostile site would serve it — the previous site's `dist` kept for the entries it had — so that what the *reader*
 * does with such an index is still tested.
 */
export async function publishSite(registryDir: string, siteDir: string): Promise<void> {
  try {
    await packRegistry(registryDir, siteDir);
  } catch (error) {
    if (!isRegistryError(error) || error.code !== 'E_UNSAFE_PATH') throw error;
    const previous = JSON.parse(await readFile(join(siteDir, 'registry.json'), 'utf8')) as Index;
    const next = JSON.parse(await readFile(join(registryDir, 'registry.json'), 'utf8')) as Index;
    const dists = new Map<string, unknown>();
    for (const entry of entriesOf(previous)) dists.set(`${entry.id}@${entry.version}`, entry.dist);
    for (const entry of entriesOf(next)) {
      const dist = dists.get(`${entry.id}@${entry.version}`);
      if (dist) entry.dist = dist;
    }
    await writeFile(join(siteDir, 'registry.json'), `${JSON.stringify(next, null, 2)}\n`);
  }
}

function entriesOf(index: Index): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const section of ['extensions', 'personas']) {
    for (const list of Object.values((index[section] ?? {}) as Record<string, Array<Record<string, unknown>>>)) out.push(...list);
  }
  return out;
}
