/**
 * The built CLI as people run it (issue 16): a subprocess of bin/agentos-registry.mjs against temporary folders.
 * Exit codes (0 ok, 1 failure, 2 usage), per-command help, config discovery, --quiet, colour only on a terminal,
 * `cache clean` asking first, and `init` making a registry that `validate` passes and that loads.
 * Run `node scripts/run.mjs turbo build --filter=agentos-registry...` first: these tests run dist/, not src/.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, runBuiltOnTty, scratch, templateRegistry } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await scratch());
});
afterAll(() => cleanup());

/** A fresh folder under the scratch root. */
async function folder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A registryConfig serving the template registry as `name`, caching into `cacheDir`. */
function templateConfig(name: string, cacheDir: string) {
  return {
    registries: { [name]: { type: 'file', location: templateRegistry } },
    defaultRegistries: { tool: name, persona: name },
    cacheSettings: { directory: cacheDir },
  };
}

const registriesListed = (stdout: string): string[] => [...new Set((JSON.parse(stdout) as Array<{ registry: string }>).map((e) => e.registry))];

describe('exit codes', () => {
  it('0 on success, 1 on a failure, 2 on an unknown command, unknown option, missing argument or bad option value', async () => {
    const dir = await folder('exit');
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(templateConfig('t', join(dir, 'cache'))));
    expect((await runBuilt(['list'], { cwd: dir })).code).toBe(0);
    const missing = await runBuilt(['info', 'does.not.exist'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error \[E_NOT_FOUND\]/);
    for (const argv of [['frobnicate'], ['list', '--bogus'], ['info'], ['validate', '.', '--threshold', 'x'], ['list', '--quiet', '--verbose']]) {
      const result = await runBuilt(argv, { cwd: dir });
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/error/);
    }
    const json = await runBuilt(['info', '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('E_USAGE');
  });
});

describe('per-command help', () => {
  it("shows the command's own options, a short mention of the global ones, and an example", async () => {
    const dir = await folder('help');
    const list = await runBuilt(['list', '--help'], { cwd: dir });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('--registry');
    expect(list.stdout).not.toContain('--allow-scripts');
    expect(list.stdout).not.toContain('--strict-peers');
    // The global options are mentioned on one line, not each described.
    expect(list.stdout).toMatch(/^Global options: .*--config.*--quiet/m);
    expect(list.stdout).not.toContain('revalidate every registry index now');
    expect(list.stdout).toMatch(/Example:\n {2}\$ agentos-registry list/);

    const cacheLs = await runBuilt(['cache', 'ls', '--help'], { cwd: dir });
    expect(cacheLs.stdout).not.toContain('--allow-scripts');
    expect(cacheLs.stdout).toMatch(/\$ agentos-registry cache ls/);

    const load = await runBuilt(['load', '--help'], { cwd: dir });
    expect(load.stdout).toContain('--allow-scripts');
    expect(load.stdout).toContain('--strict-peers');
    expect(load.stdout).toMatch(/\$ agentos-registry load /);

    // Every subcommand has an example.
    for (const command of [
      ['search'],
      ['info'],
      ['fetch'],
      ['pack'],
      ['keygen'],
      ['sign'],
      ['validate'],
      ['init'],
      ['cache', 'clean'],
      ['cache', 'verify'],
      ['cache', 'prune'],
    ]) {
      const help = await runBuilt([...command, '--help'], { cwd: dir });
      expect(help.stdout, command.join(' ')).toMatch(/Example:\n {2}\$ agentos-registry /);
      // Every option the example uses is one the help lists (its own, or on the global line).
      const example = /Example:\n {2}\$ (.*)/.exec(help.stdout)?.[1] ?? '';
      const listed = help.stdout.slice(0, help.stdout.indexOf('Example:'));
      for (const option of example.match(/--[a-z-]+/g) ?? []) expect(listed, `${command.join(' ')}: ${option}`).toContain(option);
    }
  });
});

describe('config discovery', () => {
  it('--config, then AGENTOS_REGISTRY_CONFIG, then agentos-registry.config.* here or above, then package.json#agentosRegistry, then the user config', async () => {
    const top = await folder('discovery');
    const nested = join(top, 'a', 'b', 'c');
    await mkdir(nested, { recursive: true });
    const xdg = join(top, 'xdg');
    await mkdir(join(xdg, 'agentos-registry'), { recursive: true });
    const env = { XDG_CONFIG_HOME: xdg };
    const list = async (extra: string[] = [], moreEnv: Record<string, string> = {}) => {
      const result = await runBuilt(['list', '--json', ...extra], { cwd: nested, env: { ...env, ...moreEnv } });
      expect(result.code, result.stderr).toBe(0);
      return registriesListed(result.stdout);
    };

    // Nothing anywhere: E_CONFIG, saying where it looked.
    const none = await runBuilt(['list'], { cwd: nested, env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/E_CONFIG.*AGENTOS_REGISTRY_CONFIG.*package\.json.*agentos-registry\/config/);

    await writeFile(join(xdg, 'agentos-registry', 'config.json'), JSON.stringify(templateConfig('user', join(top, 'cache'))));
    expect(await list()).toEqual(['user']);

    // The nearest package.json; a farther one is not read.
    await writeFile(join(top, 'a', 'package.json'), JSON.stringify({ name: 'x', agentosRegistry: templateConfig('pkg', join(top, 'cache')) }));
    expect(await list()).toEqual(['pkg']);
    await writeFile(join(top, 'a', 'b', 'package.json'), JSON.stringify({ name: 'nearer' }));
    expect(await list()).toEqual(['user']);
    await writeFile(
      join(top, 'a', 'b', 'package.json'),
      JSON.stringify({ name: 'nearer', agentosRegistry: { registryConfig: templateConfig('pkg-wrapped', join(top, 'cache')) } }),
    );
    expect(await list()).toEqual(['pkg-wrapped']);

    // A config file in a parent folder beats package.json.
    await writeFile(join(top, 'agentos-registry.config.json'), JSON.stringify(templateConfig('parent', join(top, 'cache'))));
    expect(await list()).toEqual(['parent']);
    // .mjs before .json in the same folder.
    await writeFile(join(top, 'agentos-registry.config.mjs'), `export default ${JSON.stringify(templateConfig('parent-mjs', join(top, 'cache')))};\n`);
    expect(await list()).toEqual(['parent-mjs']);

    const envFile = join(top, 'from-env.json');
    await writeFile(envFile, JSON.stringify(templateConfig('env', join(top, 'cache'))));
    expect(await list([], { AGENTOS_REGISTRY_CONFIG: envFile })).toEqual(['env']);

    const flagFile = join(top, 'from-flag.json');
    await writeFile(flagFile, JSON.stringify(templateConfig('flag', join(top, 'cache'))));
    expect(await list(['--config', flagFile], { AGENTOS_REGISTRY_CONFIG: envFile })).toEqual(['flag']);

    const gone = await runBuilt(['list'], { cwd: nested, env: { ...env, AGENTOS_REGISTRY_CONFIG: join(top, 'nope.json') } });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('AGENTOS_REGISTRY_CONFIG');
  });

  it('a JSON config that does not parse is reported as file:line:column, without its bytes', async () => {
    const dir = await folder('bad-json');
    const file = join(dir, 'agentos-registry.config.json');
    await writeFile(file, '{\n  "registries": {\n    "x": { "type": "file" "location": "secret-ish" }\n  }\n}\n');
    const result = await runBuilt(['list'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^error \\[E_CONFIG\\] ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+: `));
    expect(result.stderr).not.toContain('secret-ish');

    const pkgDir = await folder('bad-package-json');
    await writeFile(join(pkgDir, 'package.json'), '{\n  "name": "x",\n  "agentosRegistry": {,}\n}\n');
    const pkg = await runBuilt(['list'], { cwd: pkgDir });
    expect(pkg.code).toBe(1);
    expect(pkg.stderr).toContain(`${join(pkgDir, 'package.json')}:3:`);
  });
});

describe('output: --quiet and colour', () => {
  it('--quiet prints nothing but errors; --json output is still printed', async () => {
    const dir = await folder('quiet');
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(templateConfig('t', join(dir, 'cache'))));
    const plain = await runBuilt(['list'], { cwd: dir });
    expect(plain.stdout).toContain('com.example.echo');
    const quiet = await runBuilt(['list', '--quiet'], { cwd: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
    const json = await runBuilt(['list', '-q', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toHaveLength(3);
    const failed = await runBuilt(['info', 'nope', '--quiet'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error \[E_NOT_FOUND\]/);
    // validate: nothing for a valid registry, its problems (they are the errors) for an invalid one.
    expect(await runBuilt(['validate', templateRegistry, '--quiet'], { cwd: dir })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    await mkdir(join(dir, 'broken'));
    await writeFile(
      join(dir, 'broken', 'registry.json'),
      JSON.stringify({ version: '1.0.0', extensions: { curated: [{ id: 'x', name: 'X', version: '1.0.0', path: 'curated/x' }] } }),
    );
    const broken = await runBuilt(['validate', 'broken', '--quiet'], { cwd: dir });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('[E_ENTRY_MISSING]');
  });

  it('colours the error label on a terminal, not when piped, and not with NO_COLOR', async () => {
    const dir = await folder('colour');
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(templateConfig('t', join(dir, 'cache'))));
    const red = '\u001b[31merror\u001b[39m [E_NOT_FOUND]';
    const tty = await runBuiltOnTty(['info', 'nope'], { cwd: dir });
    expect(tty.code).toBe(1);
    expect(tty.output).toContain(red);
    const noColour = await runBuiltOnTty(['info', 'nope'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(noColour.code).toBe(1);
    expect(noColour.output).toContain('error [E_NOT_FOUND]');
    expect(noColour.output).not.toContain('\u001b[');
    const piped = await runBuilt(['info', 'nope'], { cwd: dir });
    expect(piped.stderr).toMatch(/^error \[E_NOT_FOUND\]/);
    expect(piped.stderr).not.toContain('\u001b');
  });
});

describe('cache clean without a registry', () => {
  it('refuses when not on a terminal (exit 2, suggesting --all); --all (or --yes) removes; on a terminal it asks', async () => {
    const dir = await folder('clean');
    const cache = join(dir, 'cache');
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(templateConfig('t', cache)));
    expect((await runBuilt(['list'], { cwd: dir })).code).toBe(0);
    const filled = await readdir(cache);
    expect(filled.length).toBeGreaterThan(0);

    const refused = await runBuilt(['cache', 'clean'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('only with --all. Run "agentos-registry cache clean --all", or name a registry.');
    // --all with a registry is a usage mistake, and removes nothing.
    expect((await runBuilt(['cache', 'clean', 't', '--all'], { cwd: dir })).code).toBe(2);
    expect(await readdir(cache)).toEqual(filled);
    const help = await runBuilt(['cache', 'clean', '--help'], { cwd: dir });
    expect(help.stdout).toMatch(/-a, --all\s+remove the whole cache/);
    expect(await readdir(cache)).toEqual(filled);

    const declined = await runBuiltOnTty(['cache', 'clean'], { cwd: dir, input: 'n\n' });
    expect(declined.output).toContain('Remove the whole cache');
    expect(declined.code).toBe(1);
    expect(await readdir(cache)).toEqual(filled);

    const accepted = await runBuiltOnTty(['cache', 'clean'], { cwd: dir, input: 'y\n' });
    expect(accepted.code, accepted.output).toBe(0);
    expect(accepted.output).toContain('removed the cache');
    expect(await readdir(cache).catch(() => [])).toEqual([]);

    expect((await runBuilt(['list'], { cwd: dir })).code).toBe(0);
    const yes = await runBuilt(['cache', 'clean', '--yes'], { cwd: dir });
    expect(yes.code).toBe(0);
    expect(await readdir(cache).catch(() => [])).toEqual([]);

    expect((await runBuilt(['list'], { cwd: dir })).code).toBe(0);
    expect((await readdir(cache)).length).toBeGreaterThan(0);
    const all = await runBuilt(['cache', 'clean', '--all'], { cwd: dir });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('removed the cache');
    expect(await readdir(cache).catch(() => [])).toEqual([]);
  });
});

describe('init', () => {
  it('writes a registry in the page layout that validate passes, whose tool runs and persona loads', async () => {
    const dir = await folder('init');
    const made = await runBuilt(['init', 'my-registry'], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    const reg = join(dir, 'my-registry');
    const index = JSON.parse(await readFile(join(reg, 'registry.json'), 'utf8'));
    expect(index.extensions.curated[0]).toMatchObject({ id: 'com.example.greet', path: 'curated/greet' });
    expect(JSON.parse(await readFile(join(reg, 'registry', 'curated', 'greet', 'manifest.json'), 'utf8')).extensions[0].kind).toBe('tool');
    const readme = await readFile(join(reg, 'README.md'), 'utf8');
    for (const type of ['file', 'git', 'github', 'url', 'npm']) expect(readme).toContain(`type: '${type}'`);
    expect(readme).toContain('agentos-registry pack');

    const valid = await runBuilt(['validate', 'my-registry', '--json'], { cwd: dir });
    expect(valid.code, valid.stdout).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ valid: true, errors: 0, warnings: 0, entries: 2 });

    // The config init wrote beside it serves the folder; the tool's code runs in a real host process.
    const env = { AGENTOS_REGISTRY_CACHE: join(dir, 'cache') };
    const loaded = await runBuilt(['load', 'com.example.greet', '--json'], { cwd: reg, env });
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(JSON.parse(loaded.stdout)).toEqual({ name: 'com.example.greet', descriptors: [{ id: 'greet', kind: 'tool' }] });
    const mod = await import(join(reg, 'registry', 'curated', 'greet', 'src', 'index.js'));
    const tool = mod.createExtensionPack({}).descriptors[0].payload;
    expect(await tool.execute({ name: 'Ada' })).toEqual({ success: true, output: { text: 'Hello, Ada!' } });
    const persona = await runBuilt(['load', 'com.example.greeter', '--json'], { cwd: reg, env });
    expect(persona.code, persona.stderr).toBe(0);
    expect(JSON.parse(persona.stdout).persona).toMatchObject({ id: 'com.example.greeter', baseSystemPrompt: expect.any(String) });
  });

  it('refuses a folder that is not empty unless --force', async () => {
    const dir = await folder('init-full');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const refused = await runBuilt(['init'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    await expect(readFile(join(dir, 'registry.json'))).rejects.toThrow();
    const forced = await runBuilt(['init', '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect((await runBuilt(['validate'], { cwd: dir })).code).toBe(0);
  });
});
