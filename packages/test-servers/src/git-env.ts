import { execFile } from 'node:child_process';

/** Fixed identity so commits made by tests have the same sha on every machine and every run. */
export const GIT_IDENTITY = { name: 'AgentOS Registry Tests', email: 'tests@agentos-registry.invalid' } as const;

/**
 * Builds the whole environment for a git child process from scratch. Nothing is inherited except
 * PATH, so the developer's ~/.gitconfig, credential helpers, GIT_DIR or proxy settings can never
 * change what a test sees; `home` should be an empty directory owned by the caller.
 */
export function gitEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    // A missing credential must fail the command at once, never wait on a prompt.
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Turns `{ 'uploadpack.allowFilter': 'true' }` into the GIT_CONFIG_COUNT/KEY_n/VALUE_n variables. */
export function gitConfigEnv(config: Record<string, string>): Record<string, string> {
  const entries = Object.entries(config);
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** Options for {@link runGit}. */
export interface RunGitOptions {
  /** Empty directory used as HOME (see {@link gitEnv}). */
  home: string;
  cwd?: string;
  /** Extra environment variables, e.g. GIT_DIR or author dates. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Result of a git invocation that exited 0. */
export interface GitResult {
  stdout: string;
  stderr: string;
}

/** Error thrown when git exits non-zero; keeps stderr so tests can assert on git's reason. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed (${exitCode}): ${stderr.trim()}`);
    this.name = 'GitCommandError';
  }
}

/** Runs the git CLI with a clean environment; rejects with {@link GitCommandError} on failure. */
export function runGit(args: readonly string[], options: RunGitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: options.cwd,
        env: gitEnv(options.home, options.env),
        timeout: options.timeoutMs ?? 20_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code ?? error.signal ?? null;
          reject(new GitCommandError(args, code as number | string | null, stdout, stderr));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}
