/**
 * The lockfile and content hash (issue 15), run as the built CLI against real servers on loopback: one registry's
 * files served by git http-backend (both engines), the GitHub emulator (a private repo, with a token), a static site,
 * Verdaccio (a private package, with a token) and a folder. Same files → same h1 from every source, equal to what
 * coreutils compute; a frozen fetch of cached content asks no server; one changed upstream → E_LOCK_MISMATCH naming
 * it, nothing stored; no token in the lockfile. Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Cleanup,
  commitRawTree,
  createGitRepo,
  type GitHttpServer,
  type GitHubEmulator,
  type GitRepo,
  type StaticServer,
  startGitHttpServer,
  startGitHubEmulator,
  startStaticServer,
  startVerdaccio,
  VERDACCIO_PUBLISHER,
  type VerdaccioServer,
} from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packRegistry } from '../src/index.js';
import { runBuilt, scratch } from './helpers.js';

const TOOL = 'com.lock.echo';
const GITHUB_TOKEN = 'ghp_lockTestToken0123456789abcdef';
const PACKAGE = '@private/lock-registry';
const REFS = ['git:com.lock.echo', 'gitiso:com.lock.echo', 'github:com.lock.echo', 'site:com.lock.echo', 'npm:com.lock.echo', 'local:com.lock.echo'];

function registryFiles(label: string): Record<string, string> {
  const entry = { id: TOOL, name: 'Echo', version: '1.0.0', path: 'curated/echo', author: { name: 'Lock' } };
  const manifest = { id: TOOL, name: 'Echo', version: '1.0.0', extensions: [{ kind: 'tool', id: 'echo', entry: './src/index.js' }] };
  return {
    'registry.json': `${JSON.stringify({ version: '1.0.0', updated: '2024-11-14T00:00:00.000Z', categories: { curated: ['tools'], community: [] }, extensions: { curated: [entry] } }, null, 2)}\n`,
    'registry/curated/echo/manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'registry/curated/echo/package.json': `${JSON.stringify({ name: 'lock-echo', version: '1.0.0', type: 'module' })}\n`,
    'registry/curated/echo/src/index.js': `// ${label}\nexport const createExtensionPack = () => ({ name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: {} }] });\n`,
  };
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** h1 by coreutils alone, with the very pipeline docs/lockfile.md gives (hex digest to base64 included). */
function h1ByCoreutils(dir: string): string {
  const script =
    "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -d' ' -f1 | tr a-f A-F | basenc --base16 -d | base64";
  return `h1:${execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' }).trim()}`;
}

let root: string;
let cleanup: () => Promise<void>;
const servers = new Cleanup();
let repo: GitRepo;
let git: GitHttpServer;
let github: GitHubEmulator;
let site: StaticServer;
let verdaccio: VerdaccioServer;
let npmToken: string;
let localDir: string;
let depsDir: string;
const DEP = 'lock-dep';
const CODE_PACKAGE = 'lock-pkg-code';
const PEER = '@framers/agentos-like';
let registryDir: string;
let siteDir: string;
let project: string;

const env = () => ({ GH_TOKEN: GITHUB_TOKEN, NPM_TOKEN: npmToken });

/** A project folder: the config (tokens from the environment) and a cache of its own. */
async function makeProject(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const registries = {
    git: { type: 'git', location: git.repoUrl('extensions'), branch: 'main' },
    gitiso: { type: 'git', engine: 'isomorphic', location: git.repoUrl('extensions'), branch: 'main' },
    github: { type: 'github', location: 'lock-org/extensions', branch: 'main', baseUrl: github.apiUrl, token: '${GH_TOKEN}', allowInsecure: true },
    site: { type: 'url', location: site.url, allowInsecure: true },
    npm: { type: 'npm', location: PACKAGE, registry: verdaccio.url, version: 'latest', token: '${NPM_TOKEN}' },
    local: { type: 'file', location: localDir },
    deps: { type: 'file', location: depsDir },
  };
  // cacheDuration 0: without the lockfile every use would revalidate, so "no request" shows the lockfile's doing.
  for (const registry of Object.values(registries)) Object.assign(registry, { cacheDuration: 0 });
  // The host's own copy of the peer; npm's settings never lead to a public registry.
  await writeFiles(dir, {
    [`node_modules/${PEER}/package.json`]: JSON.stringify({ name: PEER, version: '1.4.0', type: 'module', main: 'index.js' }),
    [`node_modules/${PEER}/index.js`]: 'export const host = true;\n',
    '.npmrc': 'registry=http://127.0.0.1:9/\n',
  });
  await writeFile(
    join(dir, 'agentos-registry.config.json'),
    JSON.stringify({ registryConfig: { registries, cacheSettings: { directory: join(dir, 'cache') } }, lock: { refs: REFS } }, null, 2),
  );
  return dir;
}

