#!/usr/bin/env node
/**
 * Every entry of the real AgentOS extensions registry (../shared/fixtures/agentos-extensions), loaded into the real
 * AgentOS `ExtensionManager` the way a host would: a `file` registry over a copy of the folder, `toExtensionManifest()`
 * for one entry at a time, and `manager.loadPackEntry()`. The host is a fresh npm project with `@framers/agentos`
 * installed from the npm registry, so this needs the public npm registry and is not part of CI.
 *
 *   node scripts/run.mjs turbo build --filter=agentos-registry...
 *   node examples/real-world/load-real-registry.mjs [--by-hand | --drop-in] [--host <dir>] [--work <dir>] [--only <id-substring>]
 *
 * Prints one line per entry and `loaded N of M`. With `--by-hand` it also does what a user without this library
 * would do (`npm install --legacy-peer-deps --ignore-scripts` of every package, `import()`, `createExtensionPack`,
 * the same ExtensionManager) and prints that count beside ours, with the entries where the two disagree. With
 * `--drop-in` it loads every entry with the drop-in `MultiRegistryLoader` (agentos-registry/extensions) into one
 * ExtensionManager instead, and counts what AgentOS's own `MultiRegistryLoader` loads with the same config.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = process.env.AGENTOS_FIXTURES_DIR ?? join(root, '..', 'shared', 'fixtures', 'agentos-extensions');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const AGENTOS_VERSION = value('--agentos') ?? '0.9.164';
const only = value('--only');
const PER_ENTRY_MS = 120_000;

const run = (cwd, ...argv) => promisify(execFile)('npm', argv, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
const npm = (cwd, ...argv) => execFileSync('npm', argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** A fresh host application with the real AgentOS installed, as a user's project would have it. */
function makeHost(dir) {
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, 'node_modules', '@framers', 'agentos', 'package.json'))) return dir;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'real-host', private: true, type: 'module' }, null, 2)}\n`);
  console.error(`installing @framers/agentos@${AGENTOS_VERSION} into ${dir} …`);
  npm(dir, 'install', `@framers/agentos@${AGENTOS_VERSION}`, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error');
  return dir;
}

/** By hand, one package: `--child <project> <package> <id>` prints `{"child": {ok, detail}}` and exits. */
if (args[0] === '--child') {
  const [, dir, name, id] = args;
  let result;
  try {
    writeFileSync(join(dir, '.import.mjs'), 'export const load = (specifier) => import(specifier);\n');
    const { load } = await import(pathToFileURL(join(dir, '.import.mjs')).href);
    const { ExtensionManager: Manager } = await load('@framers/agentos');
    const mod = await load(name);
    const factory = mod.createExtensionPack ?? mod.default?.createExtensionPack ?? mod.default;
    const context = { options: {}, getSecret: (secret) => process.env[secret], logger: console };
    const pack = typeof factory === 'function' ? await factory(context) : factory;
    const manager = new Manager({});
    const outcome = await manager.loadPackEntry({ factory: () => pack, identifier: id });
    result = outcome.loaded
      ? { ok: true, detail: `${manager.listLoadedPacks().length} pack(s)` }
      : { ok: false, detail: String(outcome.error?.message ?? outcome.reason) };
  } catch (error) {
    result = { ok: false, detail: `${error?.code ? `${error.code} ` : ''}${error?.message ?? String(error)}`.slice(0, 400) };
  }
  process.stdout.write(`\n${JSON.stringify({ child: result })}\n`);
  process.exit(0);
}

// --work <dir> reuses an earlier run's folder (its by-hand installs are kept).
const work = value('--work') ?? mkdtempSync(join(tmpdir(), 'real-registry-'));
mkdirSync(work, { recursive: true });
const hostDir = makeHost(value('--host') ?? join(work, 'host'));
const registryDir = join(work, 'agentos-extensions');
cpSync(fixture, registryDir, { recursive: true, force: true });

const index = JSON.parse(readFileSync(join(registryDir, 'registry.json'), 'utf8'));
const entries = Object.values(index.extensions ?? {})
  .flat()
  .filter((e) => !only || e.id.includes(only));

// The host's own AgentOS, imported from the host folder, not from this repository.
const hostImport = join(hostDir, '.import.mjs');
writeFileSync(hostImport, 'export const load = (specifier) => import(specifier);\n');
const { load: importFromHost } = await import(pathToFileURL(hostImport).href);
const { ExtensionManager } = await importFromHost('@framers/agentos');
const { createRegistry, toExtensionManifest } = await import(pathToFileURL(join(root, 'packages', 'agentos-registry', 'dist', 'index.js')).href);

const withDeadline = (promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${PER_ENTRY_MS / 1000} s`)), PER_ENTRY_MS).unref()),
  ]);

