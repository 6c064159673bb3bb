/**
 * Installs the packages as a user would, with no network: `scripts/pack.mjs` (what `npm run pack` runs) packs every
 * public package, they are published with the real `npm publish` to a local Verdaccio that has no uplinks, the
 * third-party packages they need are written into that Verdaccio's storage from the workspace's own node_modules
 * (see offline-packages.ts), and then plain npm installs into fresh apps: `agentos-registry` by name, core +
 * source-file by name, and the README's own `npm install $R/….tgz` lines. Every install must be free of npm warnings
 * (no EBADENGINE on this Node, no peer warnings) and leave a tree `npm ls` accepts; the README's first snippet then
 * runs there as written (only its two folder paths swapped for temp ones) against a small file registry, and its
 * TypeScript snippet type-checks against the installed package and runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Cleanup, makeTempDir, startVerdaccio, VERDACCIO_PUBLISHER, type VerdaccioServer } from '@agentos-registry/test-servers';
import { extract } from 'tar';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runtimeClosure, writeVerdaccioStorage } from './offline-packages.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

interface Packed {
  name: string;
  version: string;
  file: string;
}
const { packAll, publicPackages } = (await import(pathToFileURL(join(ROOT, 'scripts', 'pack.mjs')).href)) as {
  packAll(out: string): Promise<Packed[]>;
  publicPackages(): Array<{ name: string; version: string; dir: string }>;
};

const cleanup = new Cleanup();
let work: string;
let packsDir: string;
let registry: VerdaccioServer;
let registryDir: string;
let thirdParty = 0;

/** Runs a command to its end without blocking the loop (Verdaccio answers npm from this very process). */
function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: string) => {
      output += chunk;
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 90_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * npm as a user's fresh machine has it, pointed at the local Verdaccio: its own home, cache and config files, none of
 * the npm_* variables pnpm exports to scripts, no proxy, and the Node running this test first on PATH.
 */
function userNpmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !/_proxy$/i.test(name)) env[name] = value;
  }
  const home = join(work, 'home');
  return {
    ...env,
    PATH: [dirname(process.execPath), env.PATH].join(delimiter),
    HOME: home,
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_globalconfig: join(home, 'globalrc'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_registry: registry.url,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

/** A fresh app folder with a package.json, as `npm init` would leave it (ESM, like the README's snippets). */
async function freshApp(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  return dir;
}

/** Lines of npm's output that are warnings or errors of any kind (EBADENGINE, ERESOLVE, peer, deprecation…). */
function npmProblems(output: string): string[] {
  return output.split('\n').filter((line) => /\bnpm (warn|WARN|ERR!|error)\b|EBADENGINE|ERESOLVE|peer dep/i.test(line));
}

async function npmInstall(app: string, args: string[]): Promise<string> {
  const result = await run('npm', ['install', ...args], { cwd: app, env: userNpmEnv() });
  expect(result.code, result.output).toBe(0);
  expect(npmProblems(result.output), result.output).toEqual([]);
  // `npm ls` exits non-zero for a missing, invalid (peer outside its range) or extraneous package anywhere in the tree.
  const ls = await run('npm', ['ls', '--all'], { cwd: app, env: userNpmEnv() });
  expect(ls.code, ls.output).toBe(0);
  expect(ls.output).not.toMatch(/UNMET|invalid|missing|extraneous/i);
  console.log(`npm install ${args.join(' ')}: ${result.output.trim().split('\n').at(-1)}`);
  return result.output;
}

/** The fenced block of `lang` that comes first after `heading` in the README, then the next ones. */
function readmeBlocks(heading: string, lang: string): string[] {
  const start = README.indexOf(heading);
  expect(start, `README has no "${heading}"`).toBeGreaterThanOrEqual(0);
  return [...README.slice(start).matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
}

/** `text` with `from` replaced exactly once (so a change to the README's snippet fails here, loudly). */
function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `expected exactly one ${from} in:\n${text}`).toBe(1);
  return text.replace(from, to);
}

/** The README's first snippet, with its two absolute folders swapped for temp ones and a line printing what it got. */
function firstSnippet(importFrom: string, cacheDir: string): string {
  let code = readmeBlocks("## The page's config, as written", 'js')[0]!;
  code = replaceOnce(code, "'/opt/agentos/extensions'", JSON.stringify(registryDir));
  code = replaceOnce(code, "'/var/cache/agentos'", JSON.stringify(cacheDir));
  if (importFrom !== 'agentos-registry') code = replaceOnce(code, "from 'agentos-registry'", `from '${importFrom}'`);
  return `${code}\nconsole.log(JSON.stringify({ rows: rows.map((r) => r.id), tool: tool.pack.name, tools: tool.pack.descriptors.map((d) => d.id), persona: persona.persona.name }));\n`;
}

const SNIPPET_RESULT = { rows: ['com.yourorg.your-tool', 'com.yourorg.helper'], tool: 'com.yourorg.your-tool', tools: ['your-tool'], persona: 'Helper' };

async function runFirstSnippet(app: string, importFrom: string) {
  await writeFile(join(app, 'snippet.mjs'), firstSnippet(importFrom, join(app, 'var-cache-agentos')));
  const result = await run(process.execPath, ['snippet.mjs'], { cwd: app, timeout: 30_000 });
  expect(result.code, result.output).toBe(0);
  expect(JSON.parse(result.output.trim().split('\n').at(-1)!)).toEqual(SNIPPET_RESULT);
}

/** The small file registry the snippets load from: the tool and the persona the README names. */
async function writeFileRegistry(dir: string): Promise<void> {
  const files: Record<string, unknown> = {
    'registry.json': {
      version: '1.0.0',
      extensions: { curated: [{ id: 'com.yourorg.your-tool', name: 'Your Tool', version: '1.2.0', path: 'curated/your-tool', tools: ['your-tool'] }] },
      personas: { curated: [{ id: 'com.yourorg.helper', name: 'Helper', version: '1.0.0', path: 'personas/helper' }] },
    },
    'registry/curated/your-tool/manifest.json': {
      id: 'com.yourorg.your-tool',
      name: 'Your Tool',
      version: '1.2.0',
      extensions: [{ kind: 'tool', id: 'your-tool' }],
    },
    'registry/curated/your-tool/package.json': { name: '@yourorg/your-tool', version: '1.2.0', type: 'module', main: './index.js' },
    'registry/curated/your-tool/index.js': [
      'export function createExtensionPack() {',
      "  const tool = { id: 'com.yourorg.your-tool.your-tool', name: 'your-tool', execute: async () => ({ success: true, output: 'ok' }) };",
      "  return { name: 'com.yourorg.your-tool', version: '1.2.0', descriptors: [{ id: 'your-tool', kind: 'tool', payload: tool }] };",
      '}',
      '',
    ].join('\n'),
    'registry/personas/helper/manifest.json': { id: 'com.yourorg.helper', name: 'Helper', version: '1.0.0', kind: 'persona' },
    'registry/personas/helper/persona.json': { id: 'com.yourorg.helper', name: 'Helper', version: '1.0.0', baseSystemPrompt: 'You help.' },
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

beforeAll(async () => {
  const started = Date.now();
  const temp = await cleanup.add(makeTempDir('agentos-install-check-'));
  work = temp.path;
  packsDir = join(work, 'dist-packs');
  registryDir = join(work, 'opt-agentos-extensions');
  await mkdir(join(work, 'home'), { recursive: true });
  await writeFile(join(work, 'home', '.npmrc'), '');
  await writeFile(join(work, 'home', 'globalrc'), '');
  await writeFileRegistry(registryDir);

  const ours = publicPackages();
  const packed = await packAll(packsDir);
  const storage = join(work, 'verdaccio-storage');
  const deps = runtimeClosure(
    ours.map((p) => p.dir),
    (name) => ours.some((p) => p.name === name),
  );
  thirdParty = deps.length;
  await writeVerdaccioStorage(storage, deps);
  registry = await cleanup.add(startVerdaccio({ storage }));
  const token = await registry.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  await Promise.all(
    packed.map(async ({ file }) => {
      const dir = join(
        work,
        'unpacked',
        file
          .split('/')
          .pop()!
          .replace(/\.tgz$/, ''),
      );
      await mkdir(dir, { recursive: true });
      await extract({ file, cwd: dir, strip: 1 });
      await registry.publish(dir, { token });
    }),
  );
  console.log(
    `install-check: node ${process.version}, ${packed.length} packages packed and published, ${thirdParty} third-party packages from the workspace, ready in ${Date.now() - started} ms`,
  );
}, 120_000);
afterAll(() => cleanup.run());

describe('installing the packed packages with plain npm, offline', () => {
  test('npm run pack writes one tarball per public package, with no workspace: range left in it', async () => {
    const names = (await readdir(packsDir)).sort();
    expect(names).toEqual(
      publicPackages()
        .map((p) => `${p.name.replace(/^@/, '').replace('/', '-')}.tgz`)
        .sort(),
    );
    expect(names).toContain('agentos-registry.tgz');
    const umbrella = (await (await fetch(`${registry.url}agentos-registry`)).json()) as {
      versions: Record<string, { dependencies: Record<string, string> }>;
    };
    const [manifest] = Object.values(umbrella.versions);
    expect(manifest!.dependencies['@agentos-registry/core']).toMatch(/^\^\d+\.\d+\.\d+$/);
    const adapter = (await (await fetch(`${registry.url}@agentos-registry%2fsource-file`)).json()) as {
      versions: Record<string, { peerDependencies: Record<string, string> }>;
    };
    const core = publicPackages().find((p) => p.name === '@agentos-registry/core')!;
    const peer = Object.values(adapter.versions)[0]!.peerDependencies['@agentos-registry/core']!;
    expect(peer).not.toContain('workspace:');
    // The peer range accepts the core it was built and published with.
    const semver = createRequire(join(ROOT, 'packages', 'core', 'package.json'))('semver') as { satisfies(v: string, r: string): boolean };
    expect(semver.satisfies(core.version, peer), `${peer} vs ${core.version}`).toBe(true);
  });

  test('npm install agentos-registry: no warnings, one core, and the README snippets run and type-check', async () => {
    const app = await freshApp('umbrella-app');
    await npmInstall(app, ['agentos-registry']);
    // Every adapter shares the app's one core (a peer), none has a copy of its own.
    const nested = await Promise.all(
      ['source-file', 'source-git', 'source-github', 'source-npm', 'source-url'].map((s) =>
        existsSync(join(app, 'node_modules', '@agentos-registry', s, 'node_modules', '@agentos-registry', 'core')),
      ),
    );
    expect(nested).toEqual([false, false, false, false, false]);
    await runFirstSnippet(app, 'agentos-registry');

    // The TypeScript snippet, against the installed package's own .d.ts files, then run.
    const ts = replaceOnce(readmeBlocks("## The page's config, as written", 'ts')[0]!, "'/opt/agentos/extensions'", JSON.stringify(registryDir));
    await writeFile(join(app, 'snippet.ts'), ts);
    // `pack` is really typed (not `any`): a wrong use of it must be an error, or this @ts-expect-error is one.
    await writeFile(
      join(app, 'types-check.ts'),
      [
        "import type { LoadedExtension } from 'agentos-registry';",
        'export function check(loaded: LoadedExtension): string {',
        '  // @ts-expect-error descriptors[].id is a string',
        '  loaded.pack.descriptors[0]?.id.toFixed();',
        '  return loaded.pack.name;',
        '}',
        '',
      ].join('\n'),
    );
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: false,
        // The app's own @types/node, as any TypeScript app on Node has; taken from the workspace.
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        types: ['node'],
        outDir: 'out',
        rootDir: '.',
      },
      files: ['snippet.ts', 'types-check.ts'],
    };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, timeout: 60_000 });
    expect(tsc.code, tsc.output).toBe(0);
    const ran = await run(process.execPath, ['out/snippet.js'], { cwd: app, timeout: 30_000 });
    expect(ran.code, ran.output).toBe(0);
    expect(ran.output).toContain("com.yourorg.your-tool [ 'tool:your-tool' ]");
  }, 120_000);

  test('npm install @agentos-registry/core @agentos-registry/source-file: no warnings, nothing of the other sources', async () => {
    const app = await freshApp('core-file-app');
    await npmInstall(app, ['@agentos-registry/core', '@agentos-registry/source-file']);
    for (const heavy of ['@octokit/rest', 'isomorphic-git', 'simple-git', '@npmcli/arborist', 'agentos-registry']) {
      expect(existsSync(join(app, 'node_modules', heavy)), heavy).toBe(false);
    }
    // Core finds the installed file adapter by itself.
    await runFirstSnippet(app, '@agentos-registry/core');
  }, 90_000);

  test("the README's `npm install $R/….tgz` lines install the tarballs (third-party packages from the registry)", async () => {
    const lines = readmeBlocks('## Install only what you need', 'sh')[0]!
      .split('\n')
      .filter((line) => line.startsWith('npm install $R/'));
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) {
      const app = await freshApp(`tarball-app-${i}`);
      const result = await run('sh', ['-c', line], { cwd: app, env: { ...userNpmEnv(), R: packsDir } });
      expect(result.code, result.output).toBe(0);
      expect(npmProblems(result.output), result.output).toEqual([]);
      const ls = await run('npm', ['ls', '--all'], { cwd: app, env: userNpmEnv() });
      expect(ls.code, ls.output).toBe(0);
      await runFirstSnippet(app, i === 0 ? 'agentos-registry' : '@agentos-registry/core');
    }
  }, 120_000);
});
