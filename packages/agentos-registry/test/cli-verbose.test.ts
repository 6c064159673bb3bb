/**
 * `--verbose` writes to stderr what the registry does (issue 16: it used to write nothing): each cache decision for
 * the index and the entry, and each HTTP request with its method, URL without secrets, status and duration. stdout
 * is unchanged by it. Runs the built CLI against a url registry on a loopback static server.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type StaticServer, startStaticServer } from '@agentos-registry/test-servers';
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
