/**
 * `@agentos-registry/source-git`: registries that are git repositories on any server (`type: 'git'` in the page's
 * `registryConfig`), through native git or pure-JavaScript isomorphic-git.
 */
export { chooseGitEngine, type GitEngineDecision, gitSource } from './git-source.js';
export type { GitAuthScheme } from './auth.js';
export { type GitLocation, GitLocationError, type GitTransport, parseGitLocation } from './location.js';
export { GIT_SOURCE_OPTION_ROLES, GIT_SOURCE_OPTIONS, type GitEngineChoice, type GitSourceConfig, type GitSourceOptions } from './options.js';
