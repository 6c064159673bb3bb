/**
 * The batteries-included `createRegistry`: core's, with every source adapter this package ships available. Core
 * would otherwise import `@agentos-registry/source-<type>` by name from the working folder; the loaders below make
 * the umbrella work in bundles and under package managers that do not hoist, and load only the sources in use.
 */
import {
  type CreateRegistryOptions,
  createRegistry as createCoreRegistry,
  type Registry,
  type RegistryConfig,
  type SourceAdapter,
} from '@agentos-registry/core';

/**
 * The built-in source adapters by type, each imported only when first asked for. The imports are written here, in
 * the umbrella, so they resolve from its own dependencies (package managers that do not hoist) and bundlers see them.
 */
export const builtinSourceLoaders: Readonly<Record<string, () => Promise<SourceAdapter>>> = Object.freeze({
  file: async () => (await import('@agentos-registry/source-file')).fileSource(),
  git: async () => (await import('@agentos-registry/source-git')).gitSource(),
  github: async () => (await import('@agentos-registry/source-github')).githubSource(),
  url: async () => (await import('@agentos-registry/source-url')).urlSource(),
  npm: async () => (await import('@agentos-registry/source-npm')).npmSource(),
});

/** Every `type` string (and alias) an adapter answers to. */
function typesOf(adapter: SourceAdapter): string[] {
  return [adapter.type, ...(adapter.aliases ?? [])];
}

/**
 * Builds a registry from the page's `registryConfig` with every built-in source available, each loaded only when the
 * config uses its type. Adapters in `options.sources` come first and replace a built-in adapter of the same type or
 * alias; `options.sourceLoaders` likewise.
 */
export function createRegistry(config: RegistryConfig, options: CreateRegistryOptions = {}): Promise<Registry> {
  const claimed = new Set((options.sources ?? []).flatMap(typesOf));
  const loaders = Object.fromEntries(Object.entries(builtinSourceLoaders).filter(([type]) => !claimed.has(type)));
  return createCoreRegistry(config, { ...options, sourceLoaders: { ...loaders, ...options.sourceLoaders } });
}
