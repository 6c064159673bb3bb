/**
 * `--verbose` writes to stderr what the registry does (issue 16: it used to write nothing): each cache decision for
 * the index and the entry, and each HTTP request with its method, URL without secrets, status and duration. stdout
 * is unchanged by it. Runs the built CLI against a url registry on a loopback static server.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, createGitRepo, type GitHttpServer, type StaticServer, startGitHttpServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch } from './helpers.js';

describe('--verbose', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: StaticServer;
  const token = 'tok_verboseSecret1234567890';

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    expect((await runBuilt(['init', 'reg'], { cwd: dir })).code).toBe(0);
    expect((await runBuilt(['pack', 'reg', '--out', 'site'], { cwd: dir })).code).toBe(0);
    server = await startStaticServer({ root: join(dir, 'site'), auth: { token } });
    const config = {
      registries: { site: { type: 'url', location: server.url, token: ['$', '{SITE_TOKEN}'].join('') } },
      defaultRegistries: { tool: 'site' },
      cacheSettings: { directory: join(dir, 'cache') },
    };
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(config));
  });
  afterAll(async () => {
    await server?.close();
    await cleanup();
  });

  it('logs each network request and cache decision to stderr, never the token; without it, nothing', async () => {
    const env = { SITE_TOKEN: token };
    const quiet = await runBuilt(['fetch', 'com.example.greet', '--refresh'], { cwd: dir, env });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');

    const first = await runBuilt(['cache', 'clean', '--yes'], { cwd: dir, env });
    expect(first.code).toBe(0);
    const cold = await runBuilt(['fetch', 'com.example.greet', '--verbose'], { cwd: dir, env });
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stderr).toMatch(/^debug: cache: index of "site": nothing cached: asking the source$/m);
    expect(cold.stderr).toMatch(new RegExp(`^debug: http: GET ${server.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}registry\\.json → 200 in \\d+ ms$`, 'm'));
    expect(cold.stderr).toMatch(/^debug: cache: com\.example\.greet of "site" at .+: not cached: fetching it from the source$/m);
    expect(cold.stderr).toMatch(/^debug: http: GET http:\/\/127\.0\.0\.1:\d+\/.*\.tgz → 200 in \d+ ms$/m);
    expect(cold.stdout).toBe(quiet.stdout.replace(/(from cache:\s+)\S.*/, '$1no'));

    const warm = await runBuilt(['fetch', 'com.example.greet', '--verbose'], { cwd: dir, env });
    expect(warm.code, warm.stderr).toBe(0);
    expect(warm.stderr).toMatch(/^debug: cache: index of "site": fresh \(checked \d+ ms ago, cacheDuration \d+ ms\): no call to the source$/m);
    expect(warm.stderr).toMatch(/^debug: cache: com\.example\.greet of "site" at .+: in the disk cache$/m);
    expect(warm.stderr).not.toMatch(/debug: http:/);

    const revalidated = await runBuilt(['list', '--verbose', '--refresh'], { cwd: dir, env });
    expect(revalidated.stderr).toMatch(/^debug: cache: index of "site": refresh asked: revalidating with the source$/m);
    expect(revalidated.stderr).toMatch(/^debug: http: GET .*registry\.json → 304 in \d+ ms$/m);

    for (const result of [cold, warm, revalidated]) expect(result.stdout + result.stderr).not.toContain(token);
  });
});

describe('--verbose: git and credentials in URLs', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let git: GitHttpServer;
  const servers = new Cleanup();
  const token = 'tok_gitVerboseSecret0987654321';

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    expect((await runBuilt(['init', 'reg'], { cwd: dir })).code).toBe(0);
    await servers.add(createGitRepo(join(dir, 'reg'), { root: join(dir, 'repos'), name: 'private' }));
    git = await servers.add(
      startGitHttpServer({ root: join(dir, 'repos'), auth: { type: 'basic', username: 'x-access-token', password: token }, privateRepos: ['private'] }),
    );
  });
  afterAll(async () => {
    await servers.run();
    await cleanup();
  });

  /** A folder whose config has the one registry `r`, caching under it. */
  async function configured(name: string, registry: Record<string, unknown>): Promise<string> {
    const folder = join(dir, name);
    await mkdir(folder, { recursive: true });
    await writeFile(
      join(folder, 'agentos-registry.config.json'),
      JSON.stringify({ registries: { r: registry }, cacheSettings: { directory: join(folder, 'cache') } }),
    );
    return folder;
  }

  it('native git: each command that talks to the server, with its public URL, outcome and time; never the token', async () => {
    const cwd = await configured('native', { type: 'git', location: git.repoUrl('private'), engine: 'native', token: ['$', '{GIT_TOKEN}'].join('') });
    const ok = await runBuilt(['fetch', 'com.example.greet', '--verbose'], { cwd, env: { GIT_TOKEN: token } });
    expect(ok.code, ok.stderr).toBe(0);
    const url = git.repoUrl('private').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(ok.stderr).toMatch(new RegExp(`^debug: git: ls-remote ${url} → ok in \\d+ ms$`, 'm'));
    expect(ok.stderr).toMatch(new RegExp(`^debug: git: fetch ${url} → ok in \\d+ ms$`, 'm'));
    expect(ok.stderr + ok.stdout).not.toContain(token);

    const wrong = 'tok_wrongGitSecret5555';
    const refused = await runBuilt(['list', '--verbose', '--refresh'], {
      cwd: await configured('wrong', { type: 'git', location: git.repoUrl('private'), engine: 'native', token: wrong }),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^debug: git: ls-remote ${url} failed after \\d+ ms$`, 'm'));
    expect(refused.stderr).toContain('[E_AUTH]');
    expect(refused.stderr).not.toContain(wrong);
  });

  it.each(['native', 'isomorphic'])("%s engine: a refused token, as the CLI prints it: E_AUTH with what to do, not git's prompt wording", async (engine) => {
    for (const authScheme of ['basic', 'bearer']) {
      const cwd = await configured(`refused-${engine}-${authScheme}`, {
        type: 'git',
        location: git.repoUrl('private'),
        engine,
        token: 'tok_refused1234',
        authScheme,
      });
      const result = await runBuilt(['list'], { cwd });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^error \[E_AUTH\] Registry 'r' \(.+\) refused the configured token while .+ \(HTTP 401\)\. Check that the token is current/,
      );
      expect(result.stderr).not.toMatch(/could not read|terminal prompts|fatal:/i);
      if (authScheme === 'bearer') expect(result.stderr).not.toContain("`authScheme: 'bearer'` if");
      else expect(result.stderr).toContain("`authScheme: 'bearer'` if it takes bearer tokens");
    }
  });

  it('a password in a URL location is refused, and shows neither in the log nor in the error', async () => {
    const secret = 'pw-inUrlSecret-4242';
    for (const type of ['url', 'git']) {
      const location = type === 'url' ? `http://deploy:${secret}@127.0.0.1:9/registry/` : git.repoUrl('private').replace('http://', `http://deploy:${secret}@`);
      const result = await runBuilt(['list', '--verbose'], { cwd: await configured(`userinfo-${type}`, { type, location }) });
      expect(result.code, type).toBe(1);
      expect(result.stderr, type).toMatch(/^error \[E_CONFIG\]/m);
      expect(result.stderr + result.stdout, type).not.toContain(secret);
    }
  });
});
