import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, scratch, templateRegistry, writeJsonConfig } from './helpers.js';

describe('agentos-registry CLI config handling', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
  });
  afterAll(() => cleanup());

  it('fails with E_CONFIG and tells the user to pass --config when no config file is found', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const asText = await cli(['list'], { cwd: empty });
    expect(asText.code).toBe(1);
    expect(asText.stderr).toMatch(/^error \[E_CONFIG\] .*--config/);

    const asJson = await cli(['list', '--json'], { cwd: empty });
    expect(asJson.code).toBe(1);
    expect(asJson.json()).toEqual({ error: { code: 'E_CONFIG', message: expect.stringContaining('--config'), registry: null } });
  });

  it('reports a --config path that does not exist', async () => {
    const result = await cli(['list', '--json', '--config', 'nope.json'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.json().error.code).toBe('E_CONFIG');
  });

  it('reads a .json config given with --config, relative to the working directory', async () => {
    const sub = join(dir, 'json');
    await mkdir(sub);
    await writeJsonConfig(sub, 'template', templateRegistry);
    const result = await cli(['--config', 'json/agentos-registry.config.json', 'list', '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toHaveLength(3);
  });

  it('reads a .mjs config whose default export holds registryConfig, with locations relative to the file', async () => {
    const sub = join(dir, 'mjs');
    await mkdir(sub);
    const file = join(sub, 'registries.config.mjs');
    await writeFile(
      file,
      `export default {
  registryConfig: {
    registries: { internal: { type: 'file', location: ${JSON.stringify(relative(sub, templateRegistry))} } },
    defaultRegistries: { tool: 'internal', persona: 'internal' },
    cacheSettings: { directory: ${JSON.stringify(join(sub, 'cache'))} },
  },
};
`,
    );
    const listed = await cli(['list', '--config', file, '--json'], { cwd: '/' });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json().map((r: { registry: string }) => r.registry)).toEqual(['internal', 'internal', 'internal']);

    const loaded = await cli(['load', 'internal:com.example.echo@^1', '--config', file, '--json'], { cwd: '/' });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.json()).toEqual({ name: 'com.example.echo', descriptors: [{ id: 'echo', kind: 'tool' }] });
  });

  it('finds agentos-registry.config.mjs in the working directory', async () => {
    const sub = join(dir, 'default-mjs');
    await mkdir(sub);
    await writeFile(
      join(sub, 'agentos-registry.config.mjs'),
      `export default { registries: { default: { type: 'file', location: ${JSON.stringify(templateRegistry)} } }, cacheSettings: { directory: ${JSON.stringify(join(sub, 'cache'))} } };\n`,
    );
    const result = await cli(['info', 'com.example.calculator', '--json'], { cwd: sub });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ registry: 'default', id: 'com.example.calculator', version: '1.0.0' });
  });

  it('never prints a token from the config', async () => {
    const token = 'ghp_s3cretTokenValue1234567890';
    const sub = join(dir, 'token');
    await mkdir(sub);
    // The config refers to the token through the environment, as the page recommends; core expands it.
    const tokenReference = ['$', '{REGISTRY_TOKEN}'].join('');
    await writeJsonConfig(sub, 'private', templateRegistry, { token: tokenReference });
    const env = { REGISTRY_TOKEN: token };
    for (const argv of [
      ['list'],
      ['list', '--json'],
      ['info', 'com.example.echo', '--json'],
      ['info', 'nope', '--json'],
      ['info', 'nope'],
      ['fetch', 'com.example.echo', '--verbose'],
    ]) {
      const result = await cli(argv, { cwd: sub, env });
      expect(result.stdout + result.stderr).not.toContain(token);
    }
  });

  it('a --kind named like an Object member is E_NO_REGISTRY_FOR_KIND, not a TypeError or "function toString()"', async () => {
    const sub = join(dir, 'kinds');
    await mkdir(sub);
    await writeJsonConfig(sub, 'template', templateRegistry);
    for (const kind of ['constructor', 'hasOwnProperty', 'toString', '__proto__']) {
      for (const argv of [
        ['load', 'com.example.echo', '--kind', kind],
        ['list', '--kind', kind],
      ]) {
        const result = await cli(argv, { cwd: sub });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `error [E_NO_REGISTRY_FOR_KIND] No registry is configured for kind "${kind}". Add defaultRegistries.${kind}, a resolver that answers "${kind}", a registry named "default", or use a "registry:id" reference.\n`,
        );
      }
    }
  });

  it('a cache folder that is a file is E_CONFIG naming cacheSettings.directory, for fetching and for cache commands', async () => {
    const sub = join(dir, 'cache-file');
    await mkdir(sub);
    await writeJsonConfig(sub, 'template', templateRegistry);
    // writeJsonConfig caches into <sub>/cache: make that a file.
    await writeFile(join(sub, 'cache'), 'not a folder');
    for (const argv of [['list'], ['cache', 'clean', '--yes']]) {
      const result = await cli(argv, { cwd: sub });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error [E_CONFIG] The cache folder ${join(sub, 'cache')} cannot be used: it is a file, not a folder. Point cacheSettings.directory at a folder this process can write, or turn the cache off with cacheSettings.enabled: false.\n`,
      );
    }
  });

  it('treats usage mistakes as exit code 2, in JSON when asked', async () => {
    const missing = await cli(['info', '--json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.json().error.code).toBe('E_USAGE');
    expect(missing.stderr).toContain("missing required argument 'ref'");

    const unknown = await cli(['frobnicate'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });

  it('prints help and version with exit code 0', async () => {
    const help = await cli(['--help'], { cwd: dir });
    expect(help.code).toBe(0);
    for (const command of ['list', 'search', 'info', 'fetch', 'load']) expect(help.stdout).toContain(command);
    const subHelp = await cli(['load', '--help'], { cwd: dir });
    expect(subHelp.code).toBe(0);
    expect(subHelp.stdout).toContain('--kind');
    expect(subHelp.stdout).toContain('--config');
    const version = await cli(['--version'], { cwd: dir });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
