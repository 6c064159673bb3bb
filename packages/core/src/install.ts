/**
 * Making fetched extension code runnable: its npm dependencies installed and its peers taken from the host.
 *
 * The download cache holds every entry's files read-only and shared; code never runs from there when it needs
 * packages. Instead each such entry gets a folder in a per-project install area (default
 * `<host>/node_modules/.agentos-registry/`, like `node_modules` apart from npm's cache): a copy of its files, its
 * `dependencies` installed by the package adapter (npm's own engine, install scripts off unless allowed per package),
 * and each peer dependency linked to the host application's own copy, so the extension and the host share one
 * instance of `@framers/agentos` and the like. An entry with neither dependencies nor peers runs in place and installs
 * nothing. Folders are built under a temporary name and renamed into place, so processes sharing a project never see
 * a half-installed one.
 *
 * Peers follow pnpm's default rather than npm's ERESOLVE: a host copy outside the declared range is still the one
 * linked, with a `W_PEER_MISMATCH` warning (the real AgentOS packages declare stale ranges such as `^0.1.0`, and a
 * second copy of `@framers/agentos` would break the identity the host relies on); `dependencies.strictPeers` refuses
 * instead. A required peer the host lacks is installed with the dependencies, as npm 7+ does; an optional one is left
 * out, and a load that fails for want of it says which peer to add to the host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import { semverModule as semver } from './lazy-modules.js';
import type { InstalledPackage, PackageContext, PackageVersions, SourceAdapter } from './contract.js';
import { readFileInside, writeFileInside } from './entry-files.js';
import { isRegistryError, RegistryError } from './errors.js';
import { INSTALL_RECORD, type InstallRecord } from './install-record.js';
import { parseJsonDocument } from './json-text.js';
import { abortableSleep } from './http/retry.js';
import type { PackageJson } from './manifest.js';
import type { Runtime } from './runtime.js';
import { abortError, toRegistryError, untilAborted } from './source-errors.js';
import { isInside } from './paths.js';
import { adviseVersion, installSpec, nothingSatisfies } from './peer-advice.js';
import { copyDirectory } from './tree.js';
import type { FetchedEntry, RegistryWarning } from './types.js';

/** What decides an install folder: everything in its record except what the install itself found out. */
type InstallInputs = Omit<InstallRecord, 'packages' | 'scriptsRan' | 'dependencyPeers' | 'scriptsSkipped'>;

/** Code ready to import: the folder to run it from, and what was installed there (nothing for a plain entry). */
export interface PreparedCode {
  dir: string;
  install?: InstallRecord;
  /** Warnings of this load (`W_PEER_MISMATCH`), to raise once. */
  warnings?: RegistryWarning[];
  /** Optional peers the host lacks, left out (name → range): a load that fails for want of one says so. */
  optionalPeersMissing?: Record<string, string>;
}

/** A peer the host has in a version outside the declared range. */
interface PeerMismatch {
  name: string;
  range: string;
  hostVersion: string;
}

/** How each declared peer is served: linked to the host's copy, installed, or (optional) left out. */
interface PeerPlan {
  linked: Record<string, string>;
  mismatched: PeerMismatch[];
  install: Record<string, string>;
  optionalMissing: Record<string, string>;
}

interface HostPackage {
  dir: string;
  version: string;
}

