/**
 * `doctor` as the built CLI: git and the engine of a git registry, each registry reachable and its token accepted
 * (a static server that checks a bearer token), proxy settings with their credentials hidden, the cache folder, and
 * the npm registry for dependencies (a static server answering `/-/ping`). Exit 1 on any failure; `--json`.
 * Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, createGitRepo, refusedPort, startGitHttpServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

const TOKEN = 'doctor-token-4711';
let root: string;
let cleanup: () => Promise<void>;
const servers = new Cleanup();
let siteUrl: string;
let npmUrl: string;
let gitUrl: string;

interface Check {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
  const site = join(root, 'site');
  const packed = await runBuilt(['pack', templateRegistry, '--out', site], { cwd: root });
  expect(packed.code, packed.stderr).toBe(0);
  siteUrl = (await servers.add(startStaticServer({ root: site, auth: { token: TOKEN } }))).url;
  const npm = join(root, 'npm');
  await mkdir(join(npm, '-'), { recursive: true });
  await writeFile(join(npm, '-', 'ping'), '{}');
  npmUrl = (await servers.add(startStaticServer({ root: npm }))).url;
  await createGitRepo(templateRegistry, { root: join(root, 'repos'), name: 'extensions' });
  gitUrl = (await servers.add(startGitHttpServer({ root: join(root, 'repos') }))).repoUrl('extensions');
}, 60_000);
afterAll(async () => {
  await servers.run();
  await cleanup();
});

async function project(name: string, token: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const config = {
    registries: {
      local: { type: 'file', location: templateRegistry },
      web: { type: 'url', location: siteUrl, token },
      git: { type: 'git', location: gitUrl, branch: 'main' },
    },
    cacheSettings: { directory: join(dir, 'cache') },
  };
  await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(config));
  return dir;
}

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.check, c]));

describe('doctor', () => {
  it('all good: every check ok, exit 0, a table on stdout', async () => {
    const dir = await project('good', TOKEN);
    const result = await runBuilt(['doctor', '--json'], { cwd: dir, env: { npm_config_registry: npmUrl } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(true);
    const checks = byName(report.checks);
    expect(checks.git).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^git \d+\.\d+/) });
    expect(checks['engine git']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^native git \d+\.\d+/) });
    for (const name of ['registry local', 'registry web', 'registry git'])
      expect(checks[name]).toMatchObject({ status: 'ok', detail: expect.stringContaining('reachable') });
    expect(checks['auth web']).toEqual({ check: 'auth web', status: 'ok', detail: 'credentials accepted' });
    expect(checks.proxy).toMatchObject({ status: 'ok', detail: 'none (direct connections)' });
    expect(checks.cache).toMatchObject({ status: 'ok', detail: expect.stringMatching(/writable, intact, \d/) });
    expect(checks['npm registry']).toMatchObject({ status: 'ok', detail: expect.stringContaining(npmUrl) });
    const text = await runBuilt(['doctor'], { cwd: dir, env: { npm_config_registry: npmUrl } });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^CHECK\s+STATUS\s+DETAIL\n/);
    expect(text.stdout).toMatch(/\nall checks passed\n$/);
  }, 120_000);

  it('a refused token and an unreachable npm registry fail (exit 1), and the token is never printed', async () => {
    const dir = await project('bad', 'wrong-token-0815');
    const port = await refusedPort();
    const result = await runBuilt(['doctor', '--json'], { cwd: dir, env: { npm_config_registry: `http://127.0.0.1:${port}/` } });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(false);
    const checks = byName(report.checks);
    expect(checks['registry web']?.status).toBe('ok');
    expect(checks['auth web']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^\[E_AUTH\]/) });
    expect(checks['npm registry']).toMatchObject({ status: 'fail', detail: expect.stringContaining('could not be reached') });
    expect(checks['registry local']?.status).toBe('ok');
    const text = await runBuilt(['doctor'], { cwd: dir, env: { npm_config_registry: `http://127.0.0.1:${port}/` } });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/auth web\s+FAIL\s+\[E_AUTH\]/);
    expect(text.stdout).toMatch(/\n2 check\(s\) failed\n$/);
    expect(result.stdout + result.stderr + text.stdout + text.stderr).not.toContain('wrong-token-0815');
  }, 120_000);

  it('shows the proxy in use without its password', async () => {
    const dir = join(root, 'proxy');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'agentos-registry.config.json'),
      JSON.stringify({ registries: { local: { type: 'file', location: templateRegistry } }, cacheSettings: { directory: join(dir, 'cache') } }),
    );
    const result = await runBuilt(['doctor', '--json'], {
      cwd: dir,
      env: { npm_config_registry: npmUrl, HTTPS_PROXY: 'http://me:proxy-secret-99@127.0.0.1:3128', NO_PROXY: '127.0.0.1' },
    });
    const proxy = byName((JSON.parse(result.stdout) as { checks: Check[] }).checks).proxy;
    expect(proxy?.detail).toContain('HTTPS_PROXY=http://[REDACTED]@127.0.0.1:3128');
    expect(proxy?.detail).toContain('NO_PROXY=127.0.0.1');
    expect(result.stdout).not.toContain('proxy-secret-99');
  });
});
