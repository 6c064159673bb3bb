/**
 * Persona definitions of fetched persona entries: `persona.json`, or `SOUL.md` (YAML front matter and a Markdown
 * body). Either way the result is validated for the fields AgentOS requires (`id`, `name`, `version`,
 * `baseSystemPrompt`); unknown fields are kept.
 */
import { yamlModule } from './lazy-modules.js';
import { readFileInside } from './entry-files.js';
import { RegistryError } from './errors.js';
import { readJsonFile } from './manifest.js';
import { parseDocument, registrySchemas } from './schema.js';
import type { FetchedEntry, PersonaDefinition } from './types.js';

/** A `SOUL.md` split into its front matter (a YAML mapping, possibly empty) and its Markdown body. */
export interface SoulDocument {
  frontMatter: Record<string, unknown>;
  body: string;
}

/**
 * Splits a `SOUL.md`. Front matter is optional: a file that does not start with a `---` line is all body.
 * @throws RegistryError `E_INDEX_INVALID` naming the file (and line) when the front matter is not a YAML mapping.
 */
export function parseSoul(text: string, where: { file: string; registry: string }): SoulDocument {
  const source = text.replace(/^\uFEFF/, '');
  if (!/^---[ \t]*(?:\r?\n|$)/.test(source)) return { frontMatter: {}, body: source.trim() };
  const match = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m.exec(source);
  const invalid = (why: string) =>
    new RegistryError(
      'E_INDEX_INVALID',
      `${where.file} in registry "${where.registry}": its front matter ${why}. Write it as YAML "key: value" lines between two --- lines.`,
      {
        registry: where.registry,
        details: { file: where.file },
      },
    );
  if (match?.index !== 0) throw invalid('is not closed: no line "---" ends it');
  const yamlText = match[1] ?? '';
  const doc = yamlModule().parseDocument(yamlText, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0]?.line;
    // Line numbers count from the file's first line: the front matter starts on line 2.
    // yaml's messages can quote the text (an unresolved tag, a bad key); its stable error code says what is wrong
    // without a byte of the file, which may be anything a link pointed at.
    const column = first.linePos?.[0]?.col;
    const where = line ? ` (line ${line + 1}${column ? `, column ${column}` : ''})` : '';
    throw invalid(`is not valid YAML${where}: ${first.code.toLowerCase().replace(/_/g, ' ')}`);
  }
  const value = doc.toJS() as unknown;
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) throw invalid('is not a mapping of fields');
  const frontMatter = (value ?? {}) as Record<string, unknown>;
  // AgentOS's identity fields are text: read them as written (`version: 1.10` is "1.10", not the number 1.1).
  const asText = yamlModule().parseDocument(yamlText, { schema: 'failsafe' }).toJS() as Record<string, unknown> | null;
  for (const field of ['id', 'name', 'version']) {
    if (typeof frontMatter[field] === 'number' && typeof asText?.[field] === 'string') frontMatter[field] = asText[field];
  }
  return { frontMatter, body: source.slice(match[0].length).trim() };
}

/**
 * Reads the persona of a fetched persona entry: `persona.json` when present, else `SOUL.md`, whose front matter
 * gives the fields and whose body is the `baseSystemPrompt` (unless the front matter sets one). Fields the front
 * matter leaves out (`id`, `name`, `version`) are taken from the folder's `manifest.json`. Both files are read only
 * as regular files inside the folder (`E_UNSAFE_PATH` for a link out of it, a FIFO or a device).
 */
export async function loadPersona(fetched: FetchedEntry): Promise<PersonaDefinition> {
  const base = fetched.entry.path;
  const jsonLabel = `${base}/persona.json`;
  const raw = await readJsonFile(fetched.dir, 'persona.json', jsonLabel, fetched.registry);
  if (raw !== undefined) {
    return parseDocument(registrySchemas().persona, raw, {
      file: jsonLabel,
      registry: fetched.registry,
      label: `${jsonLabel} in registry "${fetched.registry}"`,
    }) as PersonaDefinition;
  }
  const soulLabel = `${base}/SOUL.md`;
  const soul = await readFileInside(fetched.dir, 'SOUL.md', { registry: fetched.registry, label: soulLabel });
  if (soul === undefined) {
    throw new RegistryError(
      'E_MANIFEST_MISSING',
      `${base} in registry "${fetched.registry}" holds no persona: a persona folder holds persona.json, or SOUL.md (YAML front matter and a Markdown body).`,
      { registry: fetched.registry, details: { file: jsonLabel } },
    );
  }
  const { frontMatter, body } = parseSoul(soul.toString('utf8'), { file: soulLabel, registry: fetched.registry });
  const fromManifest = fetched.manifestSynthesized ? {} : { id: fetched.manifest.id, name: fetched.manifest.name, version: fetched.manifest.version };
  const persona = {
    ...Object.fromEntries(Object.entries(fromManifest).filter(([, value]) => typeof value === 'string' && value !== '')),
    ...frontMatter,
    ...(frontMatter.baseSystemPrompt === undefined && body !== '' ? { baseSystemPrompt: body } : {}),
  };
  return parseDocument(registrySchemas().persona, persona, {
    file: soulLabel,
    registry: fetched.registry,
    label: `${soulLabel} in registry "${fetched.registry}"`,
  }) as PersonaDefinition;
}
