import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry, type Logger, type Registry, type RegistryWarning, type SourceConfig } from '@agentos-registry/core';
import type { RepoFiles } from '@agentos-registry/test-servers';
import { gitSource } from '../../src/index.js';
import { tempDir } from './temp.js';

/** The token private test repositories take; distinctive, so a leak anywhere is found by a plain search. */
export const TOKEN = 'corp-git-token-5d1f0c9a7b3e';

export const TOOL_ID = 'com.yourorg.your-tool';
export const OTHER_ID = 'com.yourorg.other-tool';

/**
 * A registry in the page's shape (`registry.json` plus `registry/curated/…`) with two tools. `label` is written
 * into the code of the first, so a test can tell which branch, tag or commit it was fetched from.
 */
export function pageRegistry(label: string): Record<string, string> {
  const entry = (id: string, name: string, folder: string) => ({
    id,
    name,
    version: '1.0.0',
    path: `curated/${folder}`,
    author: { name: 'Your Org', email: 'support@yourorg.com' },
  });
  const manifest = (id: string, name: string, tool: string) =>
    `${JSON.stringify({ id, name, version: '1.0.0', extensions: [{ kind: 'tool', id: tool, entry: './src/index.js' }] }, null, 2)}\n`;
  return {
    'registry.json': `${JSON.stringify(
      {
        version: '1.0.0',
        updated: '2024-11-14T00:00:00.000Z',
        categories: { curated: ['tools'], community: [] },
        extensions: { curated: [entry(TOOL_ID, 'Your Tool', 'your-tool'), entry(OTHER_ID, 'Other Tool', 'other-tool')] },
      },
      null,
      2,
    )}\n`,
    'registry/curated/your-tool/manifest.json': manifest(TOOL_ID, 'Your Tool', 'your-tool'),
    'registry/curated/your-tool/src/index.js': `// ${label}\nexport const createExtensionPack = () => ({ name: 'your-tool', descriptors: [] });\n`,
    'registry/curated/other-tool/manifest.json': manifest(OTHER_ID, 'Other Tool', 'other-tool'),
    'registry/curated/other-tool/src/index.js': `export const createExtensionPack = () => ({ name: 'other-tool', descriptors: [] });\n`,
    'registry/curated/other-tool/assets/big.txt': `${'other tool data '.repeat(4096)}\n`,
  } satisfies RepoFiles;
}

/** A logger that keeps every line. */
export function capturingLogger(lines: string[] = []): Logger & { lines: string[] } {
  const keep = (level: string) => (message: string, data?: Record<string, unknown>) => {
    lines.push(`${level}: ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
  };
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export interface OpenedRegistry {
  registry: Registry;
  cacheDir: string;
  logger: Logger & { lines: string[] };
  warnings: RegistryWarning[];
}

/**
 * A registry through core's `createRegistry` with one `git` registry named `corp` (the default for tools), a cache
 * in a temp folder (or `cacheDir`), and an empty environment.
 */
export async function openRegistry(
  config: Omit<SourceConfig, 'type'>,
  options: { cacheDir?: string; cache?: boolean; refresh?: boolean; allowHosts?: string[] } = {},
): Promise<OpenedRegistry> {
  const cacheDir = options.cacheDir ?? (await tempDir('git-cache'));
  const logger = capturingLogger();
  const warnings: RegistryWarning[] = [];
  const registry = await createRegistry(
    {
      registries: { corp: { type: 'git', ...config } as SourceConfig },
      defaultRegistries: { tool: 'corp' },
      cacheSettings: { enabled: options.cache ?? true, directory: cacheDir },
      ...(options.allowHosts ? { policy: { allowHosts: options.allowHosts } } : {}),
    },
    { sources: [gitSource()], env: {}, logger, onWarning: (warning) => warnings.push(warning), refresh: options.refresh ?? false },
  );
  return { registry, cacheDir, logger, warnings };
}

/** The code of the fetched tool, which names where it came from. */
export async function toolCode(dir: string): Promise<string> {
  return readFile(join(dir, 'src/index.js'), 'utf8');
}

/** Every file below `dir` (recursively), with its bytes. */
export async function filesBelow(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.push({ path, bytes: await readFile(path) });
    }
  };
  await walk(dir);
  return out;
}

/** Whether `text` (or its base64 form, or the Basic credentials built from it) occurs in `haystack`. */
export function leaks(haystack: string | Buffer, secret: string): boolean {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(`x-access-token:${secret}`).toString('base64')];
  return forms.some((form) => text.includes(form));
}
