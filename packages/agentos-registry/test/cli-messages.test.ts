/**
 * The built CLI's messages that issue 16 found wrong, and the lone-registry rule, run as a subprocess of
 * bin/agentos-registry.mjs. Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
});
afterAll(() => cleanup());

/** A folder holding `agentos-registry.config.json` with `config` (cache under the folder unless the config says). */
async function withConfig(name: string, config: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify({ cacheSettings: { directory: join(dir, 'cache') }, ...config }));
  return dir;
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a single registry serves every kind', () => {
  it('with one registry and no defaultRegistries, fetch and load by id alone work', async () => {
    const dir = await withConfig('lone', { registries: { only: { type: 'file', location: templateRegistry } } });
    const fetched = await runBuilt(['fetch', 'com.example.echo', '--json'], { cwd: dir });
    expect(fetched.stderr).toBe('');
    expect(fetched.code).toBe(0);
    expect(JSON.parse(fetched.stdout)).toMatchObject({ registry: 'only', id: 'com.example.echo' });
    const persona = await runBuilt(['load', 'com.example.helpful-assistant', '--json'], { cwd: dir });
    expect(persona.code, persona.stderr).toBe(0);
    expect(JSON.parse(persona.stdout).persona.name).toBe('Helpful Assistant');
  });
});

describe('messages', () => {
  it('type "fiel" says did you mean file, and does not suggest installing @agentos-registry/source-fiel', async () => {
    const dir = await withConfig('fiel', { registries: { mine: { type: 'fiel', location: templateRegistry } } });
    const result = await runBuilt(['list'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has type "fiel", which is not a source type. Did you mean "file"?');
    expect(result.stderr).not.toContain('source-fiel');
    // A type close to nothing known is still a package to install.
    const far = await withConfig('far', { registries: { mine: { type: 'oci', location: templateRegistry } } });
    const install = await runBuilt(['list'], { cwd: far });
    expect(install.code).toBe(1);
    expect(install.stderr).toContain('[E_SOURCE_NOT_INSTALLED]');
    expect(install.stderr).toContain('npm install @agentos-registry/source-oci');
  });

  it('--kind toool says did you mean tool, not "add defaultRegistries.toool"', async () => {
    const dir = await withConfig('toool', {
      registries: { a: { type: 'file', location: templateRegistry }, b: { type: 'file', location: templateRegistry } },
      defaultRegistries: { tool: 'a', persona: 'b' },
    });
    for (const argv of [
      ['list', '--kind', 'toool'],
      ['fetch', 'com.example.echo', '--kind', 'toool'],
    ]) {
      const result = await runBuilt(argv, { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('error [E_NO_REGISTRY_FOR_KIND] No registry is configured for kind "toool". Did you mean "tool"?\n');
    }
  });

  it('--kind toool with one registry configured lists nothing, and says so with a did-you-mean (list, search)', async () => {
    const dir = await withConfig('toool-lone', { registries: { only: { type: 'file', location: templateRegistry } } });
    for (const argv of [
      ['list', '--kind', 'toool'],
      ['search', 'echo', '--kind', 'toool'],
    ]) {
      const result = await runBuilt(argv, { cwd: dir });
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('warning: No entry provides kind "toool". Did you mean "tool"? Kinds the entries provide: persona, tool.\n');
    }
    // --json keeps stdout a JSON document; the hint is on stderr.
    const json = await runBuilt(['list', '--kind', 'toool', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toEqual([]);
    expect(json.stderr).toContain('Did you mean "tool"?');
    // A kind no entry provides and nothing is close to: which kinds there are.
    const far = await runBuilt(['list', '--kind', 'messaging-channel'], { cwd: dir });
    expect(far.stderr).toBe('warning: No entry provides kind "messaging-channel". Kinds the entries provide: persona, tool.\n');
    // A kind that has entries: no hint.
    const tools = await runBuilt(['list', '--kind', 'tool'], { cwd: dir });
    expect(tools.stderr).toBe('');
    expect(tools.stdout).toContain('com.example.echo');
  });

  it('an unreachable URL registry with nothing cached says so once, without promising cached copies', async () => {
    const port = await closedPort();
    const dir = await withConfig('unreachable', { registries: { web: { type: 'url', location: `http://127.0.0.1:${port}/registry` } } });
    const result = await runBuilt(['list'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error \[E_UNREACHABLE\]/);
    expect(result.stderr).toContain('Nothing of it is cached yet');
    expect(result.stderr).not.toMatch(/stay usable/i);
    expect(result.stderr.match(/check the network/gi)).toHaveLength(1);
  });

  it("load's --kind help says what happens without it, and a persona id without --kind loads the persona", async () => {
    const dir = await withConfig('help', { registries: { t: { type: 'file', location: templateRegistry } }, defaultRegistries: { tool: 't', persona: 't' } });
    const help = await runBuilt(['load', '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    const kindHelp = help.stdout.slice(help.stdout.indexOf('--kind'), help.stdout.indexOf('--allow-scripts')).replace(/\s+/g, ' ');
    expect(kindHelp).not.toContain('default: "tool"');
    expect(kindHelp).toContain('a persona id loads that persona');
    const persona = await runBuilt(['load', 'com.example.helpful-assistant', '--json'], { cwd: dir });
    expect(persona.code, persona.stderr).toBe(0);
    expect(JSON.parse(persona.stdout).persona.id).toBe('com.example.helpful-assistant');
  });
});
