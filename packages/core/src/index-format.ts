/**
 * Reading `registry.json` in both real shapes into one list of entries: the page's (paths relative to `registry/`,
 * `curated`/`community` tiers) and the real AgentOS registry's (paths from the repository root, extra tiers such as
 * `templates`, `package` names). Unknown fields are kept in `raw`.
 */
import { RegistryError } from './errors.js';
import { parseJsonDocument } from './json-text.js';
import { normalizeRelativePath } from './paths.js';
import { parseDocument, type RawIndexEntry, type RawRegistryIndex, registrySchemas } from './schema.js';
import type { IndexEntry, RegistryIndex } from './types.js';

/** Order of tiers in listings and ties: curated first, community last, any other tier in between. */
export function tierRank(tier: string): number {
  if (tier === 'curated') return 0;
  if (tier === 'community') return 2;
  return 1;
}

function kindsOf(raw: RawIndexEntry, section: IndexEntry['section']): string[] {
  if (section === 'personas') return ['persona'];
  if (Array.isArray(raw.kinds)) return [...new Set(raw.kinds)];
  if (typeof raw.kind === 'string') return [raw.kind];
  if (Array.isArray(raw.tools) && raw.tools.length > 0) return ['tool'];
  return [];
}

function decodeJson(bytes: Uint8Array | string, file: string, registry: string): unknown {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  return parseJsonDocument(text, {
    code: 'E_INDEX_INVALID',
    file,
    registry,
    label: `${file} of registry "${registry}"`,
    next: 'Fix the file, or check that the location points at a registry.',
  });
}

/**
 * Parses and validates `registry.json`. Throws `E_INDEX_INVALID` (naming file and field) or `E_UNSAFE_PATH`.
 * `schemaChecked`: these exact bytes passed the schema before (core's own cache stores an index only after it did, and
 * checks its hash on every read), so the schema step is skipped; paths and ids are still checked.
 */
export function parseRegistryIndex(bytes: Uint8Array | string, options: { registry: string; file?: string; schemaChecked?: boolean }): RegistryIndex {
  const file = options.file ?? 'registry.json';
  const { registry } = options;
  const json = decodeJson(bytes, file, registry);
  const doc = options.schemaChecked
    ? (json as RawRegistryIndex)
    : parseDocument(registrySchemas().registryIndex, json, { file, registry, label: `${file} of registry "${registry}"` });
  if (doc.extensions === undefined && doc.personas === undefined) {
    throw new RegistryError(
      'E_INDEX_INVALID',
      `${file} of registry "${registry}" has neither "extensions" nor "personas"; a registry index lists its entries under one of them.`,
      { registry, details: { file, field: 'extensions' } },
    );
  }

  // Every entry path in its normal form (refused here when it could leave the registry), in the order of the loop below.
  const normal: string[] = [];
  for (const section of ['extensions', 'personas'] as const) {
    for (const [tier, list] of Object.entries(doc[section] ?? {})) {
      list.forEach((raw, i) => {
        const field = `${section}.${tier}[${i}].path`;
        const relative = normalizeRelativePath(raw.path, { registry, file, field });
        if (relative === '') {
          throw new RegistryError(
            'E_UNSAFE_PATH',
            `${file} ${field} of registry "${registry}" points at the registry root; it must name the entry's own folder.`,
            { registry, details: { file, field } },
          );
        }
        normal.push(relative);
      });
    }
  }
  // Which base entry paths use: declared, or inferred from the index (any path whose normal form starts with
  // `registry/` means the real registry's root-relative style; otherwise the page's style, relative to `registry/`).
  // Judged on the normal form, not the text: `.registry/x` is a folder of its own, and `./registry/x` is `registry/x`.
  const base = doc.pathBase ?? (normal.some((p) => p.startsWith('registry/')) ? 'root' : 'registry');

  const entries: IndexEntry[] = [];
  const seen = new Map<string, string>();
  let next = 0;
  for (const section of ['extensions', 'personas'] as const) {
    for (const [tier, list] of Object.entries(doc[section] ?? {})) {
      list.forEach((raw, i) => {
        const relative = normal[next++]!;
        const path = base === 'root' ? relative : `registry/${relative}`;
        const key = `${section}\0${raw.id}\0${raw.version}`;
        const where = `${section}.${tier}[${i}]`;
        const previous = seen.get(key);
        if (previous) {
          throw new RegistryError(
            'E_INDEX_INVALID',
            `${file} of registry "${registry}" lists "${raw.id}" version ${raw.version} twice (${previous} and ${where}); ids must be unique per version.`,
            { registry, details: { file, field: `${where}.id`, duplicateOf: `${previous}.id` } },
          );
        }
        seen.set(key, where);
        entries.push({
          id: raw.id,
          name: raw.name,
          version: raw.version,
          section,
          tier,
          path,
          ...(raw.package ? { package: raw.package } : {}),
          ...(raw.description ? { description: raw.description } : {}),
          kinds: kindsOf(raw, section),
          ...(raw.verified === undefined ? {} : { verified: raw.verified }),
          raw: raw as Record<string, unknown>,
        });
      });
    }
  }
  return {
    ...(doc.version ? { version: doc.version } : {}),
    ...(doc.updated ? { updated: doc.updated } : {}),
    entries,
    raw: doc as Record<string, unknown>,
  };
}
