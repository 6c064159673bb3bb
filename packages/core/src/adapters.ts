/**
 * Finding the adapter for each source type: the ones passed in `options.sources` first, then the package
 * `@agentos-registry/source-<type>` if the application has it installed. Third-party types work the same way as ours.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closest } from './config.js';
import { type OptionRole, SOURCE_CONTRACT_VERSION, type SourceAdapter, SUPPORTED_CONTRACT_VERSIONS } from './contract.js';
import { RegistryError, registerSecret } from './errors.js';

/** The npm package that provides a source type by convention. */
export function packageForType(type: string): string {
  return `@agentos-registry/source-${type}`;
}

function camelCase(type: string): string {
  return type.replace(/[-_.]+([a-zA-Z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function isAdapter(value: unknown): value is SourceAdapter {
  return (
    typeof value === 'object' && value !== null && typeof (value as SourceAdapter).create === 'function' && typeof (value as SourceAdapter).type === 'string'
  );
}

/** Checks that an adapter speaks this contract version. */
export function assertAdapter(adapter: unknown, origin: string): SourceAdapter {
  if (!isAdapter(adapter)) {
    throw new RegistryError('E_CONTRACT', `${origin} is not a source adapter: it needs a "type" string and a create() function.`);
  }
  if (!SUPPORTED_CONTRACT_VERSIONS.includes(adapter.contractVersion)) {
    throw new RegistryError(
      'E_SOURCE_CONTRACT',
      `${origin} implements source contract version ${String(adapter.contractVersion)}, but this @agentos-registry/core speaks version ${SOURCE_CONTRACT_VERSION} (and still accepts ${SUPPORTED_CONTRACT_VERSIONS.filter((v) => v !== SOURCE_CONTRACT_VERSION).join(', ')}). Install versions of core and the adapter that match (the adapter's peer dependency on @agentos-registry/core says which).`,
      { details: { contractVersion: adapter.contractVersion, supported: SUPPORTED_CONTRACT_VERSIONS } },
    );
  }
  optionRoles(adapter);
  return adapter;
}

/** Option names that look like credentials: version 1 adapters list names only, and these are taken as secrets. */
export const SECRET_OPTION = /token|password|secret|auth|headers|credential/i;

/** Core's own transport options (its HTTP client's), which a version 1 adapter's plain list may name. */
const CORE_TRANSPORT_OPTIONS = new Set(['proxy', 'ca', 'allowInsecure', 'timeouts', 'retries', 'limits', 'userAgent']);

/**
 * The role of each option an adapter declares. A version 2 adapter gives them; a plain list of names (version 1) is
 * read as core's transport options, credential-like names as secrets, and every other name as identity.
 */
export function optionRoles(adapter: SourceAdapter): ReadonlyMap<string, OptionRole> {
  const declared = adapter.options;
  if (declared === undefined) return new Map();
  if (Array.isArray(declared)) {
    return new Map(
      (declared as readonly string[]).map((name) => [name, SECRET_OPTION.test(name) ? 'secret' : CORE_TRANSPORT_OPTIONS.has(name) ? 'transport' : 'identity']),
    );
  }
  const roles = new Map<string, OptionRole>();
  for (const [name, role] of Object.entries(declared as Readonly<Record<string, OptionRole>>)) {
    if (role !== 'identity' && role !== 'transport' && role !== 'secret') {
      throw new RegistryError(
        'E_SOURCE_CONTRACT',
        `The adapter for type "${adapter.type}" declares option "${name}" with role "${String(role)}"; a role is 'identity', 'transport' or 'secret'.`,
        {
          details: { option: name },
        },
      );
    }
    roles.set(name, role);
  }
  return roles;
}

/**
 * Locates an installed package's ESM entry by walking `node_modules` up from `fromDir`. Core cannot simply
 * `import()` it: under pnpm's strict layout core does not see the application's dependencies.
 */
function locatePackage(name: string, fromDirs: string[]): string | undefined {
  for (const start of fromDirs) {
    let dir = resolve(start);
    for (;;) {
      const pkgDir = join(dir, 'node_modules', ...name.split('/'));
      const manifest = join(pkgDir, 'package.json');
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown; module?: string; main?: string };
        const entry = exportTarget(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js';
        return join(pkgDir, entry);
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const record = exports as Record<string, unknown>;
  const root = '.' in record ? record['.'] : record;
  if (typeof root === 'string') return root;
  if (typeof root === 'object' && root !== null) {
    const conditions = root as Record<string, unknown>;
    for (const key of ['import', 'default', 'node']) {
      const target = conditions[key];
      if (typeof target === 'string') return target;
      const nested = exportTarget(target);
      if (nested) return nested;
    }
  }
  return undefined;
}

/** Picks the adapter a module exports: a default export (adapter or factory), or `<type>Source` (adapter or factory). */
function adapterFromModule(mod: Record<string, unknown>, type: string): unknown {
  for (const candidate of [mod.default, mod[`${camelCase(type)}Source`], mod.source]) {
    if (isAdapter(candidate)) return candidate;
    if (typeof candidate === 'function') {
      const made = (candidate as () => unknown)();
      if (isAdapter(made)) return made;
    }
  }
  return undefined;
}

/** Imports `@agentos-registry/source-<type>` if it is installed; `undefined` when it is not. */
export async function importAdapter(type: string, fromDirs: string[]): Promise<SourceAdapter | undefined> {
  const name = packageForType(type);
  const located = locatePackage(name, fromDirs);
  let mod: Record<string, unknown>;
  try {
    mod = located ? await import(pathToFileURL(located).href) : await import(name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw new RegistryError('E_SOURCE_NOT_INSTALLED', `${name} is installed but failed to load: ${(error as Error).message}`, { cause: error });
  }
  const adapter = adapterFromModule(mod, type);
  if (!adapter) throw new RegistryError('E_CONTRACT', `${name} does not export a source adapter for type "${type}".`);
  return assertAdapter(adapter, name);
}

/** An adapter from one of `createRegistry`'s `sourceLoaders`, checked as an imported one is. */
export async function loadAdapter(loader: () => Promise<SourceAdapter>, type: string): Promise<SourceAdapter> {
  let adapter: SourceAdapter;
  try {
    adapter = await loader();
  } catch (error) {
    throw new RegistryError('E_SOURCE_NOT_INSTALLED', `The adapter for type "${type}" failed to load: ${(error as Error).message}`, { cause: error });
  }
  return assertAdapter(adapter, `The adapter for type "${type}" from sourceLoaders`);
}

/** The source types the AgentOS page names, known even when their adapter is not installed. */
const PAGE_TYPES = ['file', 'git', 'github', 'url', 'npm'];

/**
 * Whether `word` is one slip away from `known`: two letters swapped, or one letter added, dropped or changed. Types are
 * short, so closeness alone would take a real third-party type (`gcs`) for a typo of ours (`git`).
 */
function isTypo(word: string, known: string): boolean {
  if ([...word].sort().join('') === [...known].sort().join('')) return true;
  const [short, long] = word.length <= known.length ? [word, known] : [known, word];
  if (long.length - short.length > 1) return false;
  let i = 0;
  while (i < short.length && short[i] === long[i]) i++;
  const rest = short.length === long.length ? i + 1 : i;
  return short.slice(rest) === long.slice(i + 1);
}

/** Builds the type → adapter table for a config: explicit adapters first, then installed packages. */
export async function resolveAdapters(
  needed: Map<string, string>,
  explicit: readonly SourceAdapter[],
  fromDirs: string[],
  loaders: Readonly<Record<string, () => Promise<SourceAdapter>>> = {},
): Promise<Map<string, SourceAdapter>> {
  const table = new Map<string, SourceAdapter>();
  for (const adapter of explicit) {
    assertAdapter(adapter, `The adapter for type "${(adapter as { type?: string }).type}"`);
    for (const key of [adapter.type, ...(adapter.aliases ?? [])]) if (!table.has(key)) table.set(key, adapter);
  }
  for (const [type, registry] of needed) {
    if (table.has(type)) continue;
    const adapter = Object.hasOwn(loaders, type) ? await loadAdapter(loaders[type]!, type) : await importAdapter(type, fromDirs);
    if (!adapter) {
      const pkg = packageForType(type);
      // A type a typo away from a known one is a typo, not a package to install.
      const known = [...new Set([...table.keys(), ...PAGE_TYPES])].sort();
      const near = closest(
        type,
        known.filter((k) => k !== type),
      );
      if (near !== undefined && isTypo(type.toLowerCase(), near)) {
        throw new RegistryError(
          'E_CONFIG',
          `Registry "${registry}" has type "${type}", which is not a source type. Did you mean "${near}"? (Known types: ${known.join(', ')}.)`,
          { registry, details: { type, field: `registries.${registry}.type`, didYouMean: near } },
        );
      }
      throw new RegistryError(
        'E_SOURCE_NOT_INSTALLED',
        `Registry "${registry}" has type "${type}", but no adapter for that type is available. Install ${pkg} (npm install ${pkg}), use the "agentos-registry" package that bundles every built-in source, or pass an adapter for "${type}" in createRegistry's "sources" option.`,
        { registry, details: { type, package: pkg } },
      );
    }
    table.set(type, adapter);
  }
  return table;
}

/** A source an adapter built must answer with a snapshot, or per entry (both `readIndex` and `materialize`). */
export function assertSource(source: unknown, type: string, registry: string): void {
  const s = source as { revision?: unknown; snapshot?: unknown; readIndex?: unknown; materialize?: unknown } | undefined;
  const fn = (value: unknown) => typeof value === 'function';
  if (s && fn(s.revision) && (fn(s.snapshot) || (fn(s.readIndex) && fn(s.materialize)))) return;
  throw new RegistryError(
    'E_SOURCE_CONTRACT',
    `The adapter for type "${type}" built a source for registry "${registry}" that cannot serve it: a source needs revision(), and either snapshot() or both readIndex() and materialize().`,
    { registry },
  );
}

/** Every string an option of role `secret` holds (a value, or the values of a `headers` object) is redacted from then on. */
export function redactSecretOptions(config: Readonly<Record<string, unknown>>, roles: ReadonlyMap<string, OptionRole>): void {
  for (const [field, role] of roles) {
    if (role !== 'secret') continue;
    const value = config[field];
    if (typeof value === 'string') registerSecret(value);
    else if (typeof value === 'object' && value !== null) for (const inner of Object.values(value)) if (typeof inner === 'string') registerSecret(inner);
  }
}
