/**
 * Start-up (issue 17): core loads undici, tar, yaml, semver and zod on first use, and source-git loads simple-git at
 * its first git command, so a process that imports them and lists a warm local registry loads none of those. Checked
 * in fresh processes (the test runner itself has loaded everything), by hooks that log every `import` and `require`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { scratch, templateRegistry } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const LIBRARIES = ['undici', 'tar', 'yaml', 'semver', 'zod', 'simple-git', 'isomorphic-git', 'pacote'];

/**
 * Runs `body` as an ES module (or `argv`) in a fresh node and answers which of `names` it loaded: a resolve hook logs
 * every `import`, and a wrapper of CommonJS's loader every `require` (core loads its libraries with `require`).
 */
async function loadedAfter(body: string, names: readonly string[] = LIBRARIES, argv?: string[]): Promise<string[]> {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const log = join(dir, 'resolved.txt');
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}
`,
  );
  const register = join(dir, 'register.mjs');
  await writeFile(
    register,
    `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    appendFileSync(${JSON.stringify(log)}, Module._resolveFilename(request, parent, isMain) + '\\n');
  } catch {}
  return load.apply(this, arguments);
};
`,
  );
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, ...(argv ?? ['--input-type=module', '-e', body])], {
    cwd: join(import.meta.dirname, '..'),
    // Nothing of this process's environment (AGENTOS_REGISTRY_CACHE would point the CLI at a warm shared cache).
    env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') },
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const files = existsSync(log) ? (await readFile(log, 'utf8')).split('\n') : [];
  expect(
    files.some((url) => url.includes('/core/dist/')),
    'the hooks saw core',
  ).toBe(true);
  return names.filter((name) => files.some((file) => file.includes(`/node_modules/${name}/`) || file.includes(`/packages/${name}/dist/`)));
}

describe('libraries are loaded on first use', () => {
  it('importing core and the umbrella loads none of them', async () => {
    expect(await loadedAfter("await import('@agentos-registry/core'); await import('agentos-registry');")).toEqual([]);
  });

  it('the check sees a library once it is used: an HTTP request loads undici, an archive tar', async () => {
    const used = await loadedAfter(`const core = await import('@agentos-registry/core');
const http = core.createHttpClient({ registry: 'x' });
await http.request('http://127.0.0.1:9/').catch(() => undefined);
await http.close();
await core.extractTarball(new Uint8Array(1024), ${JSON.stringify(join(tmpdir(), `lazy-${process.pid}`))}).catch(() => undefined);`);
    expect(used).toEqual(['undici', 'tar']);
  });

  it('a warm list of a local registry loads none of them; a cold one needs only the schema (zod)', async () => {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    const open = `const { createRegistry } = await import('agentos-registry');
const registry = await createRegistry({ registries: { local: { type: 'file', location: ${JSON.stringify(templateRegistry)} } }, defaultRegistries: { tool: 'local' }, cacheSettings: { directory: ${JSON.stringify(join(dir, 'cache'))} } }, { env: {} });
const rows = await registry.list();
if (rows.length === 0) throw new Error('nothing listed');
await registry.close();`;
    expect(await loadedAfter(open)).toEqual(['zod']);
    expect(await loadedAfter(open)).toEqual([]);
  });

  it('the CLI listing a warm file registry loads the file source only, none of the others', async () => {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    const config = join(dir, 'agentos-registry.config.json');
    await writeFile(
      config,
      JSON.stringify({
        registries: { local: { type: 'file', location: templateRegistry } },
        defaultRegistries: { tool: 'local' },
        cacheSettings: { directory: join(dir, 'cache') },
      }),
    );
    const sources = ['source-file', 'source-git', 'source-github', 'source-url', 'source-npm', ...LIBRARIES];
    const cli = join(import.meta.dirname, '..', 'bin', 'agentos-registry.mjs');
    expect(await loadedAfter('', sources, [cli, 'list', '--json', '--config', config])).toEqual(['source-file', 'zod']);
    expect(await loadedAfter('', sources, [cli, 'list', '--json', '--config', config])).toEqual(['source-file']);
  });
});
