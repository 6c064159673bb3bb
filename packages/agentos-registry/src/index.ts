/**
 * `agentos-registry`: core, every built-in source, and a `createRegistry` that has them preregistered.
 * The local `createRegistry` export takes precedence over the one re-exported from core.
 */
export * from '@agentos-registry/core';
export * from '@agentos-registry/source-file';
export * from '@agentos-registry/source-git';
export * from '@agentos-registry/source-github';
export * from '@agentos-registry/source-npm';
export * from '@agentos-registry/source-url';
export { builtinSources } from './builtin-sources.js';
export { builtinSourceLoaders, createRegistry } from './create-registry.js';
export {
  type AgentOSRegistrySource,
  type ExtensionManagerLike,
  type MultiRegistryConfig,
  MultiRegistryLoader,
  type MultiRegistryLoaderOptions,
} from './multi-registry-loader.js';
