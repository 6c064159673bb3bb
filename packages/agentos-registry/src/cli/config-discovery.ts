/**
 * Which config the CLI uses, in this order (the first that exists wins; documented in the README):
 * 1. `--config <file>`;
 * 2. the environment variable `AGENTOS_REGISTRY_CONFIG` (a file path);
 * 3. `agentos-registry.config.{mjs,js,json}` in the working directory, then in each parent up to the root;
 * 4. the `agentosRegistry` field of the nearest `package.json` (walking up; only the nearest one is read);
 * 5. `$XDG_CONFIG_HOME/agentos-registry/config.{mjs,js,json}` (`XDG_CONFIG_HOME` defaults to `~/.config`).
 * A file found by 3, 4 or 5 (not named by 1 or 2) must be owned by this user or root and not writable by every user, and so
 * must a symlink it was found through and the folders that hold them (a folder every user may write must be sticky).
 */
import { existsSync, lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type LoadedConfigFile, loadConfigFile, type RegistryConfig, RegistryError } from '@agentos-registry/core';
import type { CliIo } from './io.js';

/** Config file names looked up in each folder, in this order. */
export const DEFAULT_CONFIG_FILES = ['agentos-registry.config.mjs', 'agentos-registry.config.js', 'agentos-registry.config.json'] as const;
/** Names inside the user config folder. */
export const USER_CONFIG_FILES = ['config.mjs', 'config.js', 'config.json'] as const;

export type ConfigOrigin = '--config' | 'AGENTOS_REGISTRY_CONFIG' | 'folder' | 'package.json' | 'user';

export interface FoundConfig {
  file: string;
  origin: ConfigOrigin;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function firstIn(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const file = join(dir, name);
    if (isFile(file)) return file;
  }
  return undefined;
}

/** The user config folder: `$XDG_CONFIG_HOME/agentos-registry`, or `~/.config/agentos-registry`. */
export function userConfigDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'agentos-registry');
}

/** The config the CLI would use, or `undefined` when there is none (a named one that is missing is E_CONFIG). */
export async function findConfig(io: CliIo, explicit?: string): Promise<FoundConfig | undefined> {
  const named = explicit
    ? { value: explicit, origin: '--config' as const }
    : io.env.AGENTOS_REGISTRY_CONFIG
      ? { value: io.env.AGENTOS_REGISTRY_CONFIG, origin: 'AGENTOS_REGISTRY_CONFIG' as const }
      : undefined;
  if (named) {
    const file = resolve(io.cwd, named.value);
    if (!existsSync(file)) {
      const where = named.origin === '--config' ? 'the path given to --config' : 'the environment variable AGENTOS_REGISTRY_CONFIG';
      throw new RegistryError('E_CONFIG', `Config file ${file} does not exist: check ${where}.`, { details: { file } });
    }
    return { file, origin: named.origin };
  }
  let packageJson: string | undefined;
  for (let dir = resolve(io.cwd); ; dir = dirname(dir)) {
    const file = firstIn(dir, DEFAULT_CONFIG_FILES);
    if (file) {
      assertTrusted(file, 'folder');
      return { file, origin: 'folder' };
    }
    if (packageJson === undefined && isFile(join(dir, 'package.json'))) packageJson = join(dir, 'package.json');
    if (dirname(dir) === dir) break;
  }
  if (packageJson !== undefined) {
    const pkg = await readPackageJson(packageJson);
    if (pkg && typeof pkg === 'object' && 'agentosRegistry' in pkg) {
      assertTrusted(packageJson, 'folder');
      return { file: packageJson, origin: 'package.json' };
    }
  }
  const user = firstIn(userConfigDir(io.env), USER_CONFIG_FILES);
  if (user) assertTrusted(user, 'user');
  return user ? { file: user, origin: 'user' } : undefined;
}

