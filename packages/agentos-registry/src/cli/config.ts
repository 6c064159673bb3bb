/** Finding the config file and building the registry the CLI talks to. */
import type { CreateRegistryOptions, Logger, Registry, RegistryProgress, RegistryWarning } from '@agentos-registry/core';
import { loadFoundConfig } from './config-discovery.js';
import { createRegistry } from '../create-registry.js';
import type { CliIo } from './io.js';
import { oneLine } from './terminal-text.js';

export { DEFAULT_CONFIG_FILES, findConfig, loadFoundConfig } from './config-discovery.js';

/** Options every command accepts. */
export interface CommonOptions {
  config?: string;
  json?: boolean;
  offline?: boolean;
  preferOffline?: boolean;
  refresh?: boolean;
  verbose?: boolean;
  /** `--quiet`: print nothing but errors (and `--json` output, which was asked for). */
  quiet?: boolean;
  /** `--allow-scripts a,b` (load): packages whose install scripts may run when `load` installs dependencies. */
  allowScripts?: string[];
  /** `--strict-peers` (load): refuse a host peer outside an extension's declared range (E_PEER_MISSING) instead of warning. */
  strictPeers?: boolean;
  /** `--frozen` (fetch, load, info): only entries of the lockfile, each exactly as locked (E_LOCK_MISMATCH otherwise). */
  frozen?: boolean;
  /** `--lockfile <file>`: the lockfile; default agentos-registry.lock.json beside the config file. */
  lockfile?: string;
}

/** Writes a fixed label of the CLI's own (`warning`, `debug`) to stderr, in colour when that is on. */
export type LabelWriter = (kind: 'warning' | 'debug' | 'error', label: string) => void;

/** Prints each distinct warning once to stderr, whichever path (logger, onWarning, a result) it arrives by. */
export class WarningPrinter {
  readonly #seen = new Set<string>();
  /** Set by `--quiet`: warnings are not printed. */
  quiet = false;
  constructor(
    private readonly io: CliIo,
    readonly label: LabelWriter = (_kind, text) => io.stderr.write(text),
  ) {}

  print(message: string): void {
    if (this.#seen.has(message) || this.quiet) return;
    this.#seen.add(message);
    this.label('warning', 'warning');
    this.io.stderr.write(`: ${oneLine(message)}\n`);
  }

  printAll(warnings: readonly RegistryWarning[]): void {
    for (const warning of warnings) this.print(warning.message);
  }
}

/** A logger that writes to the CLI's stderr: warnings and errors always, the rest with `--verbose`. */
export function cliLogger(io: CliIo, warnings: WarningPrinter, verbose: boolean): Logger {
  const write = (level: 'debug' | 'info' | 'error') => (message: string) => {
    warnings.label(level === 'info' ? 'debug' : level, level);
    io.stderr.write(`: ${oneLine(message)}\n`);
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
export async function openRegistry(
  io: CliIo,
  options: CommonOptions,
  warnings: WarningPrinter,
  onProgress?: (progress: RegistryProgress) => void,
  extra: Pick<CreateRegistryOptions, 'lockfile' | 'frozen'> = {},
): Promise<Registry> {
  const { config, baseDir, dependencies } = await loadFoundConfig(io, options.config);
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
    ...(onProgress ? { onProgress } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.preferOffline ? { preferOffline: true } : {}),
    ...(options.refresh ? { refresh: true } : {}),
    ...extra,
  });
}
