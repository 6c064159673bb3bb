import { join } from 'node:path';
import {
  type ArchiveAnswer,
  type ConfigProblem,
  defineSource,
  type PackageContext,
  type PackageRequest,
  RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceRevision,
} from '@agentos-registry/core';
import { fetchPackageCode } from './fetch-package-code.js';
import { installDependencies } from './install-dependencies.js';
import { packageVersions } from './package-versions.js';
import { type NetworkBounds, type NpmLimits, type NpmTimeouts, networkBoundsProblems } from './network-bounds.js';
import { type NpmSettings, type NpmTransportOptions, npmTransportProblems, registryUrlProblem } from './npm-config.js';
import { type NpmCallOptions, npmRequestOptions, prepareCall } from './npm-transport.js';
import { type FetchContext, type ResolvedPackage, resolvePackage, tarballStream } from './package-fetch.js';
import { DEFAULT_SELECTOR, isExactVersion, packageNameProblem } from './package-spec.js';

/**
 * The config of an `npm` registry: the page's fields plus `registry`, `version` and `npmrc`, and the transport options
 * of every HTTP source (`proxy`, `ca`, `retries`: core checks them). `timeouts` and `limits` have core's `index` and
 * `entry` (checked by core too) and npm's own `timeouts.attempt` and `timeouts.install`, since npm's fetch stack has
 * one per-request timeout rather than core's `connect`, `headers` and `body` (network-bounds.ts).
 */
export interface NpmSourceConfig extends SourceConfig, NpmTransportOptions {
  type: 'npm';
  /** The package that holds `registry.json` and `registry/`, e.g. `@framers/agentos-extensions`. */
  location: string;
  /** A version, a range or a dist-tag; default `latest`. `branch` is read the same way (as a dist-tag). */
  version?: string;
  /** npm registry URL (Verdaccio, Artifactory, Nexus…); default: from `.npmrc`, else pacote's own default registry. */
  registry?: string;
  /** `false` ignores every `.npmrc` and `npm_config_*` variable; a path names the user config file to read instead of `~/.npmrc`. */
  npmrc?: boolean | string;
  /** Time limits in ms: `index` (120 s, each resolve), `entry` (600 s, each download), `attempt` (30 s, each request), `install` (10 min). */
  timeouts?: NpmTimeouts;
  /** Size limits in bytes: `index` (a packument, 128 MiB decoded), `entry` (a tarball, 512 MiB). */
  limits?: NpmLimits;
}

/**
 * The `npm` source: a registry published as an npm package (the page's "Hybrid" case,
 * `{ type: 'npm', location: '@framers/agentos-extensions' }`).
 *
 * The revision is the resolved version plus npm's integrity of its tarball, so it is immutable: the same id always
 * names the same bytes. The tarball is downloaded and verified by pacote (its cache lives in core's work folder for
 * this registry), extracted once per revision, and `registry.json` and entry folders are served from that tree.
 *
 * The adapter also implements `fetchPackage`, which core calls for index entries whose code lives in their npm
 * `package` (see {@link fetchPackageCode}).
 *
 * @example
 * ```ts
 * const registry = await createRegistry(
 *   { registries: { official: { type: 'npm', location: '@framers/agentos-extensions' } } },
 *   { sources: [npmSource()] },
 * );
 * ```
 */
