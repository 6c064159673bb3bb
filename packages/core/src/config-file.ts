/** Reading a `registryConfig` from a file: `.json`, or `.js`/`.mjs` whose default export is the config. */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryError } from './errors.js';
import { parseJsonDocument } from './json-text.js';
import type { DependencyOptions, RegistryConfig } from './types.js';

export interface LoadedConfigFile {
  config: RegistryConfig;
  /** The file's folder: relative `location`s in it are relative to this. */
  baseDir: string;
  file: string;
  /**
   * The file's `dependencies` (beside `registryConfig`): how `load` installs extension dependencies — which packages
   * may run install scripts, where the install area is, whether peers outside their range are refused (`strictPeers`). Pass it to `createRegistry`'s `dependencies` option.
   */
  dependencies?: DependencyOptions;
  /** The file's `lock` (beside `registryConfig`): the references `agentos-registry lock` locks when given none. */
  lock?: LockSettings;
}

/** A config file's `lock` settings. */
export interface LockSettings {
  /** References to lock: `id@range` or `registry:id@range` (an extension kind tool, or the persona it names), or `{ kind, ref }`. */
  refs: Array<{ kind?: string; ref: string }>;
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
      value = parseJsonDocument(await readFile(path, 'utf8'), { code: 'E_CONFIG', file: path, label: `Config file ${path}`, next: 'Fix the file.' });
    } else if (ext === '.js' || ext === '.mjs') {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; registryConfig?: unknown };
      value = mod.default ?? mod.registryConfig;
      if (typeof value === 'function') value = await (value as () => unknown)();
    } else {
      throw new RegistryError('E_CONFIG', `Config file ${path} must end in .json, .js or .mjs.`);
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    if (error instanceof SyntaxError) throw syntaxError(path, error);
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
  const lock = readLockSettings(value, path);
  return { config: config as RegistryConfig, baseDir: dirname(path), file: path, ...(dependencies ? { dependencies } : {}), ...(lock ? { lock } : {}) };
}

/**
 * A module that does not compile. Its SyntaxError quotes the file (the message a token, the stack the whole line),
 * and a config path may lead anywhere, so neither is kept: the message gives the line, when V8 names it, and the
 * command that shows the error to the file's owner.
 */
function syntaxError(path: string, error: SyntaxError): RegistryError {
  const line = /:(\d+)$/.exec(error.stack?.split('\n', 1)[0] ?? '')?.[1];
  return new RegistryError(
    'E_CONFIG',
    `Config file ${path} failed to load with a syntax error${line ? ` on line ${line}` : ''}. Run "node --check ${path}" to see it.`,
    { details: { file: path, ...(line ? { line: Number(line) } : {}) } },
  );
}

/** The `dependencies` settings next to `registryConfig` in a config file, checked. */
function readDependencies(value: unknown, path: string): DependencyOptions | undefined {
  if (typeof value !== 'object' || value === null || !('registryConfig' in value) || !('dependencies' in value)) return undefined;
  const raw = (value as { dependencies: unknown }).dependencies;
  const bad = (field: string, why: string) =>
    new RegistryError('E_CONFIG', `Config file ${path}: dependencies${field} ${why}.`, { details: { file: path, field: `dependencies${field}` } });
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'must be an object such as { allowScripts: ["esbuild"] }');
  const { allowScripts, directory, hostDir, strictPeers, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) throw bad(`.${unknown}`, 'is not a setting (the settings are allowScripts, directory, hostDir and strictPeers)');
  if (
    allowScripts !== undefined &&
    typeof allowScripts !== 'boolean' &&
    !(Array.isArray(allowScripts) && allowScripts.every((name) => typeof name === 'string'))
  ) {
    throw bad('.allowScripts', 'must be a list of package names, or true for every package');
  }
  if (directory !== undefined && typeof directory !== 'string') throw bad('.directory', 'must be a folder path');
  if (hostDir !== undefined && typeof hostDir !== 'string') throw bad('.hostDir', 'must be a folder path');
  if (strictPeers !== undefined && typeof strictPeers !== 'boolean') throw bad('.strictPeers', 'must be true or false');
  const dir = dirname(path);
  return {
    ...(allowScripts !== undefined ? { allowScripts: allowScripts as DependencyOptions['allowScripts'] } : {}),
    ...(typeof directory === 'string' ? { directory: resolve(dir, directory) } : {}),
    ...(typeof hostDir === 'string' ? { hostDir: resolve(dir, hostDir) } : {}),
    ...(typeof strictPeers === 'boolean' ? { strictPeers } : {}),
  };
}

/** The `lock` settings next to `registryConfig` in a config file, checked. */
function readLockSettings(value: unknown, path: string): LockSettings | undefined {
  if (typeof value !== 'object' || value === null || !('registryConfig' in value) || !('lock' in value)) return undefined;
  const raw = (value as { lock: unknown }).lock;
  const bad = (field: string, why: string) =>
    new RegistryError('E_CONFIG', `Config file ${path}: lock${field} ${why}.`, { details: { file: path, field: `lock${field}` } });
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'must be an object such as { refs: ["com.yourorg.tool@^1"] }');
  const { refs, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) throw bad(`.${unknown}`, 'is not a setting (the setting is refs)');
  if (!Array.isArray(refs)) throw bad('.refs', 'must be a list of references');
  return {
    refs: refs.map((item: unknown, i) => {
      if (typeof item === 'string' && item !== '') return { ref: item };
      if (typeof item === 'object' && item !== null) {
        const { kind, ref } = item as Record<string, unknown>;
        if (typeof ref === 'string' && ref !== '' && (kind === undefined || (typeof kind === 'string' && kind !== ''))) {
          return { ref, ...(kind ? { kind: kind as string } : {}) };
        }
      }
      throw bad(`.refs[${i}]`, 'must be a reference ("id@range") or { kind, ref }');
    }),
  };
}
