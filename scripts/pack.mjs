#!/usr/bin/env node
// Writes one installable tarball per public package (packages/* without `private`) into dist-packs/ (or --out
// <dir>): `agentos-registry.tgz`, `agentos-registry-core.tgz`, `agentos-registry-source-file.tgz`, …
//
// `pnpm pack` is what makes them installable: it turns every `workspace:` range into a real one (`workspace:^` →
// `^0.1.0`, `workspace:>=0.1.0 <1` → `>=0.1.0 <1`), which `npm pack` would leave as is. The names carry no version so
// the README's `npm install` lines stay right from one release to the next. Needs the packages built: `npm run pack`
// builds them first (scripts/run.mjs).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Public workspace packages: `{ name, version, dir }` for each packages/* folder whose package.json is not private. */
export function publicPackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .map((name) => ({ dir: join(dir, name), json: JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')) }))
    .filter(({ json }) => json.private !== true)
    .map(({ dir, json }) => ({ name: json.name, version: json.version, dir, main: json.main }));
}

/** `@agentos-registry/core` → `agentos-registry-core.tgz`, `agentos-registry` → `agentos-registry.tgz`. */
export function tarballName(packageName) {
  return `${packageName.replace(/^@/, '').replace(/\//g, '-')}.tgz`;
}

function pnpmCommand() {
  const local = join(root, '.tools', 'node_modules', '.bin', process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm');
  return existsSync(local) ? local : 'pnpm';
}

function run(cmd, args, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${out}`))));
  });
}

/** Packs every public package into `outDir`; resolves to `[{ name, version, file }]`. */
export async function packAll(outDir) {
  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'agentos-registry-pack-'));
  try {
    const packages = publicPackages();
    for (const pkg of packages) {
      if (pkg.main && !existsSync(join(pkg.dir, pkg.main))) {
        throw new Error(`${pkg.name} is not built (${pkg.main} is missing): run \`npm run pack\`, which builds first`);
      }
    }
    return await Promise.all(
      packages.map(async (pkg) => {
        const destination = join(scratch, tarballName(pkg.name).replace(/\.tgz$/, ''));
        mkdirSync(destination);
        await run(pnpmCommand(), ['pack', '--pack-destination', destination], pkg.dir);
        const [written] = readdirSync(destination).filter((f) => f.endsWith('.tgz'));
        if (!written) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}`);
        const file = join(out, tarballName(pkg.name));
        copyFileSync(join(destination, written), file); // not rename: the temp folder may be on another device
        return { name: pkg.name, version: pkg.version, file };
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outDir = at > 0 && process.argv[at + 1] ? process.argv[at + 1] : join(root, 'dist-packs');
  const packed = await packAll(outDir);
  for (const { name, version, file } of packed) console.log(`${name}@${version}  ${file}`);
}
