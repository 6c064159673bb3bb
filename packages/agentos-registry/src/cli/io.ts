/** Where the CLI reads its environment from and writes to; tests inject their own. */
export interface CliWriter {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: CliWriter;
  stderr: CliWriter;
  /** Folder the default config file is looked up in and relative `--config` paths are resolved against. */
  cwd: string;
  /** Environment handed to `createRegistry` for `${NAME}` expansion. */
  env: Record<string, string | undefined>;
}

/** The real process: stdout, stderr, working directory and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}
