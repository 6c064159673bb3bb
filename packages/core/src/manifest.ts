/**
 * Reading an entry folder's `manifest.json`. Seven entries of the real AgentOS registry have only a `package.json`:
 * for those a manifest is built from the index entry and `package.json` (and flagged), because the registry's own
 * index lists them as valid entries and their code is their npm package; refusing them would hide real entries.
 */
import { readFileInside } from './entry-files.js';
import { RegistryError } from './errors.js';
import { parseJsonDocument } from './json-text.js';
import { parseDocument, registrySchemas } from './schema.js';
import type { ExtensionManifest, IndexEntry, RegistryWarning } from './types.js';

export interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
  type?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * The parsed JSON file `name` of the entry folder `dir`, or `undefined` when there is none. Read with
 * `readFileInside`: a link out of the folder or a FIFO is `E_UNSAFE_PATH`, never followed or waited on. A parse
 * failure names the line and column, never the bytes.
 */
export async function readJsonFile(dir: string, name: string, label: string, registry: string): Promise<unknown | undefined> {
  const bytes = await readFileInside(dir, name, { registry, label });
  if (bytes === undefined) return undefined;
  return parseJsonDocument(bytes.toString('utf8'), {
    code: 'E_INDEX_INVALID',
    file: label,
    registry,
    label: `${label} in registry "${registry}"`,
    next: 'Ask the registry owner to fix it.',
  });
}

export interface ReadManifestResult {
  manifest: ExtensionManifest;
  synthesized: boolean;
  packageJson: PackageJson | undefined;
  warnings: RegistryWarning[];
}

/**
 * Reads (or, lacking `manifest.json`, builds) the manifest of a fetched entry and notes drift from the index. `where`
 * names the folder in messages: the entry's path in its registry (the default), or for code taken from a package
 * `package <name>@<version>`, so that a warning says which of the two lacks or contradicts the manifest.
 */
export async function readEntryManifest(dir: string, entry: IndexEntry, registry: string, where: string = entry.path): Promise<ReadManifestResult> {
  const label = `${where}/manifest.json`;
  const packageJson = (await readJsonFile(dir, 'package.json', `${where}/package.json`, registry)) as PackageJson | undefined;
  const raw = await readJsonFile(dir, 'manifest.json', label, registry);
  const warnings: RegistryWarning[] = [];
  let manifest: ExtensionManifest;
  let synthesized = false;

  if (raw !== undefined) {
    manifest = parseDocument(registrySchemas().manifest, raw, { file: label, registry, label: `${label} in registry "${registry}"` }) as ExtensionManifest;
  } else if (entry.section === 'personas') {
    manifest = { id: entry.id, name: entry.name, version: entry.version, kind: 'persona' };
    synthesized = true;
  } else if (packageJson !== undefined || entry.package) {
    synthesized = true;
    manifest = {
      id: entry.id,
      name: entry.name,
      version: entry.version,
      ...(entry.description ? { description: entry.description } : {}),
      ...(entry.package ? { package: entry.package } : {}),
      ...(entry.kinds.length > 0 ? { kind: entry.kinds[0] } : {}),
      ...(Array.isArray(entry.raw.tools) ? { tools: entry.raw.tools as string[] } : {}),
    };
    warnings.push({
      code: 'W_MANIFEST_SYNTHESIZED',
      message: `${where} has no manifest.json; its manifest was built from the index entry${packageJson ? ' and package.json' : ''}.`,
      registry,
      entry: entry.id,
    });
  } else {
    throw new RegistryError(
      'E_MANIFEST_MISSING',
      `${label} is missing in registry "${registry}", and the entry names no package.json or npm package to describe it. Ask the registry owner to add manifest.json.`,
      { registry, details: { file: label } },
    );
  }

  if (!synthesized && manifest.version !== entry.version) {
    warnings.push({
      code: 'W_VERSION_DRIFT',
      message: `registry.json lists ${entry.id} as version ${entry.version}, but ${where === entry.path ? 'its manifest.json' : `the manifest.json of ${where}`} says ${manifest.version}${packageJson?.version ? ` (package.json says ${packageJson.version})` : ''}. The index version is the one resolved; ask the registry owner to align them.`,
      registry,
      entry: entry.id,
    });
  }
  return { manifest, synthesized, packageJson, warnings };
}
