/** Finding the config file and building the registry the CLI talks to. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Logger, loadConfigFile, type Registry, RegistryError, type RegistryWarning } from '@agentos-registry/core';
import { createRegistry } from '../create-registry.js';
import type { CliIo } from './io.js';
import { oneLine } from './terminal-text.js';

/** Looked up in the working directory, in this order, when `--config` is not given. */
export const DEFAULT_CONFIG_FILES = ['agentos-registry.config.json', 'agentos-registry.config.mjs', 'agentos-registry.config.js'] as const;

/** Options every command accepts. */
export interface CommonOptions {
  config?: string;
  json?: boolean;
  offline?: boolean;
  preferOffline?: boolean;
  refresh?: boolean;
  verbose?: boolean;
  /** `--allow-scripts a,b`: packages whose install scripts may run when `load` installs dependencies. */
  allowScripts?: string[];
  /** `--strict-peers`: refuse a host peer outside an extension's declared range (E_PEER_MISSING) instead of warning. */
  strictPeers?: boolean;
}

/** The config file to use: `--config` resolved against the working directory, else the first default file present. */
export function findConfigFile(cwd: string, explicit?: string): string {
  if (explicit) {
    const file = resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw new RegistryError('E_CONFIG', `Config file ${file} does not exist: check the path given to --config.`, {
        details: { file },
      });
    }
    return file;
  }
  for (const name of DEFAULT_CONFIG_FILES) {
    const file = resolve(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new RegistryError('E_CONFIG', `No config file found in ${cwd} (looked for ${DEFAULT_CONFIG_FILES.join(', ')}): pass --config <file>.`);
}

/** Prints each distinct warning once to stderr, whichever path (logger, onWarning, a result) it arrives by. */
export class WarningPrinter {
  readonly #seen = new Set<string>();
  constructor(private readonly io: CliIo) {}

  print(message: string): void {
    if (this.#seen.has(message)) return;
    this.#seen.add(message);
    this.io.stderr.write(`warning: ${oneLine(message)}\n`);
  }

  printAll(warnings: readonly RegistryWarning[]): void {
    for (const warning of warnings) this.print(warning.message);
  }
}

/** A logger that writes to the CLI's stderr: warnings and errors always, the rest with `--verbose`. */
export function cliLogger(io: CliIo, warnings: WarningPrinter, verbose: boolean): Logger {
  const write = (level: string) => (message: string) => {
    io.stderr.write(`${level}: ${oneLine(message)}\n`);
  };
  const noop = () => {};
  return {
    debug: verbose ? write('debug') : noop,
    info: verbose ? write('info') : noop,
    warn: (message) => warnings.print(message),
    error: write('error'),
  };
}

/** Loads the config file and builds the registry with the CLI's flags. */
export async function openRegistry(io: CliIo, options: CommonOptions, warnings: WarningPrinter): Promise<Registry> {
  const file = findConfigFile(io.cwd, options.config);
  const { config, baseDir, dependencies } = await loadConfigFile(file);
  const fromFile = dependencies?.allowScripts;
  const allowScripts =
    options.allowScripts && fromFile !== true ? [...new Set([...(Array.isArray(fromFile) ? fromFile : []), ...options.allowScripts])] : fromFile;
  const settings = { ...dependencies, ...(allowScripts === undefined ? {} : { allowScripts }), ...(options.strictPeers ? { strictPeers: true } : {}) };
  return createRegistry(config, {
    baseDir,
    ...(Object.keys(settings).length > 0 ? { dependencies: settings } : {}),
    env: io.env,
    logger: cliLogger(io, warnings, options.verbose === true),
    onWarning: (warning) => warnings.print(warning.message),
    ...(options.offline ? { offline: true } : {}),
    ...(options.preferOffline ? { preferOffline: true } : {}),
    ...(options.refresh ? { refresh: true } : {}),
  });
}