/**
 * A config that was found rather than named is used only when this user (or root) owns it and not every user may
 * change it (a group-writable file is fine: with a umask of 002 every file is). A `.mjs` config is code the CLI
 * runs, and one in a shared folder above (`/tmp/agentos-registry.config.mjs`) would otherwise run for whoever works
 * below it. Git refuses a repository another user owns for the same reason
 * (`safe.directory`). Naming the file (`--config`, `AGENTOS_REGISTRY_CONFIG`) is trusting it, and skips this check.
 */
function assertTrusted(file: string, origin: 'folder' | 'user'): void {
  const uid = process.getuid?.();
  if (uid === undefined) return; // Windows: no owner ids to compare.
  const ownerProblem = (stat: Stats) => (stat.uid !== uid && stat.uid !== 0 ? `is owned by another user (uid ${stat.uid})` : undefined);
  // The file and a link it was found through: whoever owns either chooses what runs.
  const link = lstatSync(file);
  const real = link.isSymbolicLink() ? realpathSync(file) : file;
  const stat = statSync(real);
  const what = (path: string) => (path === file ? '' : ` (through the symlink, ${path})`);
  let problem =
    (link.isSymbolicLink() ? ownerProblem(link) : undefined) ??
    ownerProblem(stat) ??
    ((stat.mode & 0o002) !== 0 ? `can be changed by every user (mode ${(stat.mode & 0o777).toString(8)})${what(real)}` : undefined);
  // The folders holding them: whoever may write one can put another file in the checked one's place after the check.
  for (const dir of new Set([dirname(file), dirname(real)])) {
    if (problem !== undefined) break;
    const folder = statSync(dir);
    const owner = ownerProblem(folder);
    if (owner !== undefined) problem = `is in the folder ${dir}, which ${owner}`;
    else if ((folder.mode & 0o002) !== 0 && (folder.mode & 0o1000) === 0)
      problem = `is in the folder ${dir}, which can be changed by every user (mode ${(folder.mode & 0o777).toString(8)}, not sticky)`;
  }
  if (problem === undefined) return;
  throw new RegistryError(
    'E_CONFIG',
    `Found the config ${file} ${origin === 'folder' ? 'in this folder or one above it' : 'in the user config folder'}, but it ${problem}, so it is not used: a config can run code. If you trust it, pass --config ${file}; otherwise remove it, or make it yours and not writable by every user (chmod o-w).`,
    { details: { file } },
  );
}

/** A package.json, parsed by core's config reader: a syntax error names the file, line and column, never its bytes. */
async function readPackageJson(file: string): Promise<unknown> {
  return (await loadConfigFile(file)).config;
}

/** What `findConfig` found, loaded; E_CONFIG (saying where it looked) when there is none. */
export async function loadFoundConfig(io: CliIo, explicit?: string): Promise<LoadedConfigFile> {
  const found = await findConfig(io, explicit);
  if (!found) {
    throw new RegistryError(
      'E_CONFIG',
      `No config found: looked for --config, AGENTOS_REGISTRY_CONFIG, ${DEFAULT_CONFIG_FILES.join(', ')} in ${io.cwd} and every folder above it, "agentosRegistry" in the nearest package.json, and ${join(userConfigDir(io.env), `config.{mjs,js,json}`)}. Pass --config <file>, or run "agentos-registry init" to start a registry.`,
    );
  }
  if (found.origin !== 'package.json') return loadConfigFile(found.file);
  const pkg = (await readPackageJson(found.file)) as { agentosRegistry: unknown };
  const value = pkg.agentosRegistry;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RegistryError(
      'E_CONFIG',
      `${found.file}: the "agentosRegistry" field must be a registryConfig object (or an object with a "registryConfig" field).`,
      {
        details: { file: found.file, field: 'agentosRegistry' },
      },
    );
  }
  const config = ('registryConfig' in value ? (value as { registryConfig: unknown }).registryConfig : value) as RegistryConfig;
  return { config, baseDir: dirname(found.file), file: found.file };
}
