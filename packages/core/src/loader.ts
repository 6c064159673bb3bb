/**
 * Loading fetched entries: the extension's ES module and its `createExtensionPack(context)`, called the way
 * AgentOS's ExtensionManager calls it; or a persona definition. Installing an entry's npm dependencies is not
 * supported yet: such entries fail with `E_UNSUPPORTED` rather than with an obscure import error.
 */
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError } from './errors.js';
import type { Logger } from './logger.js';
import type { PackageJson } from './manifest.js';
import { readJsonFile } from './manifest.js';
import { isInside } from './paths.js';
import { parseDocument, personaSchema } from './schema.js';
import type { ExtensionManifest, ExtensionPack, ExtensionPackContext, FetchedEntry, PersonaDefinition } from './types.js';

const RUNNABLE = new Set(['.js', '.mjs', '.cjs']);

function packageEntry(pkg: PackageJson | undefined): string | undefined {
  if (!pkg) return undefined;
  const exp = pkg.exports;
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if ('.' in record) return pick(record['.']);
      for (const key of ['import', 'node', 'default']) {
        const found = pick(record[key]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return pick(exp) ?? pkg.main;
}

/**
 * The module file of an extension folder: manifest `entry`/`entryPoint`, else `package.json` exports/main, else
 * `index.js`. `undefined` when none of them exists; `E_LOAD` when the one that exists is not JavaScript.
 */
export function entryModuleOf(dir: string, manifest: ExtensionManifest, pkg: PackageJson | undefined, what: { id: string; registry: string }): string | undefined {
  const candidates = [manifest.entry, manifest.entryPoint, packageEntry(pkg), 'index.js', 'index.mjs'].filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  for (const candidate of candidates) {
    const file = join(dir, candidate);
    if (!isInside(dir, file)) {
      throw new RegistryError('E_UNSAFE_PATH', `The entry point "${candidate}" of ${what.id} leaves the entry folder.`, { registry: what.registry });
    }
    if (!existsSync(file)) continue;
    if (!RUNNABLE.has(extname(file))) {
      throw new RegistryError(
        'E_LOAD',
        `The entry point of ${what.id} is ${candidate}, which is not JavaScript. Registries must ship built code (a .js/.mjs module), or name an npm "package" for it.`,
        { registry: what.registry },
      );
    }
    return file;
  }
  return undefined;
}

/** Like `entryModuleOf`, but an entry with no module is an error that says what to do. */
export function findEntryModule(fetched: FetchedEntry, pkg: PackageJson | undefined): string {
  const file = entryModuleOf(fetched.dir, fetched.manifest, pkg, fetched);
  if (file) return file;
  throw new RegistryError(
    'E_LOAD',
    `${fetched.id} has no entry module in ${fetched.from === 'package' ? `its package ${fetched.entry.package}` : 'its registry folder'}${fetched.entry.package && fetched.from === 'registry' ? ` and its code could not be taken from npm package ${fetched.entry.package}` : ''}. Set "entry" in manifest.json or "main"/"exports" in package.json.`,
    { registry: fetched.registry },
  );
}

function isPack(value: unknown): value is ExtensionPack {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as ExtensionPack).descriptors) &&
    (value as ExtensionPack).descriptors.every((d) => typeof d === 'object' && d !== null && typeof d.id === 'string' && typeof d.kind === 'string')
  );
}

export interface LoadExtensionOptions {
  options: Record<string, unknown>;
  getSecret: (id: string) => string | undefined;
  logger: Logger;
}

/** Imports an extension entry and builds its pack. */
export async function loadExtensionPack(fetched: FetchedEntry, pkg: PackageJson | undefined, context: LoadExtensionOptions): Promise<ExtensionPack> {
  const deps = Object.keys(pkg?.dependencies ?? {});
  if (deps.length > 0) {
    throw new RegistryError(
      'E_UNSUPPORTED',
      `${fetched.id} depends on npm packages (${deps.slice(0, 5).join(', ')}${deps.length > 5 ? ', …' : ''}); installing extension dependencies is not supported yet by this version. Use an entry without dependencies, or bundle them into its code.`,
      { registry: fetched.registry, details: { dependencies: deps } },
    );
  }
  const file = findEntryModule(fetched, pkg);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RegistryError('E_LOAD', `Importing ${fetched.id} (${file}) failed: ${(error as Error).message}`, {
      registry: fetched.registry,
      cause: error,
    });
  }
  const identifier = `registry:${fetched.registry}:${fetched.id}@${fetched.version}`;
  const packContext: ExtensionPackContext = {
    options: context.options,
    getSecret: context.getSecret,
    logger: context.logger,
    manifestEntry: { identifier, options: context.options, source: fetched.provenance },
  };
  const factory = typeof mod.createExtensionPack === 'function' ? mod.createExtensionPack : typeof mod.default === 'function' ? mod.default : undefined;
  let pack: unknown;
  try {
    pack = factory ? await (factory as (ctx: ExtensionPackContext) => unknown)(packContext) : mod.default;
  } catch (error) {
    throw new RegistryError('E_LOAD', `createExtensionPack of ${fetched.id} threw: ${(error as Error).message}`, {
      registry: fetched.registry,
      cause: error,
    });
  }
  if (!isPack(pack)) {
    throw new RegistryError(
      'E_LOAD',
      `${fetched.id} did not produce an extension pack: export createExtensionPack(context) returning { name, descriptors: [{ id, kind, … }] }, or a default export that is such a pack.`,
      { registry: fetched.registry },
    );
  }
  return pack;
}

/** Reads and validates `persona.json` of a fetched persona entry. */
export async function loadPersona(fetched: FetchedEntry): Promise<PersonaDefinition> {
  const label = `${fetched.entry.path}/persona.json`;
  const raw = await readJsonFile(join(fetched.dir, 'persona.json'), label, fetched.registry);
  if (raw === undefined) {
    throw new RegistryError('E_MANIFEST_MISSING', `${label} is missing in registry "${fetched.registry}": a persona folder holds persona.json.`, {
      registry: fetched.registry,
      details: { file: label },
    });
  }
  return parseDocument(personaSchema, raw, { file: label, registry: fetched.registry, label: `${label} in registry "${fetched.registry}"` }) as PersonaDefinition;
}
