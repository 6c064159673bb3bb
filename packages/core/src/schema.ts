/**
 * One definition of the registry formats: the zod schemas below give the TypeScript types, the runtime validation
 * and the JSON Schemas shipped in `schemas/` (registry authors point `$schema` at them). Objects are loose on
 * purpose: unknown fields are kept, never rejected, because real registries carry many (`features`, `sdk`…).
 */
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { RegistryError } from './errors.js';

type ZodModule = typeof import('zod');

/** The schemas, built from zod. */
function build({ z }: ZodModule) {
  const nonEmpty = z.string().min(1);

  const authorSchema = z.union([z.string(), z.looseObject({ name: z.string().optional(), email: z.string().optional(), url: z.string().optional() })]);

  /** One entry of a `registry.json` tier (`extensions.curated[n]`, `personas.community[n]`…). */
  const indexEntrySchema = z
    .looseObject({
      id: nonEmpty.describe('Unique id, e.g. com.yourorg.your-tool'),
      name: nonEmpty.describe('Display name'),
      version: nonEmpty.describe('Semantic version of the entry'),
      path: nonEmpty.describe('Entry folder: relative to `registry/` (`curated/your-tool`) or to the repository root (`registry/curated/x`)'),
      package: z.string().optional().describe('npm package that holds the entry code'),
      description: z.string().optional(),
      author: authorSchema.optional(),
      category: z.string().optional(),
      kind: z.string().optional().describe('The one kind this entry provides'),
      kinds: z.array(z.string()).optional().describe('Kinds this entry provides'),
      tools: z.array(z.string()).optional().describe('Tool ids this entry provides'),
      keywords: z.array(z.string()).optional(),
      verified: z.boolean().optional(),
      dist: z
        .looseObject({
          tarball: nonEmpty.describe(
            'URL of the tarball holding the entry folder under one top folder (`package/`): relative to the registry location (the folder of registry.json), e.g. `tarballs/com.yourorg.your-tool-1.0.0-<hash>.tgz`, or absolute',
          ),
          integrity: nonEmpty.describe('Subresource Integrity of the tarball bytes, `sha512-<base64>` as npm writes it; checked before anything is extracted'),
        })
        .optional()
        .describe(
          'Static hosting (type `url`): where the entry is served as a tarball and its integrity, like npm packuments. Written by `agentos-registry pack`; see docs/static-registry.md',
        ),
    })
    .describe('A registry entry');

  const tiersSchema = z.record(z.string(), z.array(indexEntrySchema));

  /** `registry.json`, in the page's shape and the shape of the real AgentOS extensions registry. */
  const registryIndexSchema = z
    .looseObject({
      $schema: z.string().optional(),
      version: z.string().optional(),
      updated: z.string().optional(),
      pathBase: z
        .enum(['root', 'registry'])
        .optional()
        .describe('What entry paths are relative to; when absent it is inferred (paths starting with `registry/` → root)'),
      categories: z.record(z.string(), z.array(z.string())).optional(),
      extensions: tiersSchema.optional().describe('Extension entries by tier: curated, community, templates…'),
      personas: tiersSchema.optional().describe('Persona entries by tier'),
    })
    .describe('agentos-registry index (registry.json)');

  const manifestExtensionSchema = z.looseObject({
    kind: nonEmpty,
    id: nonEmpty,
    displayName: z.string().optional(),
    description: z.string().optional(),
    entry: z.string().optional(),
  });

  /** `manifest.json` of an extension folder, in every shape the real registry uses. */
  const manifestSchema = z
    .looseObject({
      $schema: z.string().optional(),
      id: z.string().optional(),
      name: nonEmpty,
      version: nonEmpty,
      description: z.string().optional(),
      extensions: z.array(manifestExtensionSchema).optional(),
      kind: z.string().optional(),
      extensionId: z.string().optional(),
      entry: z.string().optional(),
      entryPoint: z.string().optional(),
      tools: z.array(z.string()).optional(),
    })
    .describe('AgentOS extension manifest (manifest.json)');

  /** `persona.json`: AgentOS's required persona fields; everything else is kept. */
  const personaSchema = z
    .looseObject({
      id: nonEmpty,
      name: nonEmpty,
      version: nonEmpty,
      baseSystemPrompt: nonEmpty,
      description: z.string().optional(),
    })
    .describe('AgentOS persona definition (persona.json)');

  return {
    author: authorSchema,
    indexEntry: indexEntrySchema,
    registryIndex: registryIndexSchema,
    manifest: manifestSchema,
    persona: personaSchema,
  };
}

/** The zod schemas of the registry formats: `indexEntry`, `registryIndex`, `manifest`, `persona` and `author`. */
export type RegistrySchemas = ReturnType<typeof build>;

let built: RegistrySchemas | undefined;
let zod: ZodModule | undefined;

function zodModule(): ZodModule {
  zod ??= createRequire(import.meta.url)('zod') as ZodModule;
  return zod;
}

/**
 * The zod schemas of the registry formats, built (and zod loaded) on first use: a process that never validates a
 * document (a warm lookup served from memory, a host that only imports core) does not pay for them at start-up.
 */
export function registrySchemas(): RegistrySchemas {
  built ??= build(zodModule());
  return built;
}

export type RawIndexEntry = Zod.infer<RegistrySchemas['indexEntry']>;
export type RawRegistryIndex = Zod.infer<RegistrySchemas['registryIndex']>;

/** The JSON Schemas shipped in `@agentos-registry/core/schemas/`. */
export function jsonSchemas(): Record<'registry' | 'manifest' | 'persona', Record<string, unknown>> {
  const { z } = zodModule();
  const schemas = registrySchemas();
  const make = (schema: Zod.ZodType, id: string, title: string) => ({
    ...(z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>),
    $id: `agentos-registry/${id}.schema.json`,
    title,
  });
  return {
    registry: make(schemas.registryIndex, 'registry', 'registry.json'),
    manifest: make(schemas.manifest, 'manifest', 'manifest.json'),
    persona: make(schemas.persona, 'persona', 'persona.json'),
  };
}

/** Turns a zod issue path into `extensions.curated[3].version`. */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Validates `value` against one of the schemas above; the first problem becomes `E_INDEX_INVALID` naming the file
 * and the field (`registry.json of registry "x": field extensions.curated[3].version: …`).
 */
export function parseDocument<T>(schema: Zod.ZodType<T>, value: unknown, where: { file: string; registry: string; label: string }): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = formatIssuePath(issue.path);
  throw new RegistryError('E_INDEX_INVALID', `${where.label}: field ${field}: ${issue.message}.`, {
    registry: where.registry,
    details: { file: where.file, field },
  });
}
