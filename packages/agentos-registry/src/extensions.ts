/**
 * `agentos-registry/extensions`: the drop-in for `@framers/agentos/extensions`'s `MultiRegistryLoader`, with the
 * config types under AgentOS's names (`RegistrySource` here is AgentOS's registry config, not core's source contract).
 */
export {
  type AgentOSRegistrySource as RegistrySource,
  type ExtensionManagerLike,
  type MultiRegistryConfig,
  MultiRegistryLoader,
  type MultiRegistryLoaderOptions,
} from './multi-registry-loader.js';
