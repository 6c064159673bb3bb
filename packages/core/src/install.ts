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
import { mkdir, readdir, readFile, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';
import type { InstalledPackage, SourceAdapter } from './contract.js';
import { RegistryError } from './errors.js';
import type { PackageJson } from './manifest.js';
import { PACKAGES_KEY } from './package-service.js';
import type { Runtime } from './runtime.js';
import { abortError, toRegistryError } from './source-errors.js';
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
}

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

function folderName(id: string, version: string, integrity: string): string {
  const safe = (text: string) => text.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '+');
  const digest = createHash('sha256').update(integrity).digest('hex').slice(0, 16);
  return `${safe(id)}@${safe(version)}-${digest}`;
}

function sameRecord(record: InstallRecord | undefined, wanted: Omit<InstallRecord, 'packages' | 'scriptsRan'>): boolean {
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
    return JSON.parse(await readFile(join(dir, INSTALL_RECORD), 'utf8')) as InstallRecord;
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
    const peers = await this.hostPeers(fetched, pkg, peerRanges);
    const wanted = { format: 1 as const, id: fetched.id, version: fetched.version, integrity: fetched.integrity, dependencies, allowScripts: this.allowScripts(), peers };
    const target = join(this.root, folderName(fetched.id, fetched.version, fetched.integrity));
    const existing = await readRecord(target);
    if (sameRecord(existing, wanted)) return { dir: target, install: existing! };
    return this.rt.once(`install\0${target}`, async () => {
      const again = await readRecord(target);
      if (sameRecord(again, wanted)) return { dir: target, install: again! };
      try {
        return await this.build(fetched, target, wanted, signal);
      } catch (error) {
        throw toRegistryError(error, fetched.registry, `installing the dependencies of ${fetched.id}`);
      }
    });
  }

  /** Each peer the host provides (name → its folder); `E_PEER_MISSING` for a required one it lacks or has in a wrong version. */
  private async hostPeers(fetched: FetchedEntry, pkg: PackageJson | undefined, ranges: Record<string, string>): Promise<Record<string, string>> {
    const meta = (pkg?.peerDependenciesMeta ?? {}) as Record<string, { optional?: boolean } | undefined>;
    const found: Record<string, string> = {};
    const problems: string[] = [];
    const missing: Array<{ name: string; range: string; found?: string }> = [];
    for (const [name, range] of Object.entries(ranges)) {
      const host = await findHostPackage(this.hostDir, name);
      const optional = meta[name]?.optional === true;
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
      const install = missing.map(({ name, range }) => `'${name}@${range}'`).join(' ');
      throw new RegistryError(
        'E_PEER_MISSING',
        `${fetched.id}@${fetched.version} needs the peer ${missing.length === 1 ? 'dependency' : 'dependencies'} ${problems.join(', ')} from the host application, which provides ${missing.length === 1 ? 'no matching copy' : 'no matching copies'} (looked in ${this.hostDir} and the node_modules folders above it). Install ${missing.length === 1 ? 'it' : 'them'} in the host: npm install ${install}`,
        { registry: fetched.registry, details: { peers: missing, hostDir: this.hostDir } },
      );
    }
    return found;
  }

  private async build(fetched: FetchedEntry, target: string, wanted: Omit<InstallRecord, 'packages' | 'scriptsRan'>, signal: AbortSignal | undefined): Promise<PreparedCode> {
    if (signal?.aborted) throw abortError(signal, `Installing the dependencies of ${fetched.id}`, fetched.registry);
    await mkdir(this.root, { recursive: true });
    await this.sweep();
    const temp = join(this.root, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await copyDirectory(fetched.dir, temp, { signal });
      let packages: InstalledPackage[] = [];
      let scriptsRan: string[] = [];
      if (Object.keys(wanted.dependencies).length > 0) {
        ({ packages, scriptsRan } = await this.install(fetched, temp, wanted, signal));
      }
      for (const [name, hostDir] of Object.entries(wanted.peers)) {
        const link = join(temp, 'node_modules', name);
        // A copy of the peer that came in some other way is replaced: the host's instance is the only one.
        await rm(link, { recursive: true, force: true });
        await mkdir(dirname(link), { recursive: true });
        await symlink(hostDir, link, 'junction');
      }
      const record: InstallRecord = { ...wanted, packages, scriptsRan };
      await writeFile(join(temp, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`);
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

  private async install(fetched: FetchedEntry, dir: string, wanted: Omit<InstallRecord, 'packages' | 'scriptsRan'>, signal: AbortSignal | undefined) {
    const adapter = await this.adapter();
    if (!adapter.installDependencies) {
      throw new RegistryError('E_SOURCE_NOT_INSTALLED', `${fetched.id} has npm dependencies, and no installed source adapter can install them.`, {
        registry: fetched.registry,
      });
    }
    // npm installs from a package.json that names only what the extension needs at run time: its own scripts, dev
    // dependencies and peers are not the installer's business. The original file is put back afterwards.
    const manifestFile = join(dir, 'package.json');
    const original = existsSync(manifestFile) ? await readFile(manifestFile) : undefined;
    const parsed = original ? (JSON.parse(original.toString('utf8')) as PackageJson) : {};
    const minimal = {
      name: typeof parsed.name === 'string' ? parsed.name : 'agentos-registry-extension',
      version: typeof parsed.version === 'string' ? parsed.version : '0.0.0',
      private: true,
      ...(parsed.dependencies ? { dependencies: parsed.dependencies } : {}),
      ...(parsed.optionalDependencies ? { optionalDependencies: parsed.optionalDependencies } : {}),
    };
    await writeFile(manifestFile, `${JSON.stringify(minimal, null, 2)}\n`);
    const store = this.rt.store;
    try {
      return await adapter.installDependencies(
        { dir, allowScripts: wanted.allowScripts, offline: this.rt.options.offline === true, options: this.settings },
        {
          signal: signal ?? new AbortController().signal,
          logger: this.rt.logger,
          env: this.rt.options.env ?? process.env,
          baseDir: this.rt.options.baseDir ?? process.cwd(),
          ...(store ? { workDir: await store.workDir(PACKAGES_KEY) } : {}),
        },
      );
    } finally {
      if (original) await writeFile(manifestFile, original);
      else await rm(manifestFile, { force: true });
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

  /** Renames the finished folder into place; a folder another process finished first, for the same inputs, wins. */
  private async moveIntoPlace(temp: string, target: string, wanted: Omit<InstallRecord, 'packages' | 'scriptsRan'>): Promise<void> {
    try {
      await rename(temp, target);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
    }
    if (sameRecord(await readRecord(target), wanted)) return;
    // An outdated or broken folder (other scripts allowed, the host's peers moved, an interrupted build): replace it.
    const trash = `${target}.old-${randomBytes(6).toString('hex')}`;
    await rename(target, trash).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    try {
      await rename(temp, target);
    } finally {
      await rm(trash, { recursive: true, force: true });
    }
  }
}