function requestCounts(): Record<string, number> {
  return { git: git.requests.length, github: github.requests.length, site: site.requests.length, npm: verdaccio.requests.length };
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  const files = registryFiles('v0');
  repo = await createGitRepo(files, { root: join(root, 'repos'), name: 'extensions' });
  git = await servers.add(startGitHttpServer({ root: join(root, 'repos') }));
  github = await servers.add(startGitHubEmulator({ repos: { 'lock-org/extensions': { path: repo.path, private: true } }, tokens: [GITHUB_TOKEN] }));
  registryDir = join(root, 'site-source');
  siteDir = join(root, 'site');
  await writeFiles(registryDir, files);
  await packRegistry(registryDir, siteDir);
  site = await servers.add(startStaticServer({ root: siteDir }));
  verdaccio = await servers.add(startVerdaccio());
  npmToken = await verdaccio.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  await verdaccio.publish({ ...files, 'package.json': JSON.stringify({ name: PACKAGE, version: '1.0.0' }) }, { token: npmToken });
  localDir = join(root, 'local');
  await writeFiles(localDir, files);
  // A runnable entry with an npm dependency (from Verdaccio) and a peer the host provides.
  await verdaccio.publish(
    { 'package.json': JSON.stringify({ name: DEP, version: '1.0.0', type: 'module', main: 'index.js' }), 'index.js': 'export const dep = 1;\n' },
    { token: npmToken },
  );
  depsDir = join(root, 'deps');
  const depsEntry = { id: 'com.lock.deps', name: 'Deps', version: '1.0.0', path: 'curated/deps' };
  // An entry whose code is its npm package (the registry folder holds only its manifest), as in the real AgentOS registry.
  const pkgEntry = { id: 'com.lock.pkg', name: 'Pkg', version: '1.0.0', path: 'curated/pkg', package: CODE_PACKAGE };
  await verdaccio.publish(
    {
      'package.json': JSON.stringify({ name: CODE_PACKAGE, version: '1.0.0', type: 'module', main: 'index.js' }),
      'index.js': "export const createExtensionPack = () => ({ name: 'pkg', descriptors: [{ id: 'pkg', kind: 'tool', payload: {} }] });\n",
    },
    { token: npmToken },
  );
  await writeFiles(depsDir, {
    'registry.json': JSON.stringify({ version: '1.0.0', extensions: { curated: [depsEntry, pkgEntry] } }),
    'registry/curated/pkg/manifest.json': JSON.stringify({ ...pkgEntry, extensions: [{ kind: 'tool', id: 'pkg' }] }),
    'registry/curated/deps/manifest.json': JSON.stringify({ ...depsEntry, extensions: [{ kind: 'tool', id: 'deps' }] }),
    'registry/curated/deps/package.json': JSON.stringify({
      name: 'lock-deps',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      dependencies: { [DEP]: '^1.0.0' },
      peerDependencies: { [PEER]: '^1.0.0' },
    }),
    'registry/curated/deps/index.js': `import { dep } from '${DEP}';\nexport const createExtensionPack = () => ({ name: 'deps', descriptors: [{ id: 'deps', kind: 'tool', payload: { dep } }] });\n`,
  });
  project = await makeProject('project');
}, 120_000);

afterAll(async () => {
  await servers.run();
  await cleanup();
});

interface LockDoc {
  lockfileVersion: number;
  entries: Array<{ kind: string; ref: string; registry: string; source: { type: string; location: string }; revision: string; h1: string }>;
}

