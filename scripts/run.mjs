#!/usr/bin/env node
// Entry point behind the root `npm run …` scripts. It needs nothing but Node and npm: on a fresh clone it installs
// the pinned pnpm through npx, installs the workspace, builds, then runs what was asked. That keeps the README's
// Quick start at two commands with no global installs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '10.34.9';
const toolsDir = join(root, '.tools');
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  COREPACK_ENABLE_STRICT: '0',
  // turbo and publint call `pnpm` themselves, so the pinned pnpm must be on PATH, not only reachable through npx.
  PATH: [join(toolsDir, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
};
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function pnpmVersion() {
  const r = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8', shell: process.platform === 'win32' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Makes the pinned pnpm available (a private copy in .tools/ when the machine has another or none). */
function ensurePnpm() {
  if (pnpmVersion() === PNPM_VERSION) return;
  console.error(`[agentos-registry] fetching pnpm ${PNPM_VERSION} into .tools/ (first run only)…`);
  run('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', toolsDir, `pnpm@${PNPM_VERSION}`]);
}

function bootstrap() {
  ensurePnpm();
  if (existsSync(join(root, 'node_modules', '.modules.yaml')) && existsSync(bin('turbo'))) return;
  console.error('[agentos-registry] installing the workspace (first run only)…');
  run('pnpm', ['install', '--frozen-lockfile']);
}

function turbo(task, extra = []) {
  run(bin('turbo'), ['run', task, '--output-logs=errors-only', ...extra]);
}

const [command = 'demo', ...rest] = process.argv.slice(2);
bootstrap();
switch (command) {
  case 'bootstrap':
    break;
  case 'demo':
    turbo('build', ['--filter=agentos-registry...']);
    run(process.execPath, [join(root, 'examples', 'demo', 'demo.mjs'), ...rest]);
    break;
  case 'test':
    run(process.execPath, [join(root, 'scripts', 'test.mjs'), ...rest]);
    break;
  case 'pack':
    // Every public package, then one installable tarball each in dist-packs/ (README: "Install from a clone").
    turbo('build', ['--filter=./packages/*', '--filter=!@agentos-registry/test-servers']);
    run(process.execPath, [join(root, 'scripts', 'pack.mjs'), ...rest]);
    break;
  case 'bench': {
    // The benchmarks start their own servers from test-servers, so that package is built too.
    turbo('build', ['--filter=agentos-registry...', '--filter=@agentos-registry/test-servers']);
    const { readdirSync } = await import('node:fs');
    const wanted = rest.length > 0 ? rest : readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.mjs'));
    for (const file of wanted) {
      console.log(`\n# ${file}`);
      run(process.execPath, ['--expose-gc', join(root, 'bench', file)]);
    }
    break;
  }
  case 'turbo':
    turbo(rest[0] ?? 'build', rest.slice(1));
    break;
  default:
    console.error(`unknown command ${command}: use demo, test, pack, bootstrap or turbo <task>`);
    process.exit(2);
}
