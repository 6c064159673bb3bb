/**
 * `update` (revalidate every registry now, like `helm repo update`) and `info --versions`, run as the built CLI
 * against a git server on loopback, a registry folder and an address nothing listens on.
 * Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, createGitRepo, type GitRepo, refusedPort, startGitHttpServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
let repo: GitRepo;
let gitUrl: string;
const servers = new Cleanup();

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  repo = await createGitRepo(templateRegistry, { root: join(root, 'repos'), name: 'extensions' });
  gitUrl = (await servers.add(startGitHttpServer({ root: join(root, 'repos') }))).repoUrl('extensions');
}, 60_000);
afterAll(async () => {
  await servers.run();
  await cleanup();
});

async function project(name: string, registries: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify({ registries, cacheSettings: { directory: join(dir, 'cache') } }));
  return dir;
}

describe('update', () => {
  it('says per registry: updated (first time), unchanged, updated to the new revision, failed with its code; exit 1 on a failure', async () => {
    const port = await refusedPort();
    const dir = await project('update', {
      git: { type: 'git', location: gitUrl, branch: 'main', cacheDuration: 3_600_000 },
      down: { type: 'url', location: `http://127.0.0.1:${port}/registry` },
    });
    const first = await runBuilt(['update', 'git', '--json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const tip = await repo.revParse('main');
    expect(JSON.parse(first.stdout).registries).toEqual([{ registry: 'git', status: 'updated', revision: tip, previous: null }]);

    const again = await runBuilt(['update', 'git', '--json'], { cwd: dir });
    expect(JSON.parse(again.stdout).registries[0]).toMatchObject({ status: 'unchanged', revision: tip, previous: tip });

    // A new commit upstream is seen at once although cacheDuration (an hour) has not passed.
    const manifest = JSON.parse(await readFile(join(templateRegistry, 'registry.json'), 'utf8'));
    manifest.updated = '2030-01-01T00:00:00.000Z';
    const next = await repo.commit('main', { 'registry.json': `${JSON.stringify(manifest, null, 2)}\n` }, { overlay: true });
    const all = await runBuilt(['update'], { cwd: dir });
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`git       updated to ${next.slice(0, 16)} (was ${tip.slice(0, 16)})`);
    expect(all.stdout).toMatch(/down\s+failed \[E_UNREACHABLE\]/);
    expect(all.stderr).toMatch(/^error \[E_UNREACHABLE\] Registry "down"/m);

    const json = await runBuilt(['update', '--json'], { cwd: dir });
    expect(json.code).toBe(1);
    const rows = JSON.parse(json.stdout).registries;
    expect(rows[0]).toMatchObject({ registry: 'git', status: 'unchanged', revision: next });
    expect(rows[1]).toMatchObject({ registry: 'down', status: 'failed', revision: null, error: { code: 'E_UNREACHABLE' } });
  }, 120_000);

  it('an unknown registry name fails that row with E_CONFIG and did you mean', async () => {
    const dir = await project('update-typo', { local: { type: 'file', location: templateRegistry } });
    const result = await runBuilt(['update', 'locl', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    const [row] = JSON.parse(result.stdout).registries;
    expect(row).toMatchObject({ registry: 'locl', status: 'failed', error: { code: 'E_CONFIG' } });
    expect(row.error.message).toContain('Did you mean "local"?');
  });
});

describe('info --versions', () => {
  it('lists the versions of the entry across the registries, marking the one info chose', async () => {
    const newer = join(root, 'newer');
    await cp(templateRegistry, newer, { recursive: true });
    const index = JSON.parse(await readFile(join(newer, 'registry.json'), 'utf8'));
    const echo = index.extensions.curated.find((e: { id: string }) => e.id === 'com.example.echo');
    echo.version = '1.1.0';
    await writeFile(join(newer, 'registry.json'), JSON.stringify(index));
    const dir = await project('versions', { old: { type: 'file', location: templateRegistry }, new: { type: 'file', location: newer } });
    const result = await runBuilt(['info', 'old:com.example.echo', '--versions', '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).versions).toEqual([
      { registry: 'old', version: '1.0.0', tier: 'curated', chosen: true },
      { registry: 'new', version: '1.1.0', tier: 'curated', chosen: false },
    ]);
    const text = await runBuilt(['info', 'new:com.example.echo', '--versions'], { cwd: dir });
    expect(text.stdout).toMatch(/versions:\nVERSION\s+REGISTRY\s+TIER\n1\.0\.0\s+old\s+curated\n1\.1\.0\s+new\s+curated\s+\(this one\)\n/);
    // Without --versions, nothing about other versions.
    expect((await runBuilt(['info', 'new:com.example.echo'], { cwd: dir })).stdout).not.toContain('versions:');
  });
});
