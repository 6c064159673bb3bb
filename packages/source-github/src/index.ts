/**
 * `@agentos-registry/source-github`: registries in GitHub and GitHub Enterprise Server repositories, public or
 * private, read through the REST API (`type: 'github'` in the page's `registryConfig`).
 */
export { type GitHubFetchMode, type GitHubSourceConfig, type GitHubSourceOptions, githubSource } from './github-source.js';
export { type ResolvedGitHubLocation, resolveGitHubLocation } from './location.js';
