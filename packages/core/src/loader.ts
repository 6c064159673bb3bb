/**
 * Loading fetched entries: the extension's ES module and its `createExtensionPack(context)`, called the way
 * AgentOS's ExtensionManager calls it. The module is imported from the folder `install.ts` prepared (the cached
 * folder itself for code without dependencies), so its imports resolve to its installed dependencies and to the
 * host's own peers.
 */
import { extname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { regularFileInsideSync } from './entry-files.js';
import { RegistryError } from './errors.js';
import type { Logger } from './logger.js';
import type { PackageJson } from './manifest.js';
import { isInside } from './paths.js';
import { type DeclaredSecret, declaredSecrets, missingSecrets, secretEnvName, withDeclaredSecrets } from './secrets.js';
import type { ExtensionManifest, ExtensionPack, ExtensionPackContext, ExtensionSecretStatus, FetchedEntry } from './types.js';

const RUNNABLE = new Set(['.js', '.mjs', '.cjs']);

/** Conditions an ES module import matches, as Node's resolver knows them for `import()`. */
const CONDITIONS = new Set(['import', 'node', 'default', 'module-sync']);

/**
 * The file `import(folder)` would load according to `package.json`: the `.` export (conditions tried in the object's
 * own order, as Node does; the first usable item of a fallback array), else `main`.
 */
function packageEntry(pkg: PackageJson | undefined): string | undefined {
  if (!pkg) return undefined;
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) {
      for (const item of value) {
        const found = pick(item);
        if (found) return found;
      }
      return undefined;
    }
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.some((key) => key.startsWith('.'))) return '.' in record ? pick(record['.']) : undefined;
      for (const key of keys) {
        if (!CONDITIONS.has(key)) continue;
        const found = pick(record[key]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return pick(pkg.exports) ?? pkg.main;
}

/**
 * The module file of an extension folder: manifest `entry`/`entryPoint`, else `package.json` exports/main (where
 * AgentOS packages keep their pack), else a per-extension `entry` of `extensions[]` (one of the `kind` asked for
 * first), else `index.js`. `undefined` when none of them exists; `E_LOAD` when the one that exists is not JavaScript;
 * `E_UNSAFE_PATH` when it leads out of the folder (by its text or through a link) or is not a regular file, since
 * importing a FIFO would hang the process as surely as reading one.
 */
export function entryModuleOf(
  dir: string,
  manifest: ExtensionManifest,
  pkg: PackageJson | undefined,
  what: { id: string; registry: string },
  kind?: string,
): string | undefined {
  const perExtension = (manifest.extensions ?? [])
    .filter((extension) => typeof extension?.entry === 'string')
    .sort((a, b) => Number(b.kind === kind) - Number(a.kind === kind))
    .map((extension) => extension.entry);
  const built = packageEntry(pkg);
  const candidates = [manifest.entry, manifest.entryPoint, built, ...perExtension, 'index.js', 'index.mjs'].filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  const existing = (candidate: string): string | undefined => {
    const file = join(dir, candidate);
    if (!isInside(dir, file)) {
      throw new RegistryError('E_UNSAFE_PATH', `The entry point "${candidate}" of ${what.id} leaves the entry folder.`, { registry: what.registry });
    }
    return regularFileInsideSync(dir, relative(dir, file), { registry: what.registry, label: `The entry point "${candidate}" of ${what.id}` }) === undefined
      ? undefined
      : file;
  };
  for (const candidate of candidates) {
    const file = existing(candidate);
    if (file === undefined) continue;
    if (!RUNNABLE.has(extname(file))) {
      // A manifest whose entryPoint names the TypeScript source (the real hacker-news package: src/index.ts) while
      // package.json names the built module that ships beside it: the built one is what runs.
      const compiled = built !== undefined && built !== candidate && RUNNABLE.has(extname(built)) ? existing(built) : undefined;
      if (compiled) return compiled;
      const source = candidate === manifest.entry ? 'manifest.json "entry"' : candidate === manifest.entryPoint ? 'manifest.json "entryPoint"' : 'package.json';
      throw new RegistryError(
        'E_LOAD',
        `The entry point of ${what.id} is ${candidate} (${source}), which is not JavaScript${built && built !== candidate ? `, and the module package.json names (${built}) is not there` : ''}. Registries must ship built code: compile it (e.g. tsc) and point "entry" in manifest.json or "main" in package.json at the .js/.mjs file, or name an npm "package" whose release holds it.`,
        { registry: what.registry, details: { file: candidate, entryPoint: candidate, field: source } },
      );
    }
    return file;
  }
  return undefined;
}

/** Like `entryModuleOf` (in `dir`, default the fetched folder), but an entry with no module is an error that says what to do. */
export function findEntryModule(fetched: FetchedEntry, pkg: PackageJson | undefined, dir: string = fetched.dir, kind?: string): string {
  const file = entryModuleOf(dir, fetched.manifest, pkg, fetched, kind);
  if (file) return file;
  // A package that names its entry file and does not ship it: a broken release, which only its authors can fix.
  const declared = fetched.from === 'package' ? packageEntry(pkg) : undefined;
  if (declared) {
    const field = pkg?.exports !== undefined && packageEntry({ exports: pkg.exports }) === declared ? 'exports' : 'main';
    const shown = declared.replace(/^\.\//, '');
    const name = `${typeof pkg?.name === 'string' ? pkg.name : (fetched.entry.package ?? fetched.id)}@${typeof pkg?.version === 'string' ? pkg.version : fetched.version}`;
    throw new RegistryError('E_LOAD', `${name} was published without ${shown} (its \`${field}\`); ask its authors for a fixed release.`, {
      registry: fetched.registry,
      details: { file: shown, field, package: name },
    });
  }
  throw new RegistryError(
    'E_LOAD',
    `${fetched.id} has no entry module in ${fetched.from === 'package' ? `its package ${fetched.entry.package}` : 'its registry folder'}${fetched.entry.package && fetched.from === 'registry' ? ` and its code could not be taken from npm package ${fetched.entry.package}` : ''}. Set "entry" in manifest.json or "main"/"exports" in package.json.`,
    { registry: fetched.registry },
  );
}

/**
 * Node 20 reports an ES module's failed import of a CommonJS package that threw while loading (a native binding whose
 * install script did not run) twice: as the rejection of `import()`, handled here, and as an unhandled rejection of
 * the same error, which ends the host process by default. For the moment that second report can arrive (before the
 * next turn of the event loop) that error alone is ignored; any other unhandled rejection then still ends the process
 * as it would have.
 *
 * One listener serves every load waiting at once, with the set of errors it may ignore: with one listener per load,
 * two concurrent failed loads each saw the other's listener and left a third, real rejection of the host to nobody.
 */
const duplicateRejections = new Map<unknown, number>();

/** Node's `--unhandled-rejections` mode (command line over NODE_OPTIONS); `throw` by default. */
function unhandledRejectionsMode(): string {
  let mode = 'throw';
  for (const flag of [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv]) {
    const set = /^--unhandled-rejections=(.+)$/.exec(flag);
    if (set) mode = set[1]!;
  }
  return mode;
}

function onDuplicateRejection(reason: unknown): void {
  if (duplicateRejections.has(reason)) return;
  // Another listener is the host's: it decides. Otherwise do what Node would have done without this one, by the
  // host's mode: `throw` raises it as an uncaught exception; `warn-with-error-code` warns and sets the exit code;
  // `warn` (Node warns itself), `none` and `strict` (Node has raised it already) leave it be.
  if (process.listenerCount('unhandledRejection') !== 1) return;
  const mode = unhandledRejectionsMode();
  if (mode === 'throw') {
    process.nextTick(() => {
      throw reason;
    });
  } else if (mode === 'warn-with-error-code') {
    process.emitWarning(
      `Unhandled promise rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
      'UnhandledPromiseRejectionWarning',
    );
    process.exitCode = 1;
  }
}

async function outlastDuplicateRejection(error: unknown): Promise<void> {
  if (duplicateRejections.size === 0) process.on('unhandledRejection', onDuplicateRejection);
  duplicateRejections.set(error, (duplicateRejections.get(error) ?? 0) + 1);
  try {
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    const left = (duplicateRejections.get(error) ?? 1) - 1;
    if (left > 0) duplicateRejections.set(error, left);
    else duplicateRejections.delete(error);
    if (duplicateRejections.size === 0) process.off('unhandledRejection', onDuplicateRejection);
  }
}

/** The service names a manifest says its module exports (`provides.services`, as AgentOS's auth extension lists them). */
function providedServices(manifest: ExtensionManifest): string[] {
  const provides = (manifest as { provides?: unknown }).provides;
  const list = typeof provides === 'object' && provides !== null ? (provides as { services?: unknown }).services : undefined;
  return Array.isArray(list) ? list.filter((name): name is string => typeof name === 'string' && name !== '') : [];
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

/** An imported extension: its pack, the module it came from, and that module's file. */
export interface LoadedPack {
  pack: ExtensionPack;
  module: Record<string, unknown>;
  entryFile: string;
  /** The secrets its manifest declares as required, and whether this load provided each (ids only, never values). */
  secrets: ExtensionSecretStatus[];
}

/** Imports an extension entry from `dir` (where its code was prepared to run) and builds its pack. */
export async function loadExtensionPack(
  fetched: FetchedEntry,
  pkg: PackageJson | undefined,
  context: LoadExtensionOptions,
  dir: string = fetched.dir,
  kind?: string,
): Promise<LoadedPack> {
  const file = findEntryModule(fetched, pkg, dir, kind);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    await outlastDuplicateRejection(error);
    const missing =
      (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
        ? ' A package it imports is not installed: list it in the "dependencies" of its package.json (or "peerDependencies" when the host provides it).'
        : '';
    throw new RegistryError('E_LOAD', `Importing ${fetched.id} (${file}) failed: ${(error as Error).message}.${missing}`, {
      registry: fetched.registry,
      cause: error,
    });
  }
  const identifier = `registry:${fetched.registry}:${fetched.id}@${fetched.version}`;
  const declared = declaredSecrets(fetched.manifest);
  // Packages that read `options.secrets[id]` (the AgentOS convention) get what `getSecret` answers for their secrets.
  const options = withDeclaredSecrets(context.options, declared, context.getSecret);
  // Secrets the pack asks for and does not get, declared or not (the real google-cloud-stt asks for
  // GOOGLE_CLOUD_STT_CREDENTIALS and its manifest declares nothing): named if the factory then throws.
  const unanswered = new Set<string>();
  // `options.secrets` answers getSecret too, as AgentOS's ExtensionManager answers it from a pack entry's options.
  const given = typeof options.secrets === 'object' && options.secrets !== null ? (options.secrets as Record<string, unknown>) : {};
  const getSecret = (id: string): string | undefined => {
    const own = typeof id === 'string' && Object.hasOwn(given, id) && typeof given[id] === 'string' && given[id] !== '' ? (given[id] as string) : undefined;
    const value = own ?? context.getSecret(id);
    if (typeof id === 'string' && (typeof value !== 'string' || value === '')) unanswered.add(id);
    return value;
  };
  const packContext: ExtensionPackContext = {
    options,
    getSecret,
    logger: context.logger,
    manifestEntry: { identifier, options, source: fetched.provenance },
  };
  const factory = typeof mod.createExtensionPack === 'function' ? mod.createExtensionPack : typeof mod.default === 'function' ? mod.default : undefined;
  let pack: unknown;
  try {
    pack = factory ? await (factory as (ctx: ExtensionPackContext) => unknown)(packContext) : mod.default;
  } catch (error) {
    const missing = missingSecrets(options, declared, context.getSecret);
    const asked = [...unanswered].filter((id) => !missing.some((secret) => secret.id === id) && !declared.some((secret) => secret.id === id));
    throw factoryError(error, fetched, missing, asked);
  }
  // A module that only provides services (AgentOS's auth extension exports createAuthExtension() → { authService,
  // subscriptionService } and no pack) loads as a pack of no descriptors when its manifest lists the services it
  // provides; the host takes them from `module`. Without that declaration a missing pack stays an error.
  const services = providedServices(fetched.manifest);
  if (!factory && !isPack(pack) && services.length > 0 && Object.keys(mod).length > 0) pack = { name: fetched.id, version: fetched.version, descriptors: [] };
  if (!isPack(pack)) {
    throw new RegistryError(
      'E_LOAD',
      `${fetched.id} did not produce an extension pack: export createExtensionPack(context) returning { name, descriptors: [{ id, kind, … }] }, or a default export that is such a pack${services.length === 0 ? ' (a module that only provides services lists them in manifest.json "provides": { "services": [...] })' : ''}.`,
      { registry: fetched.registry },
    );
  }
  const secrets = declared
    .filter((secret) => !secret.optional)
    .map(({ id }) => ({ id, provided: Object.hasOwn(given, id) && typeof given[id] === 'string' && given[id] !== '' }));
  return { pack, module: mod, entryFile: file, secrets };
}

/**
 * `E_LOAD` for a `createExtensionPack` that threw. Most real packages that throw there lack a credential; when the
 * manifest declares required secrets this load did not provide, the message names them and the three ways to provide
 * one (`details.secrets`: each id with its environment variable).
 */
function factoryError(error: unknown, fetched: FetchedEntry, missing: readonly DeclaredSecret[], asked: readonly string[]): RegistryError {
  const thrown = `createExtensionPack of ${fetched.id} threw: ${error instanceof Error ? error.message : String(error)}`;
  if (missing.length === 0 && asked.length === 0) return new RegistryError('E_LOAD', thrown, { registry: fetched.registry, cause: error });
  const secrets = [...missing.map(({ id }) => id), ...asked].map((id) => ({ id, env: secretEnvName(id) }));
  const one = secrets.length === 1;
  const quoted = (ids: readonly string[]) => ids.map((id) => `"${id}"`).join(', ');
  const envs = secrets.map(({ env }) => env).join(', ');
  const example = secrets.map(({ id }) => `"${id}": …`).join(', ');
  const why = [
    missing.length > 0 ? `Its manifest declares the secret${missing.length === 1 ? '' : 's'} ${quoted(missing.map(({ id }) => id))}` : '',
    asked.length > 0 ? `${missing.length > 0 ? 'it also asked' : 'It asked'} getSecret for ${quoted(asked)}` : '',
  ]
    .filter(Boolean)
    .join(', and ');
  return new RegistryError(
    'E_LOAD',
    `${thrown.replace(/[.\s]+$/, '')}. ${why}, which this load did not provide. Provide ${one ? 'it' : 'them'} through createRegistry's extensionContext.getSecret (asked by id), the load option options.secrets ({ ${example} }), or, with the default getSecret, the environment variable${one ? '' : 's'} ${envs}.`,
    { registry: fetched.registry, cause: error, details: { secrets } },
  );
}
