/** Reading a `registryConfig` from a file: `.json`, or `.js`/`.mjs` whose default export is the config. */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError } from './errors.js';
import type { RegistryConfig } from './types.js';

export interface LoadedConfigFile {
  config: RegistryConfig;
  /** The file's folder: relative `location`s in it are relative to this. */
  baseDir: string;
  file: string;
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
  return { config: config as RegistryConfig, baseDir: dirname(path), file: path };
}
