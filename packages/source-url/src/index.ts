/**
 * `@agentos-registry/source-url`: registries that any static web server hosts (`type: 'url'` in the page's
 * `registryConfig`), and `packRegistry`, which turns a registry folder into such a site.
 */
export type { UrlSourceConfig } from './config.js';
// The SRI helper and `packRegistry` (authoring, which writes files) live in core; re-exported so imports from
// '@agentos-registry/source-url' keep working.
export { integrityOf, type PackedEntry, type PackOptions, type PackResult, packRegistry } from '@agentos-registry/core';
export { type UrlSourceOptions, urlSource } from './url-source.js';
