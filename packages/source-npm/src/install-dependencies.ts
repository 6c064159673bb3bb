/**
 * Installing an extension's npm dependencies with npm's own engine (`@npmcli/arborist`): the lockfile it ships is
 * honoured, ranges resolve as npm resolves them, packages come from the configured (possibly private) registry and
 * go through the same cache as extension code. Install scripts are off except for packages the caller names; peer
 * dependencies are never installed by npm itself (the host application provides them and core links them in; core
 * lists a required peer the host lacks among the dependencies it asks for).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstalledPackage, InstallResult, Logger } from '@agentos-registry/core';
import { isRegistryError, RegistryError, throwIfAborted } from '@agentos-registry/core';
import { type ArboristNode, arborist } from './arborist.js';
import { withinDeadline } from './deadline.js';
import type { NetworkBounds } from './network-bounds.js';
import { defaultRegistry, type NpmSettings } from './npm-config.js';
import { withNpmCache } from './npm-cache.js';
import { abortedError, deadlineError, toNpmError } from './npm-errors.js';
import { type NpmCallOptions, npmRequestOptions, prepareCall } from './npm-transport.js';

/** What {@link installDependencies} needs. Only `dir` is required. */
export interface InstallDependenciesOptions extends NpmCallOptions {
  /** Folder with the `package.json` whose `dependencies` and `optionalDependencies` are installed into its `node_modules`. */
  dir: string;
  /** Packages whose `preinstall`/`install`/`postinstall` scripts may run: names, or `true` for all. Default: none. */
  allowScripts?: readonly string[] | true;
  /** Install from `cacheDir` only; a package that is not there is `E_NOT_CACHED`. */
  offline?: boolean;
  logger?: Logger;
}

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const;

function hasInstallScript(node: ArboristNode): boolean {
  const scripts = node.package.scripts ?? {};
  return INSTALL_SCRIPTS.some((name) => typeof scripts[name] === 'string' && scripts[name] !== '');
}