/** The host's own copy of package `name`, found the way Node resolves a bare import from `from`. */
async function findHostPackage(from: string, name: string): Promise<HostPackage | undefined> {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      try {
        const pkg = JSON.parse(await readFile(join(candidate, 'package.json'), 'utf8')) as PackageJson;
        return { dir: await realpath(candidate), version: typeof pkg.version === 'string' ? pkg.version : '0.0.0' };
      } catch {
        // Node would stop at this folder too, and fail to import it: there is no usable copy.
        return undefined;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The install folder of one set of inputs. Everything that changes its contents (files, dependencies, script policy,
 * host peers) is in the name, so processes with different settings never replace a folder another one runs from.
 */
function folderName(inputs: InstallInputs): string {
  const safe = (text: string) => text.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '+');
  const digest = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  return `${safe(inputs.id)}@${safe(inputs.version)}-${digest}`;
}

/** An npm package name (scoped or not; old mixed-case names included): never a path. */
const PACKAGE_NAME = /^(?:@[A-Za-z0-9~][\w.~-]*\/)?[A-Za-z0-9~][\w.~-]*$/;

export function isPackageName(name: string): boolean {
  return name.length <= 214 && PACKAGE_NAME.test(name);
}

/**
 * Why a dependency spec is refused, or `undefined` for one the package registry answers: a version range, a dist-tag,
 * or an `npm:` alias of those. Git, URL, file, directory and link specs would fetch code from elsewhere (or run it
 * from outside the install area), so extensions may not use them.
 */
export function dependencySpecProblem(spec: string): string | undefined {
  const text = spec.trim();
  if (text === '' || semver().validRange(text, { loose: true }) !== null) return undefined;
  if (/^[A-Za-z][\w.-]*$/.test(text)) return undefined; // a dist-tag such as `latest` or `next`
  const alias = /^npm:((?:@[^/@]+\/)?[^/@]+)(?:@(.*))?$/.exec(text);
  if (alias) {
    if (!isPackageName(alias[1]!)) return `aliases "${alias[1]}", which is not a package name`;
    return alias[2] === undefined ? undefined : dependencySpecProblem(alias[2]);
  }
  return 'is not a version range or dist-tag of the package registry (git, URL, file, directory and link specs are refused)';
}

/**
 * Whether the host's copy of peer `name` (at `version`) satisfies the declared `range`; `undefined` when that cannot
 * be told (a dist-tag, a host version that is not semver). A git, URL, file or link spec, or an `npm:` alias of another
 * package, is never satisfied by the host's registry copy: under `strictPeers` it is refused, and otherwise linked
 * with the same warning as a range the host's version is outside of (it used to pass unchecked, strictPeers or not).
 */
function hostSatisfies(name: string, range: string, version: string): boolean | undefined {
  if (semver().valid(version) === null) return undefined;
  const text = range.trim();
  if (semver().validRange(text) !== null) return semver().satisfies(version, text, { includePrerelease: true });
  if (/^[A-Za-z][\w.-]*$/.test(text)) return undefined; // a dist-tag: which version it names is the registry's answer
  const alias = /^npm:((?:@[^/@]+\/)?[^/@]+)(?:@(.*))?$/.exec(text);
  if (alias && alias[1] === name) return alias[2] === undefined ? true : hostSatisfies(name, alias[2], version);
  return false;
}

function sameRecord(record: InstallRecord | undefined, wanted: InstallInputs): boolean {
  if (record?.format !== 1) return false;
  return (
    record.integrity === wanted.integrity &&
    JSON.stringify(record.dependencies) === JSON.stringify(wanted.dependencies) &&
    JSON.stringify(record.allowScripts) === JSON.stringify(wanted.allowScripts) &&
    JSON.stringify(record.peers) === JSON.stringify(wanted.peers) &&
    JSON.stringify(record.peersInstalled ?? {}) === JSON.stringify(wanted.peersInstalled ?? {})
  );
}

async function readRecord(dir: string): Promise<InstallRecord | undefined> {
  try {
    const bytes = await readFileInside(dir, INSTALL_RECORD);
    return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as InstallRecord);
  } catch {
    return undefined;
  }
}

