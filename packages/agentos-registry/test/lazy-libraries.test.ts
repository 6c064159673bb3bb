/**
 * Start-up (issue 17): core loads undici, tar, yaml, semver and zod on first use, and source-git loads simple-git at
 * its first git command, so a process that imports them and lists a warm local registry loads none of those. Checked
 * in fresh processes (the test runner itself has loaded everything): a resolve hook logs every `import`, and the
 * CommonJS module cache holds every `require`.
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
 * Runs `body` as an ES module in a fresh node and answers which of LIBRARIES it loaded: those loaded by `import`
 * (seen by a resolve hook that logs every URL) and by `require` (in the CommonJS module cache).
 */
async function loadedAfter(body: string): Promise<string[]> {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const log = join(dir, 'resolved.txt');
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');\n  return result;\n}\n`,
  );
  const register = join(dir, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const script = `${body}
const { createRequire } = await import('node:module');
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const required = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as string[];
  const imported = existsSync(log) ? (await readFile(log, 'utf8')).split('\n') : [];
  const files = [...required, ...imported];
  expect(
    imported.some((url) => url.includes('/core/dist/')),
    'the resolve hook saw core',
  ).toBe(true);
  return LIBRARIES.filter((name) => files.some((file) => file.includes(`/node_modules/${name}/`)));
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
});
