import { join } from 'node:path';
import { createRegistry, isRegistryError, type Registry, type RegistryError, silentLogger, type Logger } from '@agentos-registry/core';
import { Cleanup, createGitRepo, type GitRepo, makeTempDir, type RepoFiles } from '@agentos-registry/test-servers';
import { type GitHubSourceOptions, githubSource } from '../../src/index.js';

/** The files of a registry in the page's shape with `count` tools, `tool-0` … `tool-<count-1>`, optionally under `prefix`. */
export function registryFiles(count: number, options: { prefix?: string; version?: string } = {}): Record<string, string> {
  const prefix = options.prefix ? `${options.prefix}/` : '';
  const version = options.version ?? '1.0.0';
  const curated = Array.from({ length: count }, (_, i) => ({
    id: `com.example.tool-${i}`,
    name: `Tool ${i}`,
    version,
    path: `curated/tool-${i}`,
    author: { name: 'Example', email: 'tools@example.invalid' },
  }));
  const files: Record<string, string> = {
    [`${prefix}registry.json`]: `${JSON.stringify({ version: '1.0.0', updated: '2024-11-14T00:00:00.000Z', categories: { curated: ['tools'], community: [] }, extensions: { curated } }, null, 2)}\n`,
  };
  for (let i = 0; i < count; i++) {
    const manifest = { id: `com.example.tool-${i}`, name: `Tool ${i}`, version, extensions: [{ kind: 'tool', id: `tool-${i}`, displayName: `Tool ${i}` }] };
    files[`${prefix}registry/curated/tool-${i}/manifest.json`] = `${JSON.stringify(manifest, null, 2)}\n`;
    files[`${prefix}registry/curated/tool-${i}/src/index.js`] = `export const version = '${version}';\nexport const index = ${i};\n`;
  }
  return files;
}

/** Per-test resources: temp folders, repositories, emulators and registries, all closed by `close()`. */
export class TestBed {
  readonly cleanup = new Cleanup();
  private root: string | undefined;

  async dir(): Promise<string> {
    this.root ??= (await this.cleanup.add(makeTempDir('agentos-github-test-'))).path;
    return this.root;
  }

  async repo(files: RepoFiles, name = 'extensions', branches: string[] = []): Promise<GitRepo> {
    return this.cleanup.add(createGitRepo(files, { root: join(await this.dir(), 'repos'), name, branches }));
  }

  /** A registry through core with one GitHub registry named `custom`, a private cache folder and an empty env. */
  async registry(
    config: Record<string, unknown>,
    options: { cacheDir?: string; adapter?: GitHubSourceOptions; logger?: Logger; cache?: boolean } = {},
  ): Promise<Registry> {
    const directory = options.cacheDir ?? join(await this.dir(), `cache-${Math.random().toString(36).slice(2)}`);
    const registry = await createRegistry(
      {
        registries: { custom: { type: 'github', ...config } as never },
        defaultRegistries: { tool: 'custom', persona: 'custom' },
        cacheSettings: options.cache === false ? { enabled: false } : { directory },
      },
      { sources: [githubSource({ maxRetryDelay: 2_000, ...options.adapter })], env: {}, logger: options.logger ?? silentLogger },
    );
    this.cleanup.defer(() => registry.close());
    return registry;
  }

  close(): Promise<void> {
    return this.cleanup.run();
  }
}

/** The RegistryError a promise rejects with (fails the test when it resolves or throws something else). */
export async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRegistryError(error)) throw new Error(`expected a RegistryError, got ${String(error)}`);
  return error;
}
