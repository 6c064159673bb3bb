// Helpers shared by the examples' run.mjs scripts: the scaffolding that plays "your company's servers", not the part
// a host copies. Each example's host.mjs uses only the public `agentos-registry` API and stands on its own.
import { spawn } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The example registry every run builds its servers from (never modified: runs copy it). */
export const TEMPLATE_DIR = fileURLToPath(new URL('../registry-template/', import.meta.url));

/** Prints one plain line of the story a run tells. */
export function say(line = '') {
  console.log(line);
}

/** A numbered step heading. */
export function step(text) {
  console.log(`\n== ${text}`);
}

/** Fails the run with `message` when `condition` is false. */
export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

/** A token for a local server: random per run, so no example ever carries a real-looking secret. */
export function localToken(prefix) {
  return `${prefix}${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Copies the registry template to `dest`, leaving out its README. `only: 'extensions' | 'personas'` keeps one half of
 * it (index section and folders), the way a company would split tools and personas into two repositories.
 */
export async function copyTemplate(dest, { only } = {}) {
  await cp(TEMPLATE_DIR, dest, { recursive: true, filter: (source) => !source.endsWith('README.md') });
  if (!only) return dest;
  const indexFile = join(dest, 'registry.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8'));
  if (only === 'extensions') {
    delete index.personas;
    await rm(join(dest, 'registry', 'personas'), { recursive: true, force: true });
  } else {
    index.extensions = { curated: [], community: [] };
    index.categories = { curated: ['personas'], community: [] };
    await rm(join(dest, 'registry', 'curated'), { recursive: true, force: true });
  }
  await writeFile(indexFile, `${JSON.stringify(index, null, 2)}\n`);
  return dest;
}

/**
 * The environment for a host process: this one's, minus what would make a run depend on the machine (a package
 * manager's `npm_config_*`, a cache folder or token set outside) and with loopback never sent through a proxy.
 */
export function hostEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name)) continue;
    if (['AGENTOS_REGISTRY_CACHE', 'GITHUB_TOKEN', 'GITHUB_PAT', 'GIT_TOKEN', 'CORP_GIT_TOKEN'].includes(name)) continue;
    env[name] = value;
  }
  const noProxy = [env.NO_PROXY ?? env.no_proxy, '127.0.0.1', 'localhost'].filter(Boolean).join(',');
  Object.assign(env, { NO_PROXY: noProxy, no_proxy: noProxy });
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * Runs `node <script> ...args` as a separate process, the way a real host starts, and shows its output indented.
 * Resolves with the exit code and the output; `secrets` are checked to appear in none of it.
 */
export function runHost(script, { args = [], env, cwd, label, secrets = [] } = {}) {
  say(`\n  $ ${label ?? `node ${[script.split('/').pop(), ...args].join(' ')}`}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const show = (text) => {
      for (const line of text.replace(/\n$/, '').split('\n')) console.log(`    ${line}`);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const output = `${stdout}${stderr}`;
      // Shown only after the check, so a leaked token would not be printed here either.
      const leaked = secrets.filter(Boolean).some((secret) => output.includes(secret));
      if (leaked) return reject(new Error(`check failed: a token appeared in the output of ${script}`));
      if (output) show(output);
      resolve({ code, stdout, stderr, output });
    });
  });
}

/** Runs `main` with a cleanup list that is always emptied, and sets a failing exit code on any error. */
export async function runExample(name, main) {
  const cleanups = [];
  const defer = (fn) => cleanups.push(fn);
  try {
    await main(defer);
    say(`\n${name}: all done, everything worked as the page describes.`);
  } catch (error) {
    console.error(`\n${name}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
  }
  // Everything started was closed above; exiting here keeps a forgotten socket from holding CI open.
  process.exit(process.exitCode ?? 0);
}
