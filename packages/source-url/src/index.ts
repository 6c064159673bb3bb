/**
 * `@agentos-registry/source-url`: registries that any static web server hosts (`type: 'url'` in the page's
 * `registryConfig`), and `packRegistry`, which turns a registry folder into such a site.
 */
export type { UrlSourceConfig } from './config.js';
export { integrityOf } from './integrity.js';
export { type PackedEntry, type PackOptions, type PackResult, packRegistry } from './pack.js';
export { type UrlSourceOptions, urlSource } from './url-source.js';
