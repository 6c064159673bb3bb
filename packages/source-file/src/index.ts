/**
 * `@agentos-registry/source-file`: registries that are folders on this machine, for local development and
 * air-gapped deployments (`type: 'file'` in the page's `registryConfig`).
 */
export { type FileSourceConfig, fileSource } from './file-source.js';
export { resolveFileLocation } from './location.js';