export function npmSource(): SourceAdapter {
  return defineSource({
    type: 'npm',
    options: {
      registry: 'identity',
      version: 'identity',
      npmrc: 'identity',
      timeouts: 'transport',
      limits: 'transport',
      proxy: 'transport',
      ca: 'transport',
      retries: 'transport',
    },
    validate: validateNpmConfig,
    create: (config, ctx) => createNpmRegistrySource(config, ctx),
    // Entry code that lives on npm (core asks for it whichever source served the index).
    fetchPackage: (request, ctx) =>
      fetchPackageCode({
        spec: `${request.name}@${request.version}`,
        destination: request.destination,
        ...packageSettings(request.options, ctx),
        // The configured registry that listed the entry, so messages name it rather than a registry nobody configured.
        ...(request.registry ? { registryName: request.registry } : {}),
      }),
    // Dependencies of extension code, installed with npm's engine into the folder core prepared.
    installDependencies: (request, ctx) =>
      installDependencies({
        dir: request.dir,
        allowScripts: request.allowScripts,
        offline: request.offline,
        ...packageSettings(request.options, ctx),
        logger: ctx.logger,
        ...(request.registry ? { registryName: request.registry } : {}),
      }),
    // Published versions and dist-tags, so core's messages suggest only versions that exist.
    packageVersions: (request, ctx) => packageVersions({ name: request.name, offline: request.offline === true, ...packageSettings(request.options, ctx) }),
  });
}

/** The registry settings core chose for package work, and the call's context, as both package functions take them. */
function packageSettings(options: PackageRequest['options'], ctx: PackageContext): NpmCallOptions {
  // Checked where they are used (E_CONFIG naming the field); core passes the first npm registry's own.
  const names = ['registry', 'token', 'npmrc', 'timeouts', 'limits', 'proxy', 'ca', 'retries'];
  const picked = Object.fromEntries(names.filter((name) => options?.[name] !== undefined).map((name) => [name, options![name]])) as NpmCallOptions;
  return {
    ...picked,
    cacheDir: join(ctx.workDir, '_cacache'),
    signal: ctx.signal,
    env: ctx.env,
    baseDir: ctx.baseDir,
    ...(ctx.allowHosts ? { allowHosts: ctx.allowHosts } : {}),
  };
}

function validateNpmConfig(config: SourceConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { location, registry, version, branch, npmrc } = config;
  if (typeof location !== 'string' || location.trim() === '') {
    problems.push({ field: 'location', message: "must be the npm package that holds the registry, e.g. '@framers/agentos-extensions'" });
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    problems.push({ field: 'location', message: "is a URL; an 'npm' registry takes a package name (put the npm server's URL in `registry`)" });
  } else {
    const at = location.indexOf('@', location.startsWith('@') ? 1 : 0);
    if (at !== -1) {
      problems.push({ field: 'location', message: `names a version; set location: '${location.slice(0, at)}' and version: '${location.slice(at + 1)}'` });
    } else {
      const problem = packageNameProblem(location);
      if (problem) problems.push({ field: 'location', message: `is not an npm package name: it ${problem}` });
    }
  }
  if (registry !== undefined) {
    const problem = typeof registry === 'string' ? registryUrlProblem(registry) : 'must be a string';
    if (problem) problems.push({ field: 'registry', message: problem });
  }
  for (const field of ['version', 'branch'] as const) {
    const value = config[field];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      problems.push({ field, message: "must be a version, a range or a dist-tag such as 'latest'" });
    }
  }
  if (typeof version === 'string' && typeof branch === 'string' && version.trim() !== branch.trim()) {
    problems.push({ field: 'version', message: `and \`branch\` disagree ('${version}' vs '${branch}'); set only \`version\`` });
  }
  if (npmrc !== undefined && typeof npmrc !== 'boolean' && (typeof npmrc !== 'string' || npmrc.trim() === '')) {
    problems.push({ field: 'npmrc', message: 'must be false (ignore .npmrc files) or the path of an .npmrc file' });
  }
  problems.push(...networkBoundsProblems({ timeouts: config.timeouts, limits: config.limits }), ...npmTransportProblems(config as NpmTransportOptions));
  return problems;
}

