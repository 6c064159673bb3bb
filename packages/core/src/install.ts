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
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, resolve } from 'node:path';
import semver from 'semver';
import type { InstalledPackage, SourceAdapter } from './contract.js';
import { readFileInside, writeFileInside } from './entry-files.js';
import { isRegistryError, RegistryError } from './errors.js';
import { parseJsonDocument } from './json-text.js';
import { abortableSleep } from './http/retry.js';
import type { PackageJson } from './manifest.js';
import { PACKAGES_KEY } from './package-service.js';
import type { Runtime } from './runtime.js';
import { abortError, toRegistryError, untilAborted } from './source-errors.js';
import { isInside } from './paths.js';
import { copyDirectory } from './tree.js';
import type { FetchedEntry } from './types.js';

/** Name of the record written last into a finished install folder. */
export const INSTALL_RECORD = '.agentos-registry-install.json';

/** What was installed for an entry, as recorded in its install folder. */
export interface InstallRecord {
  format: 1;
  id: string;
  version: string;
  /** Integrity of the entry's files the folder was built from. */
  integrity: string;
  dependencies: Record<string, string>;
  /** The install-script policy the folder was built with. */
  allowScripts: readonly string[] | true;
  /** Each peer dependency and the host folder it is linked to. */
  peers: Record<string, string>;
  packages: InstalledPackage[];
  scriptsRan: string[];
  /** Peers of the installed dependencies that the host provides, linked the same way (name → host folder). */
  dependencyPeers?: Record<string, string>;
}

/** What decides an install folder: everything in its record except what the install itself found out. */
type InstallInputs = Omit<InstallRecord, 'packages' | 'scriptsRan' | 'dependencyPeers'>;

/** Code ready to import: the folder to run it from, and what was installed there (nothing for a plain entry). */
export interface PreparedCode {
  dir: string;
  install?: InstallRecord;
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
  if (text === '' || semver.validRange(text, { loose: true }) !== null) return undefined;
  if (/^[A-Za-z][\w.-]*$/.test(text)) return undefined; // a dist-tag such as `latest` or `next`
  const alias = /^npm:((?:@[^/@]+\/)?[^/@]+)(?:@(.*))?$/.exec(text);
  if (alias) {
    if (!isPackageName(alias[1]!)) return `aliases "${alias[1]}", which is not a package name`;
    return alias[2] === undefined ? undefined : dependencySpecProblem(alias[2]);
  }
  return 'is not a version range or dist-tag of the package registry (git, URL, file, directory and link specs are refused)';
}

