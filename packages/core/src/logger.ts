import { redact } from './errors.js';

/** Where the library reports what it does. Messages are redacted before they reach a logger. */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

const noop = () => {};

/** A logger that drops everything (the default: a library should not write to the console on its own). */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that writes `warn` and `error` (and, when verbose, everything) to stderr. */
export function consoleLogger(options: { verbose?: boolean } = {}): Logger {
  const write = (level: string) => (message: string, data?: Record<string, unknown>) => {
    const tail = data && Object.keys(data).length > 0 ? ` ${JSON.stringify(data)}` : '';
    process.stderr.write(`[agentos-registry] ${level}: ${message}${tail}\n`);
  };
  return {
    debug: options.verbose ? write('debug') : noop,
    info: options.verbose ? write('info') : noop,
    warn: write('warn'),
    error: write('error'),
  };
}

/** Wraps a logger so that nothing secret reaches it, whoever wrote the message. */
export function redactingLogger(inner: Logger): Logger {
  // A level that drops everything (silentLogger's, consoleLogger's debug when not verbose) stays free: nothing to redact.
  const wrap = (fn: Logger[keyof Logger]) =>
    fn === noop
      ? noop
      : (message: string, data?: Record<string, unknown>) =>
          fn(redact(message), data === undefined ? undefined : (JSON.parse(redact(JSON.stringify(data))) as Record<string, unknown>));
  return { debug: wrap(inner.debug), info: wrap(inner.info), warn: wrap(inner.warn), error: wrap(inner.error) };
}
