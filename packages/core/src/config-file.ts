/** Reading a `registryConfig` from a file: `.json`, or `.js`/`.mjs` whose default export is the config. */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError } from './errors.js';
import type { DependencyOptions, RegistryConfig } from './types.js';

export interface LoadedConfigFile {
  config: RegistryConfig;
  /** The file's folder: relative `location`s in it are relative to this. */
  baseDir: string;
  file: string;
  /**
   * The file's `dependencies` (beside `registryConfig`): how `load` installs extension dependencies — which packages
   * may run install scripts, where the install area is. Pass it to `createRegistry`'s `dependencies` option.
   */
  dependencies?: DependencyOptions;
}

function unwrap(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'registryConfig' in value) return (value as { registryConfig: unknown }).registryConfig;
  return value;
}

/** Loads a config file. The default export (or JSON document) is the `registryConfig`, or an object holding one. */
export async function loadConfigFile(file: string): Promise<LoadedConfigFile> {
  const path = resolve(file);
  const ext = extname(path);
  let value: unknown;
  try {
    if (ext === '.json') {
      value = JSON.parse(await readFile(path, 'utf8'));
    } else if (ext === '.js' || ext === '.mjs') {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; registryConfig?: unknown };
      value = mod.default ?? mod.registryConfig;
      if (typeof value === 'function') value = await (value as () => unknown)();
    } else {
      throw new RegistryError('E_CONFIG', `Config file ${path} must end in .json, .js or .mjs.`);
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ERR_MODULE_NOT_FOUND' ? 'does not exist' : `cannot be read: ${(error as Error).message}`;
    throw new RegistryError('E_CONFIG', `Config file ${path} ${why}.`, { cause: error, details: { file: path } });
  }
  const config = unwrap(value);
  if (typeof config !== 'object' || config === null) {
    throw new RegistryError('E_CONFIG', `Config file ${path} must export a registryConfig object (or an object with a "registryConfig" field).`, {
      details: { file: path },
    });
  }
  const dependencies = readDependencies(value, path);
  return { config: config as RegistryConfig, baseDir: dirname(path), file: path, ...(dependencies ? { dependencies } : {}) };
}

/** The `dependencies` settings next to `registryConfig` in a config file, checked. */
function readDependencies(value: unknown, path: string): DependencyOptions | undefined {
  if (typeof value !== 'object' || value === null || !('registryConfig' in value) || !('dependencies' in value)) return undefined;
  const raw = (value as { dependencies: unknown }).dependencies;
  const bad = (field: string, why: string) =>
    new RegistryError('E_CONFIG', `Config file ${path}: dependencies${field} ${why}.`, { details: { file: path, field: `dependencies${field}` } });
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'must be an object such as { allowScripts: ["esbuild"] }');
  const { allowScripts, directory, hostDir, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) throw bad(`.${unknown}`, 'is not a setting (the settings are allowScripts, directory and hostDir)');
  if (allowScripts !== undefined && typeof allowScripts !== 'boolean' && !(Array.isArray(allowScripts) && allowScripts.every((name) => typeof name === 'string'))) {
    throw bad('.allowScripts', 'must be a list of package names, or true for every package');
  }
  if (directory !== undefined && typeof directory !== 'string') throw bad('.directory', 'must be a folder path');
  if (hostDir !== undefined && typeof hostDir !== 'string') throw bad('.hostDir', 'must be a folder path');
  const dir = dirname(path);
  return {
    ...(allowScripts !== undefined ? { allowScripts: allowScripts as DependencyOptions['allowScripts'] } : {}),
    ...(typeof directory === 'string' ? { directory: resolve(dir, directory) } : {}),
    ...(typeof hostDir === 'string' ? { hostDir: resolve(dir, hostDir) } : {}),
  };
}
