/**
 * The composition root: from the page's `registryConfig` to a running `Runtime`. Validates the whole config, loads
 * every adapter up front and builds each registry's source, so mistakes surface at `createRegistry`: `E_CONFIG`
 * (naming registry and field) or `E_SOURCE_NOT_INSTALLED` (naming the package). Also decides where entry code from
 * npm and extension dependencies come from (the package adapter and its settings).
 */
import { assertSource, importAdapter, loadAdapter, optionRoles, packageForType, redactSecretOptions, resolveAdapters } from './adapters.js';
import { CacheStore } from './cache-store.js';
import { didYouMean, normalizeConfig, unknownSourceFields } from './config.js';
import type { RegistrySource, SourceAdapter, SourceCreateContext } from './contract.js';
import { RegistryError, registerSecret } from './errors.js';
import { redactingLogger, silentLogger } from './logger.js';
import { checkAllowedTypes, checkRegistryHosts } from './policy.js';
import { type ConfiguredRegistry, keyFor, Runtime } from './runtime.js';
import type { CreateRegistryOptions, RegistryConfig } from './types.js';

/** What an adapter must offer to serve npm code or dependencies. */
export type PackageCapability = 'fetchPackage' | 'installDependencies' | 'packageVersions';

export interface PackageSettings {
  registry?: string;
  token?: string;
  [option: string]: unknown;
}

export interface Composition {
  runtime: Runtime;
  /** The adapter with a package capability (the npm source), imported only when first needed. */
  packageAdapter: (capability: PackageCapability) => Promise<SourceAdapter>;
  packageSettings: PackageSettings;
}

export async function compose(config: RegistryConfig, options: CreateRegistryOptions): Promise<Composition> {
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const normalized = normalizeConfig(config, { env, baseDir });
  // Before any adapter is imported or any request made.
  checkAllowedTypes(
    normalized.policy,
    [...normalized.registries].map(([name, r]) => [name, r.config.type] as [string, string]),
  );
  if (options.onBeforeActivate !== undefined && typeof options.onBeforeActivate !== 'function') {
    throw new RegistryError('E_CONFIG', 'onBeforeActivate must be a function (entry, dir, { kind }) => void | boolean | Promise of one.', {
      details: { field: 'onBeforeActivate' },
    });
  }
  const needed = new Map<string, string>();
  for (const [name, r] of normalized.registries) if (!needed.has(r.config.type)) needed.set(r.config.type, name);
  const adapters = await resolveAdapters(needed, options.sources ?? [], [baseDir, process.cwd()], options.sourceLoaders);
  const logger = redactingLogger(options.logger ?? silentLogger);
  const configured = new Map<string, ConfiguredRegistry>();
  for (const [name, settings] of normalized.registries) {
    const adapter = adapters.get(settings.config.type)!;
    // Secrets are redacted before the adapter sees the config: a message from validate() or create() cannot show them.
    const roles = optionRoles(adapter);
    redactSecretOptions(settings.config, roles);
    const declared = [...roles.keys()];
    const unknown = unknownSourceFields(settings.config, adapter.options === undefined ? undefined : declared);
    if (unknown.length > 0) {
      const field = unknown[0]!;
      throw new RegistryError(
        'E_CONFIG',
        `registries.${name}.${field} is not an option of type "${settings.config.type}".${didYouMean(field, [...declared, 'branch', 'token', 'verified', 'cacheDuration', 'location'])}`,
        { registry: name, details: { field: `registries.${name}.${field}` } },
      );
    }
    const problems = adapter.validate?.(settings.config) ?? [];
    if (problems.length > 0) {
      const first = problems[0]!;
      throw new RegistryError('E_CONFIG', `registries.${name}.${first.field}: ${first.message}`, {
        registry: name,
        details: { field: `registries.${name}.${first.field}` },
      });
    }
    let source: RegistrySource;
    try {
      source = adapter.create(settings.config, {
        registry: name,
        baseDir,
        logger,
        env,
        ...(normalized.policy?.allowHosts ? { allowHosts: normalized.policy.allowHosts } : {}),
        ...progressFor(options.onProgress),
      });
    } catch (error) {
      throw error instanceof RegistryError
        ? error
        : new RegistryError('E_CONFIG', `Registry "${name}" could not be set up: ${(error as Error).message}`, { registry: name, cause: error });
    }
    try {
      assertSource(source, settings.config.type, name);
      checkRegistryHosts(normalized.policy, name, source, settings.config, roles);
    } catch (error) {
      // Refused before any request: release what was built so far.
      await Promise.allSettled([source, ...[...configured.values()].map((c) => c.source)].map((s) => s.close?.()));
      throw error;
    }
    configured.set(name, { name, settings, source, sourceType: adapter.type, key: keyFor(name, settings, source, roles) });
  }
  const store = normalized.cache.enabled ? new CacheStore(normalized.cache.directory, { setBy: normalized.cache.setBy }) : undefined;
  const runtime = new Runtime(normalized, configured, store, options, logger, options.now ?? Date.now);
  // Entry code from npm, and the dependencies of extension code: any adapter with that capability (the npm source),
  // loaded only when first needed.
  const packageAdapter = async (capability: PackageCapability): Promise<SourceAdapter> => {
    const loaders = options.sourceLoaders ?? {};
    const found =
      [...adapters.values()].find((a) => typeof a[capability] === 'function') ??
      (Object.hasOwn(loaders, 'npm') ? await loadAdapter(loaders.npm!, 'npm') : await importAdapter('npm', [baseDir, process.cwd()]));
    if (typeof found?.[capability] !== 'function') {
      const what =
        capability === 'fetchPackage'
          ? "This entry's code is an npm package, and fetching packages"
          : 'This extension has npm dependencies, and installing them';
      throw new RegistryError(
        'E_SOURCE_NOT_INSTALLED',
        `${what} needs ${packageForType('npm')}. Install it (npm install ${packageForType('npm')}) or use the "agentos-registry" package that bundles it.`,
        { details: { package: packageForType('npm') } },
      );
    }
    return found!;
  };
  // Package settings: the option, else those of the first configured npm registry (minus what names the registry
  // package itself), else nothing — the package source then follows the user's own npm config.
  const npmRegistry = [...normalized.registries.values()].find((r) => r.config.type === 'npm')?.config;
  const { type: _t, location: _l, branch: _b, version: _v, verified: _ve, cacheDuration: _c, ...npmOptions } = npmRegistry ?? ({} as Record<string, unknown>);
  const packageSettings: PackageSettings = options.packages ?? npmOptions;
  if (typeof packageSettings.token === 'string') registerSecret(packageSettings.token);
  return { runtime, packageAdapter, packageSettings };
}

/** The `onProgress` of a source's context: downloads as `download` events, a throwing listener ignored. */
function progressFor(listener: CreateRegistryOptions['onProgress']): Pick<SourceCreateContext, 'onProgress'> {
  if (!listener) return {};
  return {
    onProgress: (progress) => {
      try {
        listener({ type: 'download', ...progress });
      } catch {
        // A display that fails is no reason to fail the download.
      }
    },
  };
}
