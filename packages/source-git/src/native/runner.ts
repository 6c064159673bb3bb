import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import type { SimpleGit, SimpleGitOptions, simpleGit as SimpleGitFactory } from 'simple-git';
import { RunningDeadline, type StepDeadline } from '../deadline.js';
import { BASE_CONFIG, type GitVersion, gitEnvironment, MIN_NATIVE_GIT, atLeast } from './environment.js';

let factory: typeof SimpleGitFactory | undefined;
/** simple-git, loaded at the first git command: a host that never reads a git registry does not load it. */
function simpleGit(options: Partial<SimpleGitOptions>): SimpleGit {
  factory ??= (createRequire(import.meta.url)('simple-git') as { simpleGit: typeof SimpleGitFactory }).simpleGit;
  return factory(options);
}

/**
 * Git processes this module runs at once, across every registry. Materializing many entries concurrently would
 * otherwise start hundreds of processes that only fight over the CPUs.
 */
const MAX_PROCESSES = Math.max(2, Math.min(8, availableParallelism()));
let running = 0;
const waiting: Array<() => void> = [];

async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PROCESSES) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/**
 * A git command that failed: its stderr (git redacts credentials from it), whether it was aborted, and the deadline
 * that stopped it when that is why (`aborted` is then true too: it was killed the same way).
 */
export class GitCommandFailure extends Error {
  override readonly name = 'GitCommandFailure';
  constructor(
    readonly stderr: string,
    readonly aborted: boolean,
    readonly deadline?: StepDeadline,
  ) {
    super(stderr.trim() || 'git failed');
  }
}

/** One git invocation. */
export interface GitCommand {
  args: string[];
  signal: AbortSignal;
  /** The repository (`GIT_DIR`); also the working directory when given. */
  gitDir?: string;
  /** Extra config for this command only, applied after the runner's own. */
  config?: ReadonlyArray<readonly [string, string]>;
  /** Written to stdin. */
  input?: string;
  /**
   * For a command that talks to the server: its total deadline, from its start to its exit. Past it the command and
   * every process it started are killed, as on abort.
   */
  deadline?: StepDeadline;
  /** Told git's own progress (`--progress` is added): the stage and the objects done of the total. */
  progress?: (progress: { stage: string; processed: number; total: number }) => void;
}

/** What every command of one remote shares. */
export interface RunnerSettings {
  version: GitVersion;
  /** Config sent with every command (the token's header, when there is one). */
  config: ReadonlyArray<readonly [string, string]>;
  /** For ssh remotes: `GIT_SSH_COMMAND` unless the user set one. */
  sshCommand?: string;
  ambient?: NodeJS.ProcessEnv;
}

/**
 * Runs git through simple-git: one simple-git instance per command, so that each gets its own AbortSignal (which
 * kills the child) and its own environment. simple-git's guards are kept on; the variables and config keys this
 * package sets on purpose (per-command config, an empty askpass, the SSH batch-mode command) are allowed by name.
 */
export class GitRunner {
  constructor(private readonly settings: RunnerSettings) {}

  /** The environment of a command on `gitDir` (also used for the long-lived object reader). */
  environment(gitDir: string | undefined, config: ReadonlyArray<readonly [string, string]> = []): Record<string, string> {
    return gitEnvironment({
      ambient: this.settings.ambient ?? process.env,
      version: this.settings.version,
      config: [...BASE_CONFIG, ...this.settings.config, ...config],
      ...(gitDir === undefined ? {} : { gitDir }),
      ...(this.settings.sshCommand === undefined ? {} : { sshCommand: this.settings.sshCommand }),
    });
  }

  private instance(command: GitCommand, signal: AbortSignal, marker: string, input?: string): SimpleGit {
    const env = this.environment(command.gitDir, command.config);
    env[CALL_MARKER] = marker;
    const options: Partial<SimpleGitOptions> = {
      baseDir: command.gitDir ?? tmpdir(),
      abort: signal,
      trimmed: false,
      maxConcurrentProcesses: 1,
      allowEnvironment: Object.keys(env).filter((key) => /^git_/i.test(key)),
      unsafe: {
        allowUnsafeConfigEnvCount: true,
        allowUnsafeAskPass: true,
        allowUnsafeCredentialHelper: true,
        allowUnsafeSshCommand: true,
      },
      ...(input === undefined ? {} : { input: () => input }),
      ...(command.progress ? { progress: command.progress } : {}),
    };
    return simpleGit(options).env(env);
  }