function sortedRecord(values: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(values ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

export class DependencyInstaller {
  constructor(
    private readonly rt: Runtime,
    private readonly adapter: (capability: 'installDependencies' | 'packageVersions') => Promise<SourceAdapter>,
    private readonly settings: { registry?: string; token?: string; [option: string]: unknown },
  ) {}

  /** The host application's folder: peers are resolved from it. */
  get hostDir(): string {
    return resolve(this.rt.options.dependencies?.hostDir ?? this.rt.options.baseDir ?? process.cwd());
  }

  /** Where install folders live. */
  get root(): string {
    const configured = this.rt.options.dependencies?.directory;
    return configured ? resolve(this.rt.options.baseDir ?? process.cwd(), configured) : join(this.hostDir, 'node_modules', '.agentos-registry');
  }

  private allowScripts(): readonly string[] | true {
    const allowed = this.rt.options.dependencies?.allowScripts;
    if (allowed === true) return true;
    return [...new Set(allowed || [])].sort();
  }

  /**
   * The folder to import `fetched` from. Entries without dependencies or peers run where they are; the others get an
   * install folder (reused when it was built from the same files, dependencies, script policy and host peers).
   */
  async prepare(fetched: FetchedEntry, pkg: PackageJson | undefined, signal: AbortSignal | undefined): Promise<PreparedCode> {
    const dependencies = sortedRecord({ ...(pkg?.dependencies ?? {}), ...((pkg?.optionalDependencies as Record<string, string> | undefined) ?? {}) });
    const peerRanges = sortedRecord(pkg?.peerDependencies);
    if (Object.keys(dependencies).length === 0 && Object.keys(peerRanges).length === 0) return { dir: fetched.dir };
    this.checkPolicy(fetched, dependencies, peerRanges);
    if (signal?.aborted) throw abortError(signal, `Installing the dependencies of ${fetched.id}`, fetched.registry);
    const hostDir = await realpath(this.hostDir).catch(() => this.hostDir);
    const plan = await this.hostPeers(fetched, pkg, peerRanges, dependencies, hostDir);
    if (plan.mismatched.length > 0 && this.rt.options.dependencies?.strictPeers === true)
      throw await this.strictPeerError(fetched, plan.mismatched, hostDir, signal);
    const extras: Omit<PreparedCode, 'dir' | 'install'> = {
      warnings: plan.mismatched.map((peer) => mismatchWarning(fetched, peer)),
      ...(Object.keys(plan.optionalMissing).length > 0 ? { optionalPeersMissing: plan.optionalMissing } : {}),
    };
    const wanted: InstallInputs = {
      format: 1,
      id: fetched.id,
      version: fetched.version,
      integrity: fetched.integrity,
      dependencies,
      allowScripts: this.allowScripts(),
      peers: plan.linked,
      // Only when there are some: folders built before peers were installed keep their names.
      ...(Object.keys(plan.install).length > 0 ? { peersInstalled: plan.install } : {}),
    };
    if (Object.keys(plan.install).length > 0) await this.checkCanInstallPeers(fetched, plan.install, hostDir);
    const target = join(this.root, folderName(wanted));
    const existing = await readRecord(target);
    if (sameRecord(existing, wanted)) return { dir: target, install: existing!, ...extras };
    // One build for every concurrent caller: it is not tied to any caller's signal (one caller giving up must not
    // fail the others); each caller stops waiting when its own signal fires.
    const shared = this.rt.once(`install\0${target}`, async (): Promise<PreparedCode> => {
      const again = await readRecord(target);
      if (sameRecord(again, wanted)) return { dir: target, install: again! };
      try {
        return await this.build(fetched, target, wanted, hostDir);
      } catch (error) {
        if (isRegistryError(error)) {
          throw new RegistryError(error.code, `Installing the dependencies of ${fetched.id}@${fetched.version} failed: ${error.message}`, {
            registry: fetched.registry,
            cause: error,
            ...(error.details ? { details: error.details } : {}),
          });
        }
        throw toRegistryError(error, fetched.registry, `installing the dependencies of ${fetched.id}`);
      }
    });
    const built = await (signal
      ? untilAborted(shared, signal, () => abortError(signal, `Installing the dependencies of ${fetched.id}`, fetched.registry))
      : shared);
    return { ...built, ...extras };
  }

  /** `E_POLICY` for a dependency or peer that is not a package name, or a dependency spec from outside the registry. */
  private checkPolicy(fetched: FetchedEntry, dependencies: Record<string, string>, peers: Record<string, string>): void {
    const refuse = (field: string, message: string) =>
      new RegistryError('E_POLICY', `${fetched.id}@${fetched.version}: package.json ${field} ${message}. Fix the extension's package.json.`, {
        registry: fetched.registry,
        details: { field },
      });
    for (const [field, names] of [
      ['dependencies', dependencies],
      ['peerDependencies', peers],
    ] as const) {
      for (const [name, spec] of Object.entries(names)) {
        if (!isPackageName(name)) throw refuse(`${field} names "${name}", which is not an npm package name`, '(and could point outside the install folder)');
        if (typeof spec !== 'string') throw refuse(`${field}["${name}"]`, 'must be a version range');
        const problem = field === 'dependencies' ? dependencySpecProblem(spec) : undefined;
        if (problem) {
          throw new RegistryError(
            'E_POLICY',
            `${fetched.id}@${fetched.version} depends on ${name} "${spec}", which ${problem}. Extensions may only depend on packages of the configured npm registry: publish ${name} there and depend on a version range.`,
            { registry: fetched.registry, details: { field: `dependencies.${name}`, spec } },
          );
        }
      }
    }
  }

  /**
   * How each peer is served: the host's copy when it has one, whatever its version (a version outside the range is
   * reported in `mismatched`); a required peer it lacks is installed from the package registry (its range must be one
   * the registry answers, as for dependencies); an optional one it lacks is left out.
   */
  private async hostPeers(
    fetched: FetchedEntry,
    pkg: PackageJson | undefined,
    ranges: Record<string, string>,
    dependencies: Record<string, string>,
    hostDir: string,
  ): Promise<PeerPlan> {
    const meta = (pkg?.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean } | undefined>;
    const plan: PeerPlan = { linked: {}, mismatched: [], install: {}, optionalMissing: {} };
    for (const [name, range] of Object.entries(ranges)) {
      const host = await findHostPackage(hostDir, name);
      const optional = Object.hasOwn(meta, name) && meta[name]?.optional === true;
      if (!host) {
        if (optional) plan.optionalMissing[name] = range;
        // Also a dependency: npm installs it from there, with the dependency's spec.
        else if (!Object.hasOwn(dependencies, name)) {
          const problem = dependencySpecProblem(range);
          if (problem) {
            throw new RegistryError(
              'E_POLICY',
              `${fetched.id}@${fetched.version} needs the peer ${name} "${range}", which the host application does not provide and which ${problem}. Install ${name} in the host application, or ask the extension's authors to declare a version range.`,
              { registry: fetched.registry, details: { field: `peerDependencies.${name}`, spec: range } },
            );
          }
          plan.install[name] = range;
        }
        continue;
      }
      if (hostSatisfies(name, range, host.version) === false) plan.mismatched.push({ name, range, hostVersion: host.version });
      plan.linked[name] = host.dir;
    }
    return plan;
  }

  /**
   * Peers the host lacks are installed by the package adapter; without one (core alone, no npm source) they stay
   * what they were before: `E_PEER_MISSING`, asking for them in the host.
   */
  private async checkCanInstallPeers(fetched: FetchedEntry, peers: Record<string, string>, hostDir: string): Promise<void> {
    const adapter = await this.adapter('installDependencies').catch((error: unknown) => {
      if (isRegistryError(error, 'E_SOURCE_NOT_INSTALLED')) return undefined;
      throw error;
    });
    if (adapter?.installDependencies) return;
    const missing = Object.entries(peers).map(([name, range]) => ({ name, range }));
    const one = missing.length === 1;
    throw new RegistryError(
      'E_PEER_MISSING',
      `${fetched.id}@${fetched.version} needs the peer ${one ? 'dependency' : 'dependencies'} ${missing.map(({ name, range }) => `${name}@${range} (not installed)`).join(', ')} from the host application, which does not provide ${one ? 'it' : 'them'} (looked in ${hostDir} and the node_modules folders above it), and no installed source adapter can install ${one ? 'it' : 'them'} for the extension. Install ${one ? 'a version that satisfies the range' : 'versions that satisfy the ranges'} in the host, or install @agentos-registry/source-npm so that missing peers are installed with the extension.`,
      { registry: fetched.registry, details: { peers: missing, hostDir } },
    );
  }

  /** `E_PEER_MISSING` for peers the host has outside their ranges (strictPeers), suggesting only published versions. */
  private async strictPeerError(fetched: FetchedEntry, mismatched: PeerMismatch[], hostDir: string, signal: AbortSignal | undefined): Promise<RegistryError> {
    const advice = await Promise.all(
      mismatched.map(async (peer) => ({ ...peer, ...adviseVersion(peer.name, peer.range, await this.published(peer.name, fetched, signal)) })),
    );
    const what = advice.map((peer) => `${peer.name}@${peer.range} (the host has ${peer.hostVersion})`).join(', ');
    const next = advice.map((peer) => {
      const spec = installSpec(peer);
      if (spec) return `install it in the host: npm install ${spec}`;
      if (peer.unsatisfiable)
        return `${nothingSatisfies(peer)}: ask the extension's authors to widen the range, or leave strictPeers off (the host's copy is then used, with a warning)`;
      return `install a version of ${peer.name} that satisfies ${peer.range} in the host, or leave strictPeers off`;
    });
    return new RegistryError(
      'E_PEER_MISSING',
      `${fetched.id}@${fetched.version} needs the peer ${advice.length === 1 ? 'dependency' : 'dependencies'} ${what} from the host application (looked in ${hostDir} and the node_modules folders above it), and dependencies.strictPeers refuses a copy outside the range: ${next.join('; ')}.`,
      {
        registry: fetched.registry,
        details: {
          peers: advice.map(({ name, range, hostVersion, suggested, newest }) => ({
            name,
            range,
            found: hostVersion,
            ...(suggested ? { suggested } : {}),
            ...(newest ? { newest } : {}),
          })),
          hostDir,
        },
      },
    );
  }

  /**
   * The versions the package registry has published for `name`; `undefined` when it cannot say (no adapter, offline…).
   * A lookup for a load stops with that load's `signal` (`E_ABORTED`): a registry that never answers must not keep a
   * caller who gave up waiting until the packument deadline.
   */
  private async published(name: string, fetched?: FetchedEntry, signal?: AbortSignal): Promise<PackageVersions | 'not-found' | undefined> {
    try {
      const adapter = await this.adapter('packageVersions');
      if (!adapter.packageVersions) return undefined;
      return await adapter.packageVersions({ name, options: this.settings, offline: this.rt.options.offline === true }, await this.packageContext(signal));
    } catch (error) {
      if (signal?.aborted) throw abortError(signal, `Looking up the published versions of ${name}`, fetched?.registry);
      if (isRegistryError(error, 'E_NOT_FOUND')) return 'not-found';
      this.rt.logger.debug(`the published versions of ${name} could not be read: ${(error as Error).message}`);
      return undefined;
    }
  }

  private packageContext(signal?: AbortSignal): Promise<PackageContext> {
    return this.rt.packageContext(signal);
  }

  /**
   * A load of prepared code failed (`E_LOAD` from its import or its `createExtensionPack`): when the module it missed
   * is an optional peer the host lacks, the error names that peer and the version to add to the host; when install
   * scripts were skipped, it says how to allow them. Any other error is returned as it is.
   */
  async explainLoadFailure(error: unknown, fetched: FetchedEntry, prepared: PreparedCode, signal?: AbortSignal): Promise<unknown> {
    if (!isRegistryError(error, 'E_LOAD')) return error;
    const missing = missingPackageOf(error);
    const range =
      missing && prepared.optionalPeersMissing && Object.hasOwn(prepared.optionalPeersMissing, missing) ? prepared.optionalPeersMissing[missing] : undefined;
    if (missing && range !== undefined) {
      const advice = adviseVersion(missing, range, await this.published(missing, fetched, signal));
      const spec = installSpec(advice);
      const next = spec
        ? `Add it to the host application: npm install ${spec}`
        : advice.unsatisfiable
          ? `${capitalized(nothingSatisfies(advice))}: add a version of ${missing} to the host application anyway (its copy is used, with a warning), or ask the extension's authors to widen the range`
          : `Add a version of ${missing} that satisfies ${range} to the host application`;
      return new RegistryError(
        'E_LOAD',
        `${fetched.id}@${fetched.version} imports ${missing}, an optional peer dependency (${missing}@${range}) that the host application does not provide; optional peers are never installed for an extension. ${next}.`,
        { registry: fetched.registry, cause: error, details: { peer: missing, range, ...(advice.suggested ? { suggested: advice.suggested } : {}) } },
      );
    }
    // Only for code that ran and threw (an import or createExtensionPack), not for a missing entry file and the like.
    const skipped = prepared.install?.scriptsSkipped ?? [];
    if (skipped.length === 0 || error.cause === undefined) return error;
    const list = skipped.map((name) => JSON.stringify(name)).join(', ');
    return new RegistryError(
      'E_LOAD',
      `${error.message} The install scripts of ${skipped.join(', ')} did not run (install scripts are off unless allowed): if the extension needs them, allow them with dependencies.allowScripts: [${list}] (CLI: --allow-scripts ${skipped.join(',')}) and load again.`,
      { registry: fetched.registry, cause: error.cause ?? error, details: { ...(error.details ?? {}), scriptsSkipped: skipped } },
    );
  }

  private async build(fetched: FetchedEntry, target: string, wanted: InstallInputs, hostDir: string): Promise<PreparedCode> {
    await mkdir(this.root, { recursive: true });
    await this.sweep();
    const temp = join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await copyDirectory(fetched.dir, temp, { registry: fetched.registry });
      let packages: InstalledPackage[] = [];
      let scriptsRan: string[] = [];
      let scriptsSkipped: string[] = [];
      if (Object.keys(wanted.dependencies).length > 0 || Object.keys(wanted.peersInstalled ?? {}).length > 0) {
        ({ packages, scriptsRan, scriptsSkipped = [] } = await this.install(fetched, temp, wanted));
      }
      for (const [name, peerDir] of Object.entries(wanted.peers)) await linkPeer(temp, name, peerDir);
      const dependencyPeers = await this.linkDependencyPeers(temp, packages, wanted, hostDir);
      const record: InstallRecord = {
        ...wanted,
        packages,
        scriptsRan,
        ...(scriptsSkipped.length > 0 ? { scriptsSkipped: [...new Set(scriptsSkipped)].sort() } : {}),
        ...(Object.keys(dependencyPeers).length > 0 ? { dependencyPeers } : {}),
      };
      // The folder is a copy of the entry, which may hold a link of this name: it is replaced, never written through.
      await writeFileInside(temp, INSTALL_RECORD, `${JSON.stringify(record, null, 2)}\n`);
      await this.moveIntoPlace(temp, target, wanted);
      this.rt.logger.info(`installed ${fetched.id}@${fetched.version}: ${packages.length} package(s) in ${target}`, {
        registry: fetched.registry,
        scriptsRan,
      });
      return { dir: target, install: (await readRecord(target)) ?? record };
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  /**
   * Peers the installed dependencies declare (npm leaves them out here, as the host provides them): each one the host
   * has and the install folder lacks is linked to the host's copy too, wherever the install area is.
   */
  private async linkDependencyPeers(dir: string, packages: InstalledPackage[], wanted: InstallInputs, hostDir: string): Promise<Record<string, string>> {
    const linked: Record<string, string> = {};
    for (const installed of packages) {
      let pkg: PackageJson;
      try {
        const bytes = await readFileInside(dir, posix.join(installed.path.replace(/\\/g, '/'), 'package.json'));
        if (bytes === undefined) continue;
        pkg = JSON.parse(bytes.toString('utf8')) as PackageJson;
      } catch {
        continue;
      }
      for (const name of Object.keys(pkg.peerDependencies ?? {})) {
        if (!isPackageName(name) || Object.hasOwn(wanted.peers, name) || Object.hasOwn(linked, name) || existsSync(join(dir, 'node_modules', name))) continue;
        const host = await findHostPackage(hostDir, name);
        if (!host) continue; // an optional or unmet peer: npm with legacy peer deps leaves it out as well
        await linkPeer(dir, name, host.dir);
        linked[name] = host.dir;
      }
    }
    return sortedRecord(linked);
  }

  private async install(fetched: FetchedEntry, dir: string, wanted: InstallInputs) {
    const adapter = await this.adapter('installDependencies');
    if (!adapter.installDependencies) {
      throw new RegistryError('E_SOURCE_NOT_INSTALLED', `${fetched.id} has npm dependencies, and no installed source adapter can install them.`, {
        registry: fetched.registry,
      });
    }
    // npm installs from a package.json that names only what the extension needs at run time: its own scripts and dev
    // dependencies are not the installer's business, and of its peers only those the host lacks (installed as npm 7+
    // installs missing peers). The original file is put back afterwards.
    // Read and written only as a regular file of the folder: an entry's package.json may be a link.
    const original = await readFileInside(dir, 'package.json', { registry: fetched.registry, label: `${fetched.entry.path}/package.json` });
    const parsed = original
      ? (parseJsonDocument(original.toString('utf8'), {
          code: 'E_INDEX_INVALID',
          file: `${fetched.entry.path}/package.json`,
          registry: fetched.registry,
          label: `${fetched.entry.path}/package.json in registry "${fetched.registry}"`,
          next: 'Ask the registry owner to fix it.',
        }) as PackageJson)
      : {};
    const peers = wanted.peersInstalled ?? {};
    const runtime = { ...(parsed.dependencies ?? {}), ...peers };
    const minimal = {
      name: typeof parsed.name === 'string' ? parsed.name : 'agentos-registry-extension',
      version: typeof parsed.version === 'string' ? parsed.version : '0.0.0',
      private: true,
      ...(Object.keys(runtime).length > 0 ? { dependencies: runtime } : {}),
      ...(parsed.optionalDependencies ? { optionalDependencies: parsed.optionalDependencies } : {}),
    };
    await writeFileInside(dir, 'package.json', `${JSON.stringify(minimal, null, 2)}\n`);
    try {
      return await adapter.installDependencies(
        { dir, allowScripts: wanted.allowScripts, offline: this.rt.options.offline === true, options: this.settings, registry: fetched.registry },
        await this.packageContext(),
      );
    } catch (error) {
      // A peer npm cannot find (ETARGET, E404): say what the registry has instead of npm's raw answer.
      const name = isRegistryError(error, 'E_NOT_FOUND') ? (error.details?.package as string | undefined) : undefined;
      if (name === undefined || !Object.hasOwn(peers, name)) throw error;
      const advice = adviseVersion(name, peers[name]!, await this.published(name));
      if (!advice.unsatisfiable) throw error;
      throw new RegistryError(
        'E_PEER_MISSING',
        `${fetched.id}@${fetched.version} needs the peer dependency ${name}@${peers[name]}, which the host application does not provide and which cannot be installed: ${nothingSatisfies(advice)}. Ask the extension's authors to widen the range, or install ${name} in the host application (a host copy outside the range is used, with a warning).`,
        { registry: fetched.registry, cause: error, details: { peers: [{ name, range: peers[name], ...(advice.newest ? { newest: advice.newest } : {}) }] } },
      );
    } finally {
      if (original) await writeFileInside(dir, 'package.json', original);
      else await rm(join(dir, 'package.json'), { force: true });
    }
  }

  /** Removes what an interrupted build left behind (temporary and replaced folders older than an hour). */
  private async sweep(): Promise<void> {
    const cutoff = Date.now() - 60 * 60 * 1000;
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (!name.startsWith('.tmp-') && !/\.old-[0-9a-f]+$/.test(name)) continue;
      const path = join(this.root, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
    }
  }

  /**
   * Renames the finished folder into place. The name says what is inside, so a folder already there (another process
   * was quicker) is the same one: it is kept. Only one whose record is missing or unreadable is replaced.
   */
  private async moveIntoPlace(temp: string, target: string, wanted: InstallInputs): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(temp, target);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES') throw error;
        if (sameRecord(await readRecord(target), wanted)) return;
        if (attempt >= 4) {
          throw new RegistryError(
            'E_INTERNAL',
            `Could not put the install folder ${target} in place (${code}). Another program may hold files in it open: close it, or remove the folder, and load again.`,
            { cause: error },
          );
        }
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          const trash = `${target}.old-${randomBytes(6).toString('hex')}`;
          await rename(target, trash)
            .then(() => rm(trash, { recursive: true, force: true }))
            .catch(() => undefined);
        } else {
          await abortableSleep(50 * 2 ** attempt, undefined);
        }
      }
    }
  }
}

