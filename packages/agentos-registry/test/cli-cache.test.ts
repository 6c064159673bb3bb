import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, scratch, templateRegistry, writeJsonConfig } from './helpers.js';

describe('agentos-registry cache …', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const run = (...argv: string[]): Promise<CliResult> => cli(argv, { cwd: dir });

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    await writeJsonConfig(dir, 'template', templateRegistry);
  });
  afterAll(() => cleanup());

  it('ls shows a registry once it was read, with its revision', async () => {
    expect((await run('cache', 'ls', '--json')).json().registries).toEqual([]);
    expect((await run('list', '--json')).code).toBe(0);
    const listed = await run('cache', 'ls', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const { directory, registries } = listed.json();
    expect(directory).toBe(join(dir, 'cache'));
    expect(registries).toHaveLength(1);
    expect(registries[0]).toMatchObject({ registry: 'template', sourceType: 'file', revision: expect.stringMatching(/^fs-/) });
    const text = await run('cache', 'ls');
    expect(text.stdout).toMatch(/^REGISTRY\s+TYPE\s+REVISION/);
  });

  it('verify is clean, then reports (and removes) a damaged index', async () => {
    await run('list');
    const clean = await run('cache', 'verify', '--json');
    expect(clean.code, clean.stdout).toBe(0);
    expect(clean.json().problems).toEqual([]);
    const blobs = join(dir, 'cache', 'v1', 'blobs');
    for (const blob of await readdir(blobs)) await writeFile(join(blobs, blob), 'tampered');
    const damaged = await run('cache', 'verify');
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toMatch(/damaged/);
    expect((await run('list', '--json')).json()).toHaveLength(3);
  });

  it('clean removes one registry; prune runs with the config maxAge', async () => {
    await run('list');
    const cleaned = await run('cache', 'clean', 'template', '--json');
    expect(cleaned.json()).toMatchObject({ registry: 'template', removed: 1 });
    expect((await run('cache', 'ls', '--json')).json().registries).toEqual([]);
    const pruned = await run('cache', 'prune', '--json');
    expect(pruned.code).toBe(0);
    expect(pruned.json().removed).toMatchObject({ contents: 0 });
  });

  it('--offline on a file registry still reads the folder (it is not the network)', async () => {
    const result = await run('list', '--offline', '--json');
    expect(result.code, result.stdout).toBe(0);
    expect(result.json()).toHaveLength(3);
  });
});
