/**
 * The air-gap mirror (issue 15), run as the built CLI against real servers on loopback: a private git repo over git
 * http-backend (with a token), a static site and a folder, each serving an entry with the same id. Mirror them, stop
 * the servers, then a config of `file` registries pointing at the mirror serves the same h1 (frozen, with the lockfile
 * written before the gap); a corrupted, a missing and an extra file are each named by verify-mirror (exit 1); the token
 * is in no file of the mirror. Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, createGitRepo, type GitHttpServer, type StaticServer, startGitHttpServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packRegistry } from '../src/index.js';
import { runBuilt, scratch } from './helpers.js';

const TOOL = 'com.mirror.echo';
const TOKEN = 'mirrorTestToken0123456789abcdef';

function registryFiles(label: string): Record<string, string> {
  const entry = { id: TOOL, name: 'Echo', version: '1.0.0', path: 'curated/echo' };
  const manifest = { id: TOOL, name: 'Echo', version: '1.0.0', extensions: [{ kind: 'tool', id: 'echo', entry: './src/index.js' }] };
  return {
    'registry.json': `${JSON.stringify({ version: '1.0.0', extensions: { curated: [entry] } }, null, 2)}\n`,
    'registry/curated/echo/manifest.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'registry/curated/echo/package.json': `${JSON.stringify({ name: 'mirror-echo', version: '1.0.0', type: 'module' })}\n`,
    'registry/curated/echo/src/index.js': `// ${label}\nexport const createExtensionPack = () => ({ name: 'echo-${label}', descriptors: [{ id: 'echo', kind: 'tool', payload: {} }] });\n`,
  };
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const item of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (item.isFile()) out.push(join(item.parentPath, item.name));
  }
  return out;
}

let root: string;
let cleanup: () => Promise<void>;
const servers = new Cleanup();
let git: GitHttpServer;
let site: StaticServer;
let online: string;
let mirror: string;
const env = { GIT_TOKEN: TOKEN };
const REFS = ['git:com.mirror.echo', 'site:com.mirror.echo', 'local:com.mirror.echo'];

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  await createGitRepo(registryFiles('git'), { root: join(root, 'repos'), name: 'extensions' });
  git = await servers.add(startGitHttpServer({ root: join(root, 'repos'), auth: { type: 'bearer', token: TOKEN }, privateRepos: ['extensions'] }));
  await writeFiles(join(root, 'site-source'), registryFiles('site'));
  await packRegistry(join(root, 'site-source'), join(root, 'site'));
  site = await servers.add(startStaticServer({ root: join(root, 'site') }));
  await writeFiles(join(root, 'local'), registryFiles('local'));
  online = join(root, 'online');
  mirror = join(root, 'mirror');
  await mkdir(online, { recursive: true });
  const registries = {
    git: { type: 'git', location: git.repoUrl('extensions'), branch: 'main', token: '${GIT_TOKEN}' },
    site: { type: 'url', location: site.url, allowInsecure: true },
    local: { type: 'file', location: join(root, 'local') },
  };
  await writeFile(
    join(online, 'agentos-registry.config.json'),
    JSON.stringify({ registryConfig: { registries, cacheSettings: { directory: join(online, 'cache') } }, lock: { refs: REFS } }, null, 2),
  );
}, 60_000);

afterAll(async () => {
  await servers.run();
  await cleanup();
});

describe('agentos-registry mirror and verify-mirror', () => {
  it('mirrors every registry, serves the same h1 from the mirror with the servers stopped, and names each bad file', async () => {
    const locked = await runBuilt(['lock'], { cwd: online, env });
    expect(locked.stderr).toBe('');
    expect(locked.code).toBe(0);
    const first = await runBuilt(['mirror', '--to', mirror, '--json'], { cwd: online, env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as {
      copied: string[];
      kept: string[];
      registries: Array<{ name: string; source: { type: string }; entries: Array<{ id: string; h1: string }> }>;
    };
    expect(result.copied.sort()).toEqual(['git:com.mirror.echo@1.0.0', 'local:com.mirror.echo@1.0.0', 'site:com.mirror.echo@1.0.0']);
    expect(result.registries.map((r) => `${r.name}:${r.source.type}`)).toEqual(['git:git', 'local:file', 'site:url']);
    const h1s = Object.fromEntries(result.registries.map((r) => [r.name, r.entries[0]!.h1]));
    // Same id, different files in each registry: one folder per source registry keeps all three.
    expect(new Set(Object.values(h1s)).size).toBe(3);
    const lock = JSON.parse(await readFile(join(online, 'agentos-registry.lock.json'), 'utf8')) as { entries: Array<{ registry: string; h1: string }> };
    for (const e of lock.entries) expect(e.h1).toBe(h1s[e.registry]);

    // Re-running copies nothing that did not change.
    const again = await runBuilt(['mirror', '--to', mirror, '--json'], { cwd: online, env });
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as { copied: string[]; kept: string[] }).copied).toEqual([]);
    // A narrower selection makes the mirror that selection; widening it again copies back only what left.
    const narrow = await runBuilt(['mirror', '--to', mirror, '--refs', `git:${TOOL}`, '--json'], { cwd: online, env });
    expect(narrow.code).toBe(0);
    expect((JSON.parse(narrow.stdout) as { kept: string[] }).kept).toEqual(['git:com.mirror.echo@1.0.0']);
    expect((await readdir(mirror)).sort()).toEqual(['SHA256SUMS', 'git', 'mirror.json']);
    const wide = await runBuilt(['mirror', '--to', mirror, '--all', '--json'], { cwd: online, env });
    expect(wide.code).toBe(0);
    expect((JSON.parse(wide.stdout) as { copied: string[] }).copied.sort()).toEqual(['local:com.mirror.echo@1.0.0', 'site:com.mirror.echo@1.0.0']);

    const sums = await readFile(join(mirror, 'SHA256SUMS'), 'utf8');
    expect(sums).toMatch(/^[0-9a-f]{64} {2}git\/registry\.json$/m);
    expect(sums).toMatch(/^[0-9a-f]{64} {2}mirror\.json$/m);
    for (const file of await allFiles(mirror)) expect(await readFile(file, 'utf8')).not.toContain(TOKEN);

    // The gap: every server stopped; a config of file registries, each named as the registry it mirrors.
    await servers.run();
    const offline = join(root, 'offline');
    await mkdir(offline, { recursive: true });
    const registries = Object.fromEntries(['git', 'site', 'local'].map((name) => [name, { type: 'file', location: join(mirror, name) }]));
    await writeFile(
      join(offline, 'agentos-registry.config.json'),
      JSON.stringify({ registryConfig: { registries, cacheSettings: { directory: join(offline, 'cache') } } }),
    );
    await writeFile(join(offline, 'agentos-registry.lock.json'), await readFile(join(online, 'agentos-registry.lock.json')));
    for (const name of ['git', 'site', 'local']) {
      const fetched = await runBuilt(['fetch', `${name}:${TOOL}`, '--frozen', '--json'], { cwd: offline });
      expect(fetched.stderr).toBe('');
      expect(fetched.code).toBe(0);
      expect((JSON.parse(fetched.stdout) as { h1: string }).h1).toBe(h1s[name]);
      const loaded = await runBuilt(['load', `${name}:${TOOL}`, '--frozen', '--json'], { cwd: offline });
      expect(loaded.code).toBe(0);
      expect(loaded.stdout).toContain(`echo-${name}`);
    }

    const intact = await runBuilt(['verify-mirror', mirror], { cwd: offline });
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('intact');

    await writeFile(join(mirror, 'git/registry/com.mirror.echo/1.0.0/src/index.js'), '// changed\n');
    await rm(join(mirror, 'site/registry/com.mirror.echo/1.0.0/manifest.json'));
    await writeFile(join(mirror, 'local/registry/com.mirror.echo/1.0.0/extra.js'), '// extra\n');
    const bad = await runBuilt(['verify-mirror', mirror, '--json'], { cwd: offline });
    expect(bad.code).toBe(1);
    const problems = (JSON.parse(bad.stdout) as { problems: Array<{ problem: string; path: string }> }).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ problem: 'changed', path: 'git/registry/com.mirror.echo/1.0.0/src/index.js' }),
        expect.objectContaining({ problem: 'missing', path: 'site/registry/com.mirror.echo/1.0.0/manifest.json' }),
        expect.objectContaining({ problem: 'extra', path: 'local/registry/com.mirror.echo/1.0.0/extra.js' }),
        expect.objectContaining({ problem: 'entry-changed', path: 'git/registry/com.mirror.echo/1.0.0' }),
      ]),
    );
    const text = await runBuilt(['verify-mirror', mirror], { cwd: offline });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('git/registry/com.mirror.echo/1.0.0/src/index.js');
    // A list that names a path outside the mirror is a problem, not a file read.
    await writeFile(join(mirror, 'SHA256SUMS'), `${sums}${'0'.repeat(64)}  ../outside\n`);
    const outside = await runBuilt(['verify-mirror', mirror, '--json'], { cwd: offline });
    expect(outside.code).toBe(1);
    expect(outside.stdout).toContain('names a path outside the mirror');
    // A frozen fetch of the changed entry is refused.
    const refused = await runBuilt(['fetch', `git:${TOOL}`, '--frozen', '--json'], { cwd: join(root, 'offline') });
    expect(refused.code).toBe(1);
    expect(`${refused.stdout}${refused.stderr}`).toContain('E_LOCK_MISMATCH');
  }, 120_000);

  it('has help with an example', async () => {
    const help = await runBuilt(['mirror', '--help'], { cwd: root });
    expect(help.stdout).toContain('$ agentos-registry mirror --to');
    const verify = await runBuilt(['verify-mirror', '--help'], { cwd: root });
    expect(verify.stdout).toContain('$ agentos-registry verify-mirror');
  });
});