/** Links `node_modules/<name>` of `dir` to the host's copy, replacing any copy that came in some other way. */
async function linkPeer(dir: string, name: string, hostCopy: string): Promise<void> {
  const modules = join(dir, 'node_modules');
  const link = join(modules, name);
  if (!isPackageName(name) || !isInside(modules, link)) throw new RegistryError('E_POLICY', `"${name}" is not an npm package name; it cannot be linked.`);
  await rm(link, { recursive: true, force: true });
  await mkdir(dirname(link), { recursive: true });
  await symlink(hostCopy, link, 'junction');
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The warning for a peer linked to a host copy outside its range. */
function mismatchWarning(fetched: FetchedEntry, peer: PeerMismatch): RegistryWarning {
  return {
    code: 'W_PEER_MISMATCH',
    message: `${fetched.id}@${fetched.version} declares the peer dependency ${peer.name}@${peer.range}, and the host has ${peer.name}@${peer.hostVersion}, outside that range: the host's copy is used (one instance shared with the host, as pnpm does). If the extension misbehaves, ask its authors to widen the range; set dependencies.strictPeers to refuse such a copy instead.`,
    registry: fetched.registry,
    entry: fetched.id,
  };
}

/**
 * The package whose absence a load failure reports (Node's `ERR_MODULE_NOT_FOUND` for `import`, `MODULE_NOT_FOUND`
 * for `require`), anywhere in the error's cause chain; `undefined` for a relative or absolute file.
 */
function missingPackageOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') continue;
    const specifier = /Cannot find (?:package|module) '([^']+)'/.exec(typeof message === 'string' ? message : '')?.[1];
    if (!specifier || /^(?:\.|\/|[A-Za-z]:|node:|file:)/.test(specifier)) return undefined;
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  }
  return undefined;
}