describe('lock against every source type', () => {
  let lock: LockDoc;

  it('locks the config lock.refs: the same files give the same h1 from every source, equal to coreutils over the folder', async () => {
    const result = await runBuilt(['lock', '--json'], { cwd: project, env: env() });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const text = await readFile(join(project, 'agentos-registry.lock.json'), 'utf8');
    lock = JSON.parse(text) as LockDoc;
    expect(lock.entries.map((e) => e.ref).sort()).toEqual([...REFS].sort());
    const expected = h1ByCoreutils(join(localDir, 'registry/curated/echo'));
    for (const entry of lock.entries) expect([entry.ref, entry.h1]).toEqual([entry.ref, expected]);
    // git and the GitHub emulator serve one repository: one commit, one hash.
    const tip = await repo.revParse('main');
    expect(lock.entries.find((e) => e.registry === 'git')!.revision).toBe(tip);
    expect(lock.entries.find((e) => e.registry === 'github')!.revision).toContain(tip);
    expect(lock.entries.find((e) => e.registry === 'npm')!.source).toEqual({ type: 'npm', location: expect.stringContaining(PACKAGE) });
    // No token of either kind anywhere in the file.
    expect(text).not.toContain(GITHUB_TOKEN);
    expect(text).not.toContain(npmToken);
    expect(text).not.toMatch(/token|password|@127/i);
  }, 120_000);

  it('a frozen fetch of locked, cached content asks no server, and says the same h1', async () => {
    const before = requestCounts();
    for (const ref of REFS) {
      const result = await runBuilt(['fetch', ref, '--frozen', '--json'], { cwd: project, env: env() });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const fetched = JSON.parse(result.stdout) as { h1: string; dir: string };
      expect(fetched.h1).toBe(lock.entries[0]!.h1);
      expect(h1ByCoreutils(fetched.dir)).toBe(fetched.h1);
    }
    expect(requestCounts()).toEqual(before);
    const loaded = await runBuilt(['load', 'github:com.lock.echo', '--frozen', '--json'], { cwd: project, env: env() });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ name: 'echo' });
    expect(requestCounts()).toEqual(before);
  }, 120_000);

  it('a reference that is not locked is refused under --frozen', async () => {
    const result = await runBuilt(['fetch', 'com.lock.echo', '--frozen', '--json'], { cwd: project, env: env() });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'E_LOCK_MISMATCH' });
  }, 60_000);

  it('each changed upstream (a pushed commit, an edited file, a new publish) fails --frozen with E_LOCK_MISMATCH naming it; nothing is stored', async () => {
    const changed = registryFiles('v1');
    await repo.commit('main', changed);
    await writeFiles(localDir, changed);
    await writeFiles(registryDir, changed);
    await packRegistry(registryDir, siteDir);
    await verdaccio.publish({ ...changed, 'package.json': JSON.stringify({ name: PACKAGE, version: '1.0.1' }) }, { token: npmToken });

    // Another host: the same lockfile, a cache that does not hold the locked content.
    const other = await makeProject('other-host');
    await cp(join(project, 'agentos-registry.lock.json'), join(other, 'agentos-registry.lock.json'));
    const locked = lock.entries[0]!.h1;
    for (const ref of REFS) {
      const result = await runBuilt(['load', ref, '--frozen', '--json'], { cwd: other, env: env() });
      expect(result.code, `${ref}: ${result.stdout}${result.stderr}`).toBe(1);
      const error = JSON.parse(result.stdout).error as { code: string; message: string; registry: string };
      expect(error.code).toBe('E_LOCK_MISMATCH');
      expect(error.registry).toBe(ref.split(':')[0]);
      expect(error.message).toContain(`"${ref}"`);
      expect(error.message).toContain(`expected ${locked}`);
      expect(error.message).not.toContain(GITHUB_TOKEN);
    }
    const content = await readdir(join(other, 'cache', 'content')).catch(() => [] as string[]);
    expect(content).toEqual([]);

    // The first host's cache still serves what was locked, with no call to any server (not the folder, read in place),
    // even after `update` moved its cached indexes to the new revisions.
    const moved = await runBuilt(['update', 'git', 'gitiso', 'github', 'site', 'npm'], { cwd: project, env: env() });
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    expect(moved.stdout).toContain('updated to');
    const before = requestCounts();
    for (const ref of REFS.filter((r) => !r.startsWith('local:'))) {
      const result = await runBuilt(['fetch', ref, '--frozen', '--json'], { cwd: project, env: env() });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).h1).toBe(locked);
    }
    expect(requestCounts()).toEqual(before);

    // Without --frozen the drift is a warning, and lock --update takes the new content.
    const warned = await runBuilt(['fetch', 'git:com.lock.echo'], { cwd: other, env: env() });
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain('differs from the lockfile');
    const updated = await runBuilt(['lock', '--update', 'git:com.lock.echo', '--json'], { cwd: other, env: env() });
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout).entries).toEqual([
      expect.objectContaining({ status: 'updated', ref: 'git:com.lock.echo', h1: h1ByCoreutils(join(localDir, 'registry/curated/echo')) }),
    ]);
    const frozen = await runBuilt(['load', 'git:com.lock.echo', '--frozen'], { cwd: other, env: env() });
    expect(frozen.code, frozen.stderr).toBe(0);
  }, 240_000);
});