function createNpmRegistrySource(config: SourceConfig, ctx: SourceCreateContext): RegistrySource {
  const name = config.location.trim();
  const selector = String(config.version ?? config.branch ?? DEFAULT_SELECTOR).trim();
  const options: NpmCallOptions = {
    ...(config as NpmCallOptions),
    registryName: ctx.registry,
    env: ctx.env,
    baseDir: ctx.baseDir,
    ...(ctx.allowHosts ? { allowHosts: ctx.allowHosts } : {}),
  };
  const { settings, bounds, context } = prepareCall(options, name, selector);
  ctx.logger.debug(
    `Registry '${ctx.registry}': npm package ${name}@${selector} from ${settings.registry} (${settings.registrySource}${settings.files.length > 0 ? `; read ${settings.files.join(', ')}` : ''}).`,
  );
  return new NpmRegistrySource(name, selector, settings, bounds, context);
}

/** One configured npm registry package; npm's cache lives in core's work folder for it. */
class NpmRegistrySource implements RegistrySource {
  /**
   * Package, selector and registry: core keys its cache by this, so pointing the same registry name at another
   * version or another npm server never serves the old index.
   */
  readonly displayLocation: string;
  private requestOptions: Record<string, unknown> | undefined;

  constructor(
    private readonly name: string,
    private readonly selector: string,
    private readonly settings: NpmSettings,
    private readonly bounds: NetworkBounds,
    private readonly base: FetchContext,
  ) {
    this.displayLocation = `${name}@${selector} (${settings.registry})`;
  }

  async revision(ctx: SourceCallContext): Promise<SourceRevision> {
    // A dist-tag or range can move, so its packument is revalidated (a conditional request); an exact version is
    // immutable on npm, so a cached packument answers for it.
    const pkg = await resolvePackage(await this.options(ctx), this.context(ctx), !isExactVersion(this.selector));
    ctx.logger.debug(`Registry '${ctx.registry}': ${this.name}@${this.selector} is ${pkg.version} (${pkg.integrity}).`);
    return { id: revisionId(pkg), validators: { version: pkg.version, integrity: pkg.integrity, resolved: pkg.resolved } };
  }

  /**
   * The package's tarball is the snapshot: core extracts it once per revision (strip 1: npm puts every file under
   * `package/`) and serves `registry.json` and every entry from it.
   */
  async snapshot(revision: SourceRevision, ctx: SourceCallContext): Promise<ArchiveAnswer> {
    const pkg = this.packageOf(revision, ctx);
    return {
      archive: tarballStream(pkg, await this.options(ctx), this.context(ctx)),
      strip: 1,
      integrity: pkg.integrity,
      label: `The package ${pkg.name}@${pkg.version}`,
    };
  }

  /** The package a revision names: version and integrity from its id, the tarball URL from its validators. */
  private packageOf(revision: SourceRevision, ctx: SourceCallContext): ResolvedPackage {
    const parsed = parseRevisionId(revision.id);
    if (!parsed) {
      throw new RegistryError('E_CONTRACT', `Registry '${ctx.registry}' was handed revision '${revision.id}', which the npm source did not make.`, {
        registry: ctx.registry,
      });
    }
    const resolved = revision.validators?.integrity === parsed.integrity ? (revision.validators.resolved ?? '') : '';
    return { name: this.name, version: parsed.version, integrity: parsed.integrity, resolved };
  }

  private async options(ctx: SourceCallContext): Promise<Record<string, unknown>> {
    this.requestOptions ??= npmRequestOptions(this.settings, this.bounds);
    return { ...this.requestOptions, cache: join(ctx.workDir, '_cacache') };
  }

  private context(ctx: SourceCallContext): FetchContext {
    return { ...this.base, signal: ctx.signal };
  }
}

/** `<version>#<integrity>`: both are public, and together they name one tarball forever. */
function revisionId(pkg: ResolvedPackage): string {
  return `${pkg.version}#${pkg.integrity}`;
}

function parseRevisionId(id: string): { version: string; integrity: string } | undefined {
  const hash = id.indexOf('#');
  if (hash <= 0 || hash === id.length - 1) return undefined;
  return { version: id.slice(0, hash), integrity: id.slice(hash + 1) };
}
