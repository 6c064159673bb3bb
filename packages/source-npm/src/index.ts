/**
 * `@agentos-registry/source-npm`: registries shipped as npm packages (`type: 'npm'` in the page's `registryConfig`),
 * and `fetchPackageCode` for extension code that lives on npm.
 */
export { type FetchPackageCodeOptions, fetchPackageCode, type PackageCode } from './fetch-package-code.js';
export { type InstallDependenciesOptions, installDependencies } from './install-dependencies.js';
export { defaultRegistry, nerfDart, type NpmSettings, type NpmSettingsInput, parseNpmrc, resolveNpmSettings } from './npm-config.js';
export { type NpmSourceConfig, npmSource } from './npm-source.js';
export { type PackageSpec, parsePackageSpec } from './package-spec.js';
export { type PackageVersionsOptions, packageVersions } from './package-versions.js';
