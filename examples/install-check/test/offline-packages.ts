/**
 * The third-party packages our public packages need at run time, taken from the workspace's own install and written
 * straight into a Verdaccio storage folder, so that npm can install them from a Verdaccio with no uplinks: no
 * network, no npm cache, nothing from the developer's machine but the workspace's node_modules.
 *
 * Why not `npm pack` + `npm publish` for each: there are ~190 of them, and a spawned npm costs ~1 s each. Why not a
 * pre-filled npm cache with `--offline`: filling it needs the network once, and a stale cache fails differently on
 * every machine. The workspace's node_modules is there on every machine that can build the packages at all, holds
 * exactly the versions the lockfile pins, and pnpm extracts each package's tarball unchanged, so re-packing a
 * package folder gives the files that were published (not byte for byte the same tarball, so the integrity in the
 * packument is that of the tarball written here).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';

export interface InstalledPackage {
  name: string;
  version: string;
  /** Real path of the package folder in the workspace's node_modules. */
  dir: string;
  manifest: Record<string, unknown> & { name: string; version: string };
}

type Deps = Record<string, string> | undefined;

/** The folder Node would load `name` from when required from `fromDir`, through pnpm's links; undefined if absent. */
function findPackageDir(fromDir: string, name: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Every package reachable from `roots` (package folders) through `dependencies`, `optionalDependencies` and
 * `peerDependencies` (what npm installs for a user; never devDependencies), each version once, except those whose
 * name `skip` accepts (our own packages, published separately). A missing required dependency is an error: npm
 * would ask Verdaccio for it and fail later with a less helpful 404.
 */
export function runtimeClosure(roots: string[], skip: (name: string) => boolean): InstalledPackage[] {
  const found = new Map<string, InstalledPackage>();
  const queue = roots.map((dir) => realpathSync(dir));
  const visited = new Set(queue);
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Deps;
      optionalDependencies?: Deps;
      peerDependencies?: Deps;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    const edges = { ...manifest.peerDependencies, ...manifest.optionalDependencies, ...manifest.dependencies };
    for (const name of Object.keys(edges)) {
      const depDir = findPackageDir(dir, name);
      if (!depDir) {
        const optional = manifest.optionalDependencies?.[name] !== undefined || manifest.peerDependenciesMeta?.[name]?.optional === true;
        if (optional) continue;
        throw new Error(`${manifest.name} needs ${name}, which is not installed in the workspace (run pnpm install)`);
      }
      if (visited.has(depDir)) continue;
      visited.add(depDir);
      queue.push(depDir);
      const depManifest = JSON.parse(readFileSync(join(depDir, 'package.json'), 'utf8')) as InstalledPackage['manifest'];
      if (skip(depManifest.name)) continue;
      found.set(`${depManifest.name}@${depManifest.version}`, { name: depManifest.name, version: depManifest.version, dir: depDir, manifest: depManifest });
    }
  }
  return [...found.values()].sort((a, b) => (a.name === b.name ? 0 : a.name < b.name ? -1 : 1));
}

/**
 * Never remembers a file, so tar never writes a hard-link entry. pnpm hard-links every file from its store (nlink > 1),
 * and two identical files of one package share an inode: tar would store the second as a link to the first, which
 * npm's extraction drops. Async tar also waits for such "pending links" forever; hence `sync` below as well.
 */
class NoHardLinks extends Map<`${number}:${number}`, string> {
  override set(): this {
    return this;
  }
}

/** A gzipped npm tarball (`package/…`) of a package folder as installed: every file, without nested node_modules. */
function tarball(pkg: InstalledPackage): Buffer {
  const bundled = pkg.manifest.bundleDependencies ?? pkg.manifest.bundledDependencies;
  const entries = readdirSync(pkg.dir).filter((entry) => entry !== 'node_modules' || Boolean(bundled));
  const chunks: Buffer[] = [];
  const options = { sync: true, cwd: pkg.dir, gzip: { level: 1 }, portable: true, prefix: 'package', linkCache: new NoHardLinks() } as const;
  createTar(options, entries).on('data', (chunk: Buffer) => {
    chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((part) => Number.parseInt(part, 10));
  const pb = b.split(/[.+-]/).map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * Writes `packages` into `storage` in the layout of Verdaccio's local storage (one folder per package with its
 * packument as package.json and its tarballs beside it), as a Verdaccio publish would have left them. Start
 * Verdaccio on `storage` afterwards. `latest` is the highest version of each package.
 */
export async function writeVerdaccioStorage(storage: string, packages: InstalledPackage[]): Promise<void> {
  const byName = new Map<string, InstalledPackage[]>();
  for (const pkg of packages) byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), pkg]);
  const time = new Date().toISOString();
  const names = [...byName.keys()];
  // Synchronous tar (see NoHardLinks): ~1 s for the ~190 packages. Run this before Verdaccio starts in the process.
  for (const name of names) {
    const versions = byName.get(name)!.sort((a, b) => compareVersions(a.version, b.version));
    const folder = join(storage, ...name.split('/'));
    await mkdir(folder, { recursive: true });
    const base = name.split('/').pop()!;
    const packument: Record<string, unknown> & { versions: Record<string, unknown>; _attachments: Record<string, unknown> } = {
      name,
      versions: {},
      time: { created: time, modified: time },
      users: {},
      'dist-tags': { latest: versions.at(-1)!.version },
      _uplinks: {},
      _distfiles: {},
      _attachments: {},
      _rev: '1-0000000000000000',
      _id: name,
      readme: '',
    };
    for (const pkg of versions) {
      const data = tarball(pkg);
      const file = `${base}-${pkg.version}.tgz`;
      await writeFile(join(folder, file), data);
      const shasum = createHash('sha1').update(data).digest('hex');
      const integrity = `sha512-${createHash('sha512').update(data).digest('base64')}`;
      // Verdaccio serves the tarball URL with its own host; only the file name at the end matters.
      packument.versions[pkg.version] = {
        ...pkg.manifest,
        _id: `${name}@${pkg.version}`,
        dist: { integrity, shasum, tarball: `http://localhost/${name}/-/${file}` },
      };
      (packument.time as Record<string, string>)[pkg.version] = time;
      packument._attachments[file] = { shasum, version: pkg.version };
    }
    await writeFile(join(folder, 'package.json'), JSON.stringify(packument, null, 2));
  }
}
