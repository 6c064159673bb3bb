import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../src/cli/run.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const templateRegistry = join(repoRoot, 'examples', 'registry-template');
/** The real AgentOS extensions registry, kept next to the repository (see DESIGN.md). */
export const fixturesRegistry = process.env.AGENTOS_FIXTURES_DIR ?? resolve(repoRoot, '../shared/fixtures/agentos-extensions');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (typed loosely: tests assert on the shape). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON output
  json<T = any>(): T;
}

/** Runs the CLI in-process with captured streams. */
export async function cli(argv: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: options.cwd,
    // The user config of the machine running the tests is never found: discovery ends at a folder that does not exist.
    env: { XDG_CONFIG_HOME: join(options.cwd, '.no-user-config'), ...options.env },
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

/** A scratch folder removed by the returned cleanup function. */
export async function scratch(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'agentos-registry-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a JSON config with one file registry used for tools and personas, caching into `dir/cache`. */
export async function writeJsonConfig(dir: string, name: string, location: string, extra: Record<string, unknown> = {}): Promise<string> {
  const file = join(dir, 'agentos-registry.config.json');
  const config = {
    registries: { [name]: { type: 'file', location, ...extra } },
    defaultRegistries: { tool: name, guardrail: name, persona: name },
    cacheSettings: { directory: join(dir, 'cache') },
  };
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** The built CLI's launcher, as `npm install` links it. */
export const builtBin = join(repoRoot, 'packages', 'agentos-registry', 'bin', 'agentos-registry.mjs');

/**
 * Runs the built CLI as a subprocess (build first). The environment is only what is given plus PATH, and a user
 * config folder of its own under `cwd`, so no config of the machine running the tests is found.
 */
export function runBuilt(
  argv: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [builtBin, ...argv], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: options.cwd, XDG_CONFIG_HOME: join(options.cwd, '.no-user-config'), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs the built CLI under a pseudo-terminal (`script -qec`): stdin, stdout and stderr are a TTY. What it printed
 * comes back as one text (the terminal's), with CRLF line ends made LF.
 */
export async function runBuiltOnTty(
  argv: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<{ code: number; output: string }> {
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, builtBin, ...argv].map(quote).join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: options.cwd, XDG_CONFIG_HOME: join(options.cwd, '.no-user-config'), TERM: 'xterm', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, output: output.replace(/\r\n/g, '\n') }));
    // Typed after the prompt has had time to appear is not needed: the pty buffers what arrives early.
    if (options.input !== undefined) child.stdin.write(options.input);
    else child.stdin.end();
  });
}
