/** The CLI's side of extension dependencies: the config file's `dependencies` settings, and peers from the host. */
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, scratch, templateRegistry } from './helpers.js';

const PEER = '@framers/agentos-like';

describe('agentos-registry load: dependencies', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let registry: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    // The template registry, with its echo tool turned into one that imports a peer the host provides.
    registry = join(dir, 'registry');
    await cp(templateRegistry, registry, { recursive: true });
    const echo = join(registry, 'registry', 'curated', 'echo');
    await writeFile(
      join(echo, 'package.json'),
      JSON.stringify({ name: 'echo', version: '1.0.0', type: 'module', main: 'src/index.js', peerDependencies: { [PEER]: '^1.0.0' } }),
    );
    await writeFile(
      join(echo, 'src', 'index.js'),
      `import { host } from '${PEER}';\nexport const createExtensionPack = () => ({ name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: { host } }] });\n`,
    );
  });
  afterAll(() => cleanup());

  async function project(name: string, dependencies?: unknown, peerVersion = '1.4.0'): Promise<string> {
    const root = join(dir, name);
    await mkdir(root, { recursive: true });
    // No test here may reach a public registry: npm's settings send every request to a closed local port.
    await writeFile(join(root, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
    if (peerVersion) {
      await mkdir(join(root, 'node_modules', PEER), { recursive: true });
      await writeFile(join(root, 'node_modules', PEER, 'package.json'), JSON.stringify({ name: PEER, version: peerVersion, type: 'module', main: 'index.js' }));
      await writeFile(join(root, 'node_modules', PEER, 'index.js'), 'export const host = true;\n');
    }
    const config = {
      registryConfig: {
        registries: { internal: { type: 'file', location: registry } },
        defaultRegistries: { tool: 'internal' },
        cacheSettings: { directory: join(root, 'cache') },
      },
      ...(dependencies === undefined ? {} : { dependencies }),
    };
    await writeFile(join(root, 'agentos-registry.config.mjs'), `export default ${JSON.stringify(config, null, 2)};\n`);
    return root;
  }

  it("links the host's peer and says so; the install area is the config file's dependencies.directory", async () => {
    const root = await project('with-area', { directory: './extensions', allowScripts: ['sharp'] });
    const text = await cli(['load', 'com.example.echo'], { cwd: root });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`dependencies: none installed; peers from the host: ${PEER}`);
    expect(existsSync(join(root, 'extensions'))).toBe(true);
    const json = await cli(['load', 'com.example.echo', '--json', '--allow-scripts', 'esbuild,sharp'], { cwd: root });
    expect(json.code, json.stderr).toBe(0);
    // The flag adds to the config file's list; the install folder records the policy it was built with.
    expect(json.json().install).toEqual({ packages: [], allowScripts: ['esbuild', 'sharp'], scriptsRan: [], peers: [PEER] });
  });

  it('a host peer outside the range: used with a warning; --strict-peers makes it E_PEER_MISSING naming it and the range', async () => {
    const root = await project('old-peer', undefined, '0.5.0');
    const loose = await cli(['load', 'com.example.echo'], { cwd: root, env: { HOME: root } });
    expect(loose.code, loose.stderr).toBe(0);
    expect(loose.stderr).toContain(`warning: com.example.echo@1.0.0 declares the peer dependency ${PEER}@^1.0.0, and the host has ${PEER}@0.5.0`);
    const result = await cli(['load', 'com.example.echo', '--json', '--strict-peers'], { cwd: root, env: { HOME: root } });
    expect(result.code).toBe(1);
    expect(result.json().error).toMatchObject({ code: 'E_PEER_MISSING' });
    expect(result.json().error.message).toContain(`${PEER}@^1.0.0 (the host has 0.5.0)`);
    // The registry cannot be asked which versions exist: no version is named.
    expect(result.json().error.message).not.toContain('npm install');
  });

  it.each([
    [{ allowScripts: 'esbuild' }, 'dependencies.allowScripts'],
    [{ strictPeers: 'yes' }, 'dependencies.strictPeers'],
    [{ allowscripts: ['esbuild'] }, 'dependencies.allowscripts'],
    [['esbuild'], 'dependencies '],
  ])('a wrong dependencies setting in the config file is E_CONFIG naming it (%j)', async (dependencies, field) => {
    const root = await project(`bad-${field.replace(/\W/g, '')}-${Math.random().toString(36).slice(2)}`, dependencies);
    const result = await cli(['list', '--json'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.json().error.code).toBe('E_CONFIG');
    expect(result.json().error.message).toContain(field);
  });
});
