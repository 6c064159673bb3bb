import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { freePort, LOOPBACK, waitForPort } from './free-port.js';
import { gitConfigEnv, gitEnv } from './git-env.js';
import { makeTempDir } from './temp-dir.js';

/** Options for {@link startGitDaemon}. */
export interface GitDaemonOptions {
  /** Folder holding the bare repositories; `<root>/x.git` is served as `git://…/x.git`. */
  root: string;
}

/** One request git daemon reported on its log. */
export interface GitDaemonRequestLog {
  /** e.g. `upload-pack`. */
  service: string;
  /** Path as requested, e.g. `/registry.git`. */
  path: string;
}

/** A running `git daemon`. */
export interface GitDaemon {
  /** Base URL with a trailing slash, e.g. `git://127.0.0.1:9418/`. */
  url: string;
  port: number;
  /** Requests parsed from the daemon's verbose log, in order. */
  requests: GitDaemonRequestLog[];
  /** URL of one repository, e.g. `repoUrl('registry')` → `git://127.0.0.1:9418/registry.git`. */
  repoUrl(name: string): string;
  /** Kills the daemon and every upload-pack it forked, then removes the scratch folder. */
  close(): Promise<void>;
}

const ATTEMPTS = 5;

/**
 * Spawns `git daemon` on 127.0.0.1 and resolves once it has bound its port (its own "Ready to rumble" line) and
 * accepts connections. The port comes from {@link freePort}; if another process grabs it first the daemon exits and
 * we retry on a new one.
 */
export async function startGitDaemon(options: GitDaemonOptions): Promise<GitDaemon> {
  const root = path.resolve(options.root);
  const scratch = await makeTempDir('agentos-git-daemon-');
  const home = path.join(scratch.path, 'home');
  await mkdir(home);
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await freePort();
    const requests: GitDaemonRequestLog[] = [];
    const child = spawn(
      'git',
      [
        'daemon',
        '--reuseaddr',
        `--base-path=${root}`,
        '--export-all',
        '--informative-errors',
        '--verbose',
        '--log-destination=stderr',
        `--listen=${LOOPBACK}`,
        `--port=${port}`,
        root,
      ],
      {
        // Forked upload-packs inherit this environment, so this is also where partial clone is allowed.
        env: gitEnv(home, gitConfigEnv({ 'uploadpack.allowFilter': 'true', 'uploadpack.allowAnySHA1InWant': 'true' })),
        stdio: ['ignore', 'ignore', 'pipe'],
        // Own process group, so close() can signal the daemon and the upload-packs it forked in one go.
        detached: true,
      },
    );
    let stderr = '';
    let log = '';
    // The daemon says "Ready to rumble" only once it has bound its port; anything else listening there (another
    // process took the port first) must not be mistaken for it.
    let ready: () => void = () => {};
    const readyLine = new Promise<void>((resolve) => {
      ready = resolve;
    });
    child.stderr?.on('data', (data: Buffer) => {
      stderr += data.toString('utf8');
      let newline = stderr.indexOf('\n');
      while (newline >= 0) {
        const line = stderr.slice(0, newline);
        stderr = stderr.slice(newline + 1);
        log += `${line}\n`;
        if (/Ready to rumble/.test(line)) ready();
        const match = /Request (\S+) for '([^']*)'/.exec(line);
        if (match?.[1] && match[2] !== undefined) requests.push({ service: match[1], path: match[2] });
        newline = stderr.indexOf('\n');
      }
    });
    const exitedEarly = new Promise<never>((_resolve, reject) => {
      child.once('exit', () => reject(new Error(`git daemon exited early: ${(log + stderr).trim()}`)));
    });
    exitedEarly.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        readyLine,
        exitedEarly,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('git daemon did not say it was ready within 20 s')), 20_000);
        }),
      ]);
      await waitForPort(port, { timeoutMs: 10_000 });
    } catch (error) {
      lastError = error;
      await stopGroup(child);
      continue;
    } finally {
      clearTimeout(timer);
    }
    const url = `git://${LOOPBACK}:${port}/`;
    let closed: Promise<void> | undefined;
    return {
      url,
      port,
      requests,
      repoUrl: (name) => `${url}${name.replace(/^\/+/, '').replace(/\.git$/, '')}.git`,
      close() {
        closed ??= stopGroup(child).then(() => scratch.close());
        return closed;
      },
    };
  }
  await scratch.close();
  throw new Error(`startGitDaemon: could not start after ${ATTEMPTS} attempts`, { cause: lastError });
}

/** Sends SIGTERM to the child's whole process group and waits for the child to exit. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await exited;
}
