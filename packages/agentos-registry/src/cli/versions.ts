/**
 * `info <ref> --versions`: every version of the entry that the configured registries list, so a user can see what a
 * range could pick and where each version lives. The same entry is matched by id, or by npm package when it has one.
 * A registry that cannot be read is skipped with a warning: the versions of the others are still worth showing.
 */
import { type EntryInfo, isRegistryError, type Registry } from '@agentos-registry/core';
import { table } from './format.js';

export interface ListedVersion {
  registry: string;
  version: string;
  tier: string;
  /** The version `info` chose. */
  chosen: boolean;
}

export async function versionsOf(registry: Registry, info: EntryInfo, warn: (message: string) => void): Promise<ListedVersion[]> {
  const rows: ListedVersion[] = [];
  for (const name of registry.registryNames) {
    let listed: Awaited<ReturnType<Registry['list']>>;
    try {
      listed = await registry.list({ registry: name });
    } catch (error) {
      warn(`registry "${name}" was not read for --versions: ${isRegistryError(error) ? `[${error.code}] ` : ''}${(error as Error).message}`);
      continue;
    }
    for (const row of listed) {
      const same = row.id === info.id || (info.entry.package !== undefined && row.package === info.entry.package);
      if (!same) continue;
      const chosen = row.registry === info.registry && row.version === info.version && row.tier === info.entry.tier;
      rows.push({ registry: row.registry, version: row.version, tier: row.tier, chosen });
    }
  }
  // In the registries' order, each as `list` gives it (curated tiers first).
  return rows;
}

export function versionsText(versions: readonly ListedVersion[]): string {
  return `\nversions:\n${table(
    ['VERSION', 'REGISTRY', 'TIER', ''],
    versions.map((v) => [v.version, v.registry, v.tier, v.chosen ? '(this one)' : '']),
  )}`;
}