  /** Runs a command and returns its stdout as text. */
  text(command: GitCommand): Promise<string> {
    return this.run(command, (git) => git.raw(command.args));
  }

  /** Runs `git cat-file <args>` and returns its stdout as bytes (blob contents are not text). */
  async catFile(command: GitCommand): Promise<Buffer> {
    const out: unknown = await this.run(command, (git) => git.binaryCatFile(command.args));
    return Buffer.isBuffer(out) ? out : Buffer.from(out as string);
  }

  private run<T>(command: GitCommand, work: (git: SimpleGit) => Promise<T>): Promise<T> {
    const marker = randomBytes(12).toString('hex');
    // The deadline starts with the process, not while it waits for a slot: waiting behind our own commands is not
    // the server being slow.
    return slot(async () => {
      const deadline = command.deadline === undefined ? undefined : new RunningDeadline(command.deadline, command.signal);
      const signal = deadline?.signal ?? command.signal;
      // simple-git kills the git process on abort; its own children (git-remote-https trickling from a slow server,
      // index-pack, a partial clone's lazy fetch) would live on until their transfer ends, so they are found by the
      // marker they inherited and stopped too. A deadline stops them the same way.
      const onAbort = () => void killMarked(marker);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await work(this.instance(command, signal, marker, command.input));
      } catch (error) {
        throw failure(error, signal, deadline?.expired && !command.signal.aborted ? command.deadline : undefined);
      } finally {
        deadline?.clear();
        signal.removeEventListener('abort', onAbort);
      }
    });
  }
}

/** Environment variable that tags every process one git command starts (children inherit it). Never secret. */
const CALL_MARKER = 'AGENTOS_REGISTRY_GIT_CALL';

/**
 * Sends SIGTERM to every process of this user whose environment carries `marker`: the git command of one call and
 * everything it started. Reads `/proc`, so it works on Linux and does nothing elsewhere (simple-git still kills the
 * git process itself there).
 */
async function killMarked(marker: string): Promise<void> {
  const needle = Buffer.from(`${CALL_MARKER}=${marker}\0`);
  // Twice: a process may start a child while the first pass runs.
  for (let pass = 0; pass < 2; pass++) {
    let pids: string[];
    try {
      pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
    } catch {
      return;
    }
    await Promise.all(
      pids.map(async (pid) => {
        const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
        if (!environ?.includes(needle)) return;
        try {
          process.kill(Number(pid), 'SIGTERM');
        } catch {
          // Already gone.
        }
      }),
    );
  }
}

function failure(error: unknown, signal: AbortSignal, deadline: StepDeadline | undefined): GitCommandFailure {
  const message = error instanceof Error ? error.message : String(error);
  return new GitCommandFailure(message, signal.aborted, deadline);
}

const detected = new Map<string, Promise<GitVersion | undefined>>();

/** The version of the `git` on PATH, or `undefined` when there is none. Asked once per process (and PATH). */
export function detectGit(): Promise<GitVersion | undefined> {
  const path = process.env.PATH ?? '';
  let found = detected.get(path);
  if (!found) {
    found = (async () => {
      try {
        const env = gitEnvironment({ ambient: process.env, version: MIN_NATIVE_GIT, config: [] });
        const version = await simpleGit({
          baseDir: tmpdir(),
          allowEnvironment: Object.keys(env).filter((key) => /^git_/i.test(key)),
          unsafe: { allowUnsafeAskPass: true },
        })
          .env(env)
          .version();
        return version.installed ? { major: version.major, minor: version.minor } : undefined;
      } catch {
        return undefined;
      }
    })();
    detected.set(path, found);
  }
  return found;
}

/** Whether `version` can run the native engine. */
export function usableForNative(version: GitVersion | undefined): boolean {
  return version !== undefined && atLeast(version, MIN_NATIVE_GIT);
}