function sameRecord(record: InstallRecord | undefined, wanted: InstallInputs): boolean {
  if (record?.format !== 1) return false;
  return (
    record.integrity === wanted.integrity &&
    JSON.stringify(record.dependencies) === JSON.stringify(wanted.dependencies) &&
    JSON.stringify(record.allowScripts) === JSON.stringify(wanted.allowScripts) &&
    JSON.stringify(record.peers) === JSON.stringify(wanted.peers)
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
    private readonly adapter: () => Promise<SourceAdapter>,
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
    const peers = await this.hostPeers(fetched, pkg, peerRanges, hostDir);
    const wanted: InstallInputs = { format: 1, id: fetched.id, version: fetched.version, integrity: fetched.integrity, dependencies, allowScripts: this.allowScripts(), peers };
    const target = join(this.root, folderName(wanted));
    const existing = await readRecord(target);
    if (sameRecord(existing, wanted)) return { dir: target, install: existing! };
    // One build for every concurrent caller: it is not tied to any caller's signal (one caller giving up must not
    // fail the others); each caller stops waiting when its own signal fires.
    const shared = this.rt.once(`install\0${target}`, async () => {
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
    return signal ? untilAborted(shared, signal, () => abortError(signal, `Installing the dependencies of ${fetched.id}`, fetched.registry)) : shared;
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

  /** Each peer the host provides (name → its folder); `E_PEER_MISSING` for a required one it lacks or has in a wrong version. */
  private async hostPeers(fetched: FetchedEntry, pkg: PackageJson | undefined, ranges: Record<string, string>, hostDir: string): Promise<Record<string, string>> {
    const meta = (pkg?.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean } | undefined>;
    const found: Record<string, string> = {};
    const problems: string[] = [];
    const missing: Array<{ name: string; range: string; found?: string }> = [];
    for (const [name, range] of Object.entries(ranges)) {
      const host = await findHostPackage(hostDir, name);
      const optional = Object.hasOwn(meta, name) && meta[name]?.optional === true;
      if (!host) {
        if (!optional) {
          problems.push(`${name}@${range} (not installed)`);
          missing.push({ name, range });
        }
        continue;
      }
      if (semver.validRange(range) && semver.valid(host.version) && !semver.satisfies(host.version, range, { includePrerelease: true })) {
        problems.push(`${name}@${range} (the host has ${host.version})`);
        missing.push({ name, range, found: host.version });
        continue;
      }
      found[name] = host.dir;
    }
    if (missing.length > 0) {
      const install = missing.map(({ name, range }) => `"${name}@${range}"`).join(' ');
      throw new RegistryError(
        'E_PEER_MISSING',
        `${fetched.id}@${fetched.version} needs the peer ${missing.length === 1 ? 'dependency' : 'dependencies'} ${problems.join(', ')} from the host application, which provides ${missing.length === 1 ? 'no matching copy' : 'no matching copies'} (looked in ${hostDir} and the node_modules folders above it). Install ${missing.length === 1 ? 'it' : 'them'} in the host: npm install ${install}`,
        { registry: fetched.registry, details: { peers: missing, hostDir } },
      );
    }
    return found;
  }

  private async build(fetched: FetchedEntry, target: string, wanted: InstallInputs, hostDir: string): Promise<PreparedCode> {
    await mkdir(this.root, { recursive: true });
    await this.sweep();
    const temp = join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await copyDirectory(fetched.dir, temp, { registry: fetched.registry });
      let packages: InstalledPackage[] = [];
      let scriptsRan: string[] = [];
      if (Object.keys(wanted.dependencies).length > 0) {
        ({ packages, scriptsRan } = await this.install(fetched, temp, wanted));
      }
      for (const [name, peerDir] of Object.entries(wanted.peers)) await linkPeer(temp, name, peerDir);
      const dependencyPeers = await this.linkDependencyPeers(temp, packages, wanted, hostDir);
      const record: InstallRecord = { ...wanted, packages, scriptsRan, ...(Object.keys(dependencyPeers).length > 0 ? { dependencyPeers } : {}) };
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
    const adapter = await this.adapter();
    if (!adapter.installDependencies) {
      throw new RegistryError('E_SOURCE_NOT_INSTALLED', `${fetched.id} has npm dependencies, and no installed source adapter can install them.`, {
        registry: fetched.registry,
      });
    }
    // npm installs from a package.json that names only what the extension needs at run time: its own scripts, dev
    // dependencies and peers are not the installer's business. The original file is put back afterwards.
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
    const minimal = {
      name: typeof parsed.name === 'string' ? parsed.name : 'agentos-registry-extension',
      version: typeof parsed.version === 'string' ? parsed.version : '0.0.0',
      private: true,
      ...(parsed.dependencies ? { dependencies: parsed.dependencies } : {}),
      ...(parsed.optionalDependencies ? { optionalDependencies: parsed.optionalDependencies } : {}),
    };
    await writeFileInside(dir, 'package.json', `${JSON.stringify(minimal, null, 2)}\n`);
    const store = this.rt.store;
    try {
      return await adapter.installDependencies(
        { dir, allowScripts: wanted.allowScripts, offline: this.rt.options.offline === true, options: this.settings, registry: fetched.registry },
        {
          signal: new AbortController().signal,
          logger: this.rt.logger,
          env: this.rt.options.env ?? process.env,
          baseDir: this.rt.options.baseDir ?? process.cwd(),
          ...(store ? { workDir: await store.workDir(PACKAGES_KEY) } : {}),
        },
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