describe('lock: the dependency tree of runnable code', () => {
  it('records dependencies (name, version, integrity) and host peers; a dependency that now resolves differently fails --frozen', async () => {
    const dir = await makeProject('deps-host');
    const result = await runBuilt(['lock', 'deps:com.lock.deps', '--json'], { cwd: dir, env: env() });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const text = await readFile(join(dir, 'agentos-registry.lock.json'), 'utf8');
    const [entry] = (JSON.parse(text) as { entries: Array<Record<string, unknown>> }).entries;
    expect(entry).toMatchObject({
      ref: 'deps:com.lock.deps',
      dependencies: [{ name: DEP, version: '1.0.0', integrity: expect.stringMatching(/^sha512-/) }],
      peers: [{ name: PEER, version: '1.4.0' }],
    });
    expect(text).not.toContain(npmToken);
    const frozen = await runBuilt(['load', 'deps:com.lock.deps', '--frozen', '--json'], { cwd: dir, env: env() });
    expect(frozen.code, frozen.stderr + frozen.stdout).toBe(0);

    // A new release of the dependency within its range: another host would install a different tree.
    await verdaccio.publish(
      { 'package.json': JSON.stringify({ name: DEP, version: '1.0.1', type: 'module', main: 'index.js' }), 'index.js': 'export const dep = 2;\n' },
      { token: npmToken },
    );
    const other = await makeProject('deps-other-host');
    await cp(join(dir, 'agentos-registry.lock.json'), join(other, 'agentos-registry.lock.json'));
    const refused = await runBuilt(['load', 'deps:com.lock.deps', '--frozen', '--json'], { cwd: other, env: env() });
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    const error = JSON.parse(refused.stdout).error as { code: string; message: string };
    expect(error.code).toBe('E_LOCK_MISMATCH');
    expect(error.message).toContain(`dependencies: expected ${DEP}@1.0.0`);
    expect(error.message).toContain(`actual ${DEP}@1.0.1`);
  }, 240_000);
});