const firstLine = (error) => {
  const text = `${error?.code ? `${error.code} ` : ''}${error?.message ?? String(error)}`;
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
};

async function intoManager(manager, entry) {
  const outcome = await manager.loadPackEntry(entry);
  if (outcome.loaded) return outcome;
  throw outcome.error ?? new Error(`ExtensionManager skipped it: ${outcome.reason}`);
}

/** Ours: registry → load() → toExtensionManifest() → the real ExtensionManager. */
async function ours() {
  const warnings = [];
  const registry = await createRegistry(
    { registries: { agentos: { type: 'file', location: registryDir } }, cacheSettings: { directory: join(work, 'cache') } },
    { baseDir: hostDir, onWarning: (w) => warnings.push(w), dependencies: { hostDir } },
  );
  const results = new Map();
  try {
    for (const entry of entries) {
      const seen = warnings.length;
      try {
        const manifest = await withDeadline(toExtensionManifest(registry, [`agentos:${entry.id}`]), `loading ${entry.id}`);
        const manager = new ExtensionManager({});
        for (const pack of manifest.packs) await withDeadline(intoManager(manager, pack), `registering ${entry.id}`);
        const codes = warnings.slice(seen).map((w) => w.code);
        results.set(entry.id, { ok: true, detail: `${manager.listLoadedPacks().length} pack(s)${codes.length ? `; warnings ${codes.join(', ')}` : ''}` });
      } catch (error) {
        results.set(entry.id, { ok: false, detail: firstLine(error) });
      }
    }
  } finally {
    await registry.close();
  }
  return results;
}