/** `name` and `selector` of the package a failure was about, when npm says (`pkgid`, or its message). */
function failedSpec(error: unknown): { name: string; selector: string } {
  const err = (error ?? {}) as { pkgid?: string; message?: string };
  const text = err.pkgid ?? /(?:for|fetch|of) (@?[^@\s'"]+@[^\s'"]+)/.exec(err.message ?? '')?.[1];
  if (text) {
    const at = text.indexOf('@', text.startsWith('@') ? 1 : 0);
    if (at > 0) return { name: text.slice(0, at), selector: text.slice(at + 1) };
    return { name: text, selector: '*' };
  }
  return { name: 'a dependency', selector: '*' };
}

/**
 * An E_NOT_FOUND that speaks of a dependency, not of a registry's `location`: no such package, or no such version,
 * on the registry the install used.
 */
function dependencyMissing(error: unknown, spec: { name: string; selector: string }, registryUrl: string, registryName: string): RegistryError | undefined {
  const err = (error ?? {}) as { code?: string; statusCode?: number };
  const notFound = err.code === 'E404' || err.statusCode === 404;
  if (!notFound && err.code !== 'ETARGET') return undefined;
  const what = notFound ? `${spec.name} is not on ${registryUrl}` : `no version of ${spec.name} on ${registryUrl} matches "${spec.selector}"`;
  return new RegistryError(
    'E_NOT_FOUND',
    `A dependency cannot be installed: ${what}. Publish it there, or point the package settings (the \`packages\` option, the first npm registry, or .npmrc) at a registry that has it; if it is private, give that registry a token.`,
    { registry: registryName, cause: error, details: { package: spec.name, selector: spec.selector } },
  );
}

/** The registry URLs an install may download from: the configured one, the scoped ones, and pacote's default (npm rewrites its URLs to the configured registry). */
function allowedOrigins(settings: NpmSettings): string[] {
  const urls = [settings.registry, defaultRegistry()];
  for (const [key, value] of Object.entries(settings.options)) if (/^@[^/]+:registry$/.test(key) && typeof value === 'string') urls.push(value);
  return urls.map((url) => new URL(url).origin);
}

/**
 * A lockfile an extension ships decides where packages come from: every `resolved` in it must be on a registry the
 * install may use, and none may be a link or a folder. Otherwise the lockfile is refused (`E_POLICY`).
 */
async function checkLockfiles(dir: string, settings: NpmSettings, registryName: string): Promise<void> {
  const origins = allowedOrigins(settings);
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    let lock: { packages?: Record<string, { resolved?: unknown; link?: unknown }>; dependencies?: Record<string, unknown> };
    try {
      lock = JSON.parse(await readFile(join(dir, name), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new RegistryError('E_POLICY', `The extension's ${name} cannot be read (${(error as Error).message}). Fix or remove it.`, {
        registry: registryName,
        cause: error,
      });
    }
    // Lockfile v1 nests `dependencies`; v2 and v3 list `packages` by folder. Both are read by npm, so both are checked.
    const entries: Array<[string, { resolved?: unknown; link?: unknown }]> = Object.entries(lock.packages ?? {});
    const walk = (deps: Record<string, unknown> | undefined, prefix: string) => {
      for (const [depName, value] of Object.entries(deps ?? {})) {
        if (typeof value !== 'object' || value === null) continue;
        const dep = value as { resolved?: unknown; version?: unknown; dependencies?: Record<string, unknown> };
        const resolved = dep.resolved ?? (typeof dep.version === 'string' && /^(?:file|link|git|https?):/.test(dep.version) ? dep.version : undefined);
        entries.push([`${prefix}node_modules/${depName}`, { resolved }]);
        walk(dep.dependencies, `${prefix}node_modules/${depName}/`);
      }
    };
    walk(lock.dependencies, '');
    for (const [path, entry] of entries) {
      if (path === '') continue;
      const refuse = (why: string) =>
        new RegistryError(
          'E_POLICY',
          `The extension's ${name} ${why} for ${path}. Extensions install from the configured npm registry only: regenerate the lockfile against it, or remove it.`,
          {
            registry: registryName,
            details: { file: name, path },
          },
        );
      if (entry.link === true) throw refuse('makes a link to a folder');
      if (entry.resolved === undefined) continue;
      let origin: string;
      try {
        origin = new URL(String(entry.resolved)).origin;
      } catch {
        throw refuse(`resolves to "${String(entry.resolved)}", which is not a registry URL,`);
      }
      if (!origins.includes(origin)) throw refuse(`downloads from ${origin}, which is not a configured registry,`);
    }
  }
}

/**
 * Installs the dependencies of `dir` the way `npm install --omit=dev --omit=peer --legacy-peer-deps --ignore-scripts`
 * would, then runs the install scripts of the allowed packages only.
 *
 * Errors are `RegistryError`s: `E_NOT_FOUND` (a dependency or version that does not exist), `E_AUTH`,
 * `E_UNREACHABLE`, `E_INTEGRITY`, `E_NOT_CACHED` (offline and not cached), `E_LOAD` (an allowed install script
 * failed), `E_ABORTED`.
 *
 * @example
 * ```ts
 * const result = await installDependencies({ dir, cacheDir, allowScripts: ['esbuild'] });
 * // result.packages: [{ name: 'axios', version: '1.7.9', path: 'node_modules/axios', integrity: 'sha512-…' }, …]
 * ```
 */
export async function installDependencies(options: InstallDependenciesOptions): Promise<InstallResult> {
  // Every scoped registry of `.npmrc` too: an install fetches packages of many scopes. `index`/`entry` do not apply.
  const { registryName, settings, bounds } = prepareCall(options, '', '*', true);
  const aborted = () => throwIfAborted(options.signal, `Installing the dependencies of ${options.dir}`, registryName);
  aborted();
  await checkLockfiles(options.dir, settings, registryName);
  return withNpmCache(options.cacheDir, (cache) => install(options, settings, bounds, registryName, cache, aborted));
}

/** How long an install that was stopped may take to roll back before the caller gets its folder back (ms). */
const INSTALL_SETTLE_MS = 5000;

/** The install itself, with npm's cache folder chosen. */
async function install(
  options: InstallDependenciesOptions,
  settings: NpmSettings,
  bounds: NetworkBounds,
  registryName: string,
  cache: string,
  aborted: () => void,
): Promise<InstallResult> {
  const Arborist = arborist();
  const common = {
    ...npmRequestOptions(settings, bounds),
    path: options.dir,
    cache,
    offline: options.offline === true,
    // Peers belong to the host application: never install them, neither the extension's nor its dependencies'.
    legacyPeerDeps: true,
    omit: ['dev', 'peer'],
    // Only the package registry: no git, URL, file or directory dependency, even deep in the tree.
    allowGit: 'none',
    allowRemote: 'none',
    allowFile: 'none',
    allowDirectory: 'none',
    // Allowing a package's scripts does not allow those of the packages it bundles.
    rebuildBundle: false,
    audit: false,
    fund: false,
    save: false,
    progress: false,
  };
  const allowed = options.allowScripts ?? [];
  const mayRun = (name: string) => allowed === true || allowed.includes(name);
  let tree: Awaited<ReturnType<InstanceType<typeof Arborist>['reify']>>;
  const context = {
    registry: registryName,
    name: '',
    selector: '*',
    registryUrl: settings.registry,
    authenticated: settings.authenticated,
    action: 'Installing',
    signal: options.signal,
  };
  try {
    // Every request of the install (pacote and npm-registry-fetch take the signal arborist passes down) ends at
    // `timeouts.install`, or when core aborts.
    tree = await withinDeadline(
      {
        ms: bounds.timeouts.install,
        signal: options.signal,
        settleMs: INSTALL_SETTLE_MS,
        timedOut: () => deadlineError(context, bounds.timeouts.install, 'timeouts.install'),
        aborted: () => abortedError(context),
      },
      (signal) => new Arborist({ ...common, signal, ignoreScripts: true }).reify({ save: false }),
    );
  } catch (error) {
    if (isRegistryError(error)) throw error;
    const code = (error as { code?: string })?.code ?? '';
    const kind = /^EALLOW(GIT|REMOTE|FILE|DIRECTORY)$/.exec(code)?.[1];
    if (kind) {
      const what = { GIT: 'a git repository', REMOTE: 'a tarball URL', FILE: 'a local file', DIRECTORY: 'a local folder' }[
        kind as 'GIT' | 'REMOTE' | 'FILE' | 'DIRECTORY'
      ];
      throw new RegistryError(
        'E_POLICY',
        `A package in the dependency tree depends on ${what} instead of a version on the package registry (npm refused it: ${code}). Extensions install from the configured npm registry only: publish that dependency there, and depend on a version range.`,
        { registry: registryName, cause: error, details: { refused: kind.toLowerCase() } },
      );
    }
    const spec = failedSpec(error);
    const missing = dependencyMissing(error, spec, settings.registry, registryName);
    if (missing) throw missing;
    throw toNpmError(error, {
      registry: registryName,
      ...spec,
      registryUrl: settings.registry,
      authenticated: settings.authenticated,
      action: 'Installing',
      signal: options.signal,
      attemptMs: bounds.timeouts.attempt,
    });
  }
  aborted();
  const placed = [...tree.inventory.values()].filter((node) => !node.isRoot && !node.isLink);
  const packages: InstalledPackage[] = placed
    .map((node) => ({ name: node.packageName, version: node.version, path: node.location, ...(node.integrity ? { integrity: node.integrity } : {}) }))
    .sort((a, b) => a.path.localeCompare(b.path));
  // Names are only trusted for what the registry served (its name is the registry's, checked by its integrity).
  const fromRegistry = (node: ArboristNode) => typeof node.resolved === 'string' && /^https?:\/\//.test(node.resolved) && Boolean(node.integrity);
  const scripted = placed.filter((node) => hasInstallScript(node) && mayRun(node.packageName) && fromRegistry(node));
  const skipped = placed.filter((node) => hasInstallScript(node) && !mayRun(node.packageName)).map((node) => node.packageName);
  if (skipped.length > 0) {
    options.logger?.info?.(`install scripts not run (not allowed): ${[...new Set(skipped)].join(', ')}`);
  }
  if (scripted.length > 0) {
    const runner = new Arborist({ ...common, ignoreScripts: false });
    const actual = await runner.loadActual();
    const wanted = new Set(scripted.map((node) => node.location));
    const nodes = [...actual.inventory.values()].filter((node) => wanted.has(node.location));
    try {
      await runner.rebuild({ nodes });
    } catch (error) {
      const err = error as { pkgid?: string; event?: string; message?: string };
      throw new RegistryError(
        'E_LOAD',
        `The ${err.event ?? 'install'} script of ${err.pkgid ?? 'an allowed dependency'} failed: ${err.message ?? String(error)}. Fix the package, or stop allowing its scripts.`,
        { registry: registryName, cause: error },
      );
    }
  }
  return {
    packages,
    scriptsRan: [...new Set(scripted.map((node) => node.packageName))].sort(),
    ...(skipped.length > 0 ? { scriptsSkipped: [...new Set(skipped)].sort() } : {}),
  };
}