describe('an executable bit does not slip past the lock', () => {
  it('the same bytes made executable upstream (a mode-only commit) change the hash by its ;modes: suffix, and --frozen refuses them', async () => {
    const files = registryFiles('modes');
    const modesRepo = await createGitRepo(
      { ...files, 'registry/curated/echo/bin/run': '#!/bin/sh\necho hi\n' },
      { root: join(root, 'modes-repos'), name: 'modes' },
    );
    const modesGit = await servers.add(startGitHttpServer({ root: join(root, 'modes-repos') }));
    github.setRepo('lock-org/modes', { path: modesRepo.path, private: true });
    const config = (dir: string) => ({
      registryConfig: {
        registries: {
          git: { type: 'git', location: modesGit.repoUrl('modes'), branch: 'main', cacheDuration: 0 },
          github: {
            type: 'github',
            location: 'lock-org/modes',
            branch: 'main',
            baseUrl: github.apiUrl,
            token: '${GH_TOKEN}',
            allowInsecure: true,
            cacheDuration: 0,
          },
        },
        cacheSettings: { directory: join(dir, 'cache') },
      },
      lock: { refs: ['git:com.lock.echo', 'github:com.lock.echo'] },
    });
    const first = join(root, 'modes-host');
    const second = join(root, 'modes-other-host');
    for (const dir of [first, second]) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(config(dir)));
    }
    const locked = await runBuilt(['lock', '--json'], { cwd: first, env: env() });
    expect(locked.code, locked.stderr + locked.stdout).toBe(0);
    const [a, b] = (JSON.parse(locked.stdout) as { entries: Array<{ h1: string }> }).entries;
    expect(a!.h1).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    expect(b!.h1).toBe(a!.h1);

    const item = (name: string, content: string, mode: '100644' | '100755' = '100644') => ({ name, mode, content });
    await commitRawTree(modesRepo, {
      folder: 'registry/curated/echo',
      items: [
        { name: 'bin', mode: '40000', items: [item('run', '#!/bin/sh\necho hi\n', '100755')] },
        item('manifest.json', files['registry/curated/echo/manifest.json']!),
        item('package.json', files['registry/curated/echo/package.json']!),
        { name: 'src', mode: '40000', items: [item('index.js', files['registry/curated/echo/src/index.js']!)] },
      ],
    });
    await cp(join(first, 'agentos-registry.lock.json'), join(second, 'agentos-registry.lock.json'));
    for (const ref of ['git:com.lock.echo', 'github:com.lock.echo']) {
      const result = await runBuilt(['fetch', ref, '--frozen', '--json'], { cwd: second, env: env() });
      expect(result.code, `${ref}: ${result.stdout}${result.stderr}`).toBe(1);
      const error = JSON.parse(result.stdout).error as { code: string; message: string };
      expect(error.code).toBe('E_LOCK_MISMATCH');
      // The h1 of the bytes is unchanged; only the suffix tells the executable bit.
      expect(error.message).toContain(`expected ${a!.h1}, actual ${a!.h1};modes:`);
    }
    // Without the lock, both sources give the same suffixed hash for the same tree.
    const plain = await Promise.all(
      ['git:com.lock.echo', 'github:com.lock.echo'].map(
        async (ref) =>
          JSON.parse((await runBuilt(['fetch', ref, '--json', '--lockfile', join(second, 'none.json')], { cwd: second, env: env() })).stdout).h1 as string,
      ),
    );
    expect(plain[0]).toMatch(/;modes:/);
    expect(plain[1]).toBe(plain[0]);
  }, 240_000);
});

describe('lock: an entry whose code is its npm package', () => {
  it('records the package (version, npm integrity, h1 of its files); a package that differs from it fails --frozen naming the package', async () => {
    const dir = await makeProject('pkg-host');
    const result = await runBuilt(['lock', 'deps:com.lock.pkg', '--json'], { cwd: dir, env: env() });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const file = join(dir, 'agentos-registry.lock.json');
    const doc = JSON.parse(await readFile(file, 'utf8')) as {
      entries: Array<{ h1: string; package?: { name: string; version: string; integrity: string; h1: string } }>;
    };
    const [entry] = doc.entries;
    expect(entry!.package).toEqual({ name: CODE_PACKAGE, version: '1.0.0', integrity: expect.stringMatching(/^sha512-/), h1: expect.stringMatching(/^h1:/) });
    expect(entry!.package!.h1).not.toBe(entry!.h1);
    const loaded = await runBuilt(['load', 'deps:com.lock.pkg', '--frozen', '--json'], { cwd: dir, env: env() });
    expect(loaded.code, loaded.stderr + loaded.stdout).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ name: 'pkg' });

    // A lockfile whose package integrity is not what the registry serves (as after a re-publish under the same version).
    const other = await makeProject('pkg-other-host');
    entry!.package!.integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    await writeFile(join(other, 'agentos-registry.lock.json'), JSON.stringify(doc, null, 2));
    const refused = await runBuilt(['load', 'deps:com.lock.pkg', '--frozen', '--json'], { cwd: other, env: env() });
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    const error = JSON.parse(refused.stdout).error as { code: string; message: string };
    expect(error.code).toBe('E_LOCK_MISMATCH');
    expect(error.message).toContain(`package: expected ${CODE_PACKAGE}@1.0.0 ${entry!.package!.integrity}`);
    // Refused before it was stored: the other host's cache holds nothing (the folder registry is read in place).
    const stored = await readdir(join(other, 'cache', 'content')).catch(() => [] as string[]);
    expect(stored).toEqual([]);
  }, 240_000);
});