/** By hand: what a user without this library does, one project per package (some cannot be installed at all). */
async function byHand() {
  const results = new Map();
  const wanted = entries.filter((e) => e.package);
  for (const entry of entries) if (!entry.package) results.set(entry.id, { ok: false, detail: 'names no npm package' });
  const installed = [];
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const entry = wanted[next++];
      const dir = join(work, 'by-hand', entry.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'by-hand', private: true, type: 'module' }, null, 2)}\n`);
      try {
        if (existsSync(join(dir, 'node_modules', ...entry.package.split('/'), 'package.json'))) {
          installed.push({ entry, dir });
          continue;
        }
        await run(
          dir,
          'install',
          `@framers/agentos@${AGENTOS_VERSION}`,
          `${entry.package}@${entry.version}`,
          '--legacy-peer-deps',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          '--loglevel=error',
        );
        installed.push({ entry, dir });
      } catch (error) {
        const code = /npm error code (\w+)/.exec(String(error.stderr))?.[1] ?? 'failed';
        results.set(entry.id, {
          ok: false,
          detail: `npm install: ${code} ${
            String(error.stderr)
              .split('\n')
              .find((l) => /notarget|404|ERESOLVE/.test(l)) ?? ''
          }`.trim(),
        });
      }
    }
  };
  console.error(`installing ${wanted.length} packages by hand (npm install --legacy-peer-deps --ignore-scripts) …`);
  await Promise.all([worker(), worker(), worker(), worker()]);
  // Each one in a process of its own, as a user would try it (and 100 copies of AgentOS do not fit in one heap).
  let at = 0;
  const loader = async () => {
    while (at < installed.length) {
      const { entry, dir } = installed[at++];
      try {
        const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, entry.package, entry.id], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
          timeout: PER_ENTRY_MS + 10_000,
        });
        const line = stdout
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{"child"'))
          .at(-1);
        results.set(entry.id, line ? JSON.parse(line).child : { ok: false, detail: 'the check printed nothing' });
      } catch (error) {
        const line = String(error.stdout ?? '')
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{"child"'))
          .at(-1);
        results.set(
          entry.id,
          line
            ? JSON.parse(line).child
            : {
                ok: false,
                detail: `the check crashed: ${String(error.stderr ?? error.message)
                  .split('\n')
                  .find(Boolean)}`,
              },
        );
      }
    }
  };
  await Promise.all([loader(), loader()]);
  return results;
}

/**
 * The drop-in: code written against AgentOS's MultiRegistryLoader, with its import changed to ours. One loader and
 * one real ExtensionManager for every entry; beside it, AgentOS's own loader with the same config.
 */
async function dropIn() {
  const { MultiRegistryLoader } = await import(pathToFileURL(join(root, 'packages', 'agentos-registry', 'dist', 'extensions.js')).href);
  const { MultiRegistryLoader: AgentOSLoader } = await importFromHost('@framers/agentos/extensions');
  const registryConfig = { registries: { default: { type: 'file', location: registryDir } }, cacheSettings: { directory: join(work, 'cache') } };
  const manager = new ExtensionManager({});
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const loader = new MultiRegistryLoader(manager, registryConfig, { baseDir: hostDir, dependencies: { hostDir }, logger: silent });
  const theirs = new AgentOSLoader(new ExtensionManager({}), registryConfig);
  let ok = 0;
  let theirsOk = 0;
  const { error: consoleError, warn: consoleWarn } = console;
  try {
    for (const entry of entries) {
      try {
        const pack = await withDeadline(loader.loadExtension('tool', entry.id), `drop-in loading ${entry.id}`);
        if (pack) ok += 1;
        else console.log(`drop-in null ${entry.id}`);
      } catch (error) {
        console.log(`drop-in FAIL ${entry.id}: ${firstLine(error)}`);
      }
      console.error = console.warn = () => {}; // AgentOS's loader logs every failure
      try {
        if (await theirs.loadExtension('tool', entry.id)) theirsOk += 1;
      } catch {
        // counted as not loaded
      } finally {
        console.error = consoleError;
        console.warn = consoleWarn;
      }
    }
  } finally {
    await loader.close();
  }
  const registered = manager.listLoadedPacks().length;
  console.log(
    `\ndrop-in MultiRegistryLoader: ${ok} of ${entries.length} loaded, ${registered} pack(s) in the ExtensionManager (AgentOS's MultiRegistryLoader: ${theirsOk} of ${entries.length})`,
  );
}

if (flag('--drop-in')) {
  await dropIn();
  console.log(`work folder: ${work}`);
  process.exit(0);
}

const mine = await ours();
const hand = flag('--by-hand') ? await byHand() : undefined;
for (const entry of entries) {
  const a = mine.get(entry.id);
  const b = hand?.get(entry.id);
  const mark = a.ok ? 'ok  ' : 'FAIL';
  console.log(`${mark} ${entry.id}: ${a.detail}${b && b.ok !== a.ok ? `\n     by hand: ${b.ok ? 'ok' : 'fails'} (${b.detail})` : ''}`);
}
const count = (m) => [...m.values()].filter((r) => r.ok).length;
console.log(`\nloaded ${count(mine)} of ${entries.length}${hand ? ` (by hand: ${count(hand)} of ${entries.length})` : ''}`);
if (hand) {
  const lost = entries.filter((e) => hand.get(e.id).ok && !mine.get(e.id).ok).map((e) => e.id);
  console.log(`loads by hand but not here: ${lost.length ? lost.join(', ') : 'none'}`);
}
console.log(`work folder: ${work}`);
process.exit(0);
