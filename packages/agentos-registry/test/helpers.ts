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
    env: options.env ?? {},
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
