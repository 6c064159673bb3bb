/**
 * `@agentos-registry/source-url`: registries that any static web server hosts (`type: 'url'` in the page's
 * `registryConfig`), and `packRegistry`, which turns a registry folder into such a site.
 */
export type { UrlSourceConfig } from './config.js';
// The SRI helper moved to core; re-exported so `import { integrityOf } from '@agentos-registry/source-url'` keeps working.
export { integrityOf } from '@agentos-registry/core';
export { type PackedEntry, type PackOptions, type PackResult, packRegistry } from './pack.js';
export { type UrlSourceOptions, urlSource } from './url-source.js';
