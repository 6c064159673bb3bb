/**
 * The batteries-included `createRegistry`: core's, with every source adapter this package ships already registered.
 * Core would otherwise import `@agentos-registry/source-<type>` on demand; preregistering makes the umbrella work
 * in bundles and under package managers that do not hoist.
 */
import {
  type CreateRegistryOptions,
  createRegistry as createCoreRegistry,
  type Registry,
  type RegistryConfig,
  type SourceAdapter,
} from '@agentos-registry/core';
import { fileSource } from '@agentos-registry/source-file';
import { gitSource } from '@agentos-registry/source-git';
import { githubSource } from '@agentos-registry/source-github';
import { npmSource } from '@agentos-registry/source-npm';
import { urlSource } from '@agentos-registry/source-url';

/** A fresh list of the source adapters built into `agentos-registry`: file, git, github, url and npm. */
export function builtinSources(): SourceAdapter[] {
  return [fileSource(), gitSource(), githubSource(), urlSource(), npmSource()];
}

/** Every `type` string (and alias) an adapter answers to. */
function typesOf(adapter: SourceAdapter): string[] {
  return [adapter.type, ...(adapter.aliases ?? [])];
}

/**
 * Builds a registry from the page's `registryConfig` with every built-in source preregistered.
 * Adapters in `options.sources` come first and replace a built-in adapter that serves the same type or alias.
 */
export function createRegistry(config: RegistryConfig, options: CreateRegistryOptions = {}): Promise<Registry> {
  const userSources = options.sources ?? [];
  const claimed = new Set(userSources.flatMap(typesOf));
  const builtins = builtinSources().filter((adapter) => !typesOf(adapter).some((type) => claimed.has(type)));
  return createCoreRegistry(config, { ...options, sources: [...userSources, ...builtins] });
}
