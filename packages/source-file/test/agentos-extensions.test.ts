import { appendFile, chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createRegistry, hashDirectory, type Registry, type RegistryConfig, silentLogger } from '@agentos-registry/core';
import { afterEach, describe, expect, test } from 'vitest';
import { fileSource } from '../src/index.js';
import { tempDir, writableCopy } from './support/temp.js';

/** The real AgentOS extensions registry (read-only on disk): 114 curated entries and 3 templates. */
const FIXTURE = '/work/shared/fixtures/agentos-extensions';
const FIXTURES_PARENT = '/work/shared/fixtures';
const WEB_SEARCH = 'com.framers.research.web-search';

const open: Registry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((registry) => registry.close()));
});

/** A registry with one `file` registry named `internal`, as in the page's Air-Gapped Deployment example. */
async function registryAt(location: string, options: { baseDir?: string; env?: Record<string, string | undefined>; cacheDuration?: number } = {}) {
  const config: RegistryConfig = {
    registries: { internal: { type: 'file', location, ...(options.cacheDuration === undefined ? {} : { cacheDuration: options.cacheDuration }) } },
    defaultRegistries: { tool: 'internal', persona: 'internal' },
    cacheSettings: { enabled: false },
  };
  const registry = await createRegistry(config, {
    sources: [fileSource()],
    logger: silentLogger,
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  open.push(registry);
  return registry;
}

function countByTier(rows: Array<{ tier: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.tier] = (counts[row.tier] ?? 0) + 1;
  return counts;
}

describe('the real AgentOS extensions registry as a file registry', () => {
  test('list() has 114 curated entries and 3 templates', async () => {
    const rows = await (await registryAt(FIXTURE)).list();
    expect(countByTier(rows)).toEqual({ curated: 114, templates: 3 });
    expect(rows.every((row) => row.registry === 'internal')).toBe(true);
  });

  test(`fetch('tool', '${WEB_SEARCH}') serves its folder in place`, async () => {
    const fetched = await (await registryAt(FIXTURE)).fetch('tool', WEB_SEARCH);
    const folder = join(FIXTURE, 'registry/curated/research/web-search');
    expect(fetched.dir).toBe(folder);
    expect(fetched.integrity).toBe(await hashDirectory(folder));
    expect(fetched.manifest.id).toBe(WEB_SEARCH);
    expect(fetched.provenance).toMatchObject({ registry: 'internal', sourceType: 'file', location: FIXTURE });
    expect(fetched.revision).toMatch(/^fs-[0-9a-f]{40}$/);
  });

  test('entry paths resolve from the repository root, templates included', async () => {
    const registry = await registryAt(FIXTURE);
    expect((await registry.fetch('tool', 'com.framers.template.basic-tool')).dir).toBe(join(FIXTURE, 'templates/basic-tool'));
    expect((await registry.fetch('tool', 'com.framers.channels.telegram')).dir).toBe(join(FIXTURE, 'registry/curated/channels/telegram'));
  });

  test('a relative location is relative to baseDir', async () => {
    const registry = await registryAt('agentos-extensions', { baseDir: FIXTURES_PARENT });
    expect((await registry.fetch('tool', WEB_SEARCH)).dir).toBe(join(FIXTURE, 'registry/curated/research/web-search'));
    const dotted = await registryAt('./fixtures/../fixtures/agentos-extensions', { baseDir: '/work/shared' });
    expect(await dotted.list()).toHaveLength(117);
  });

  test('without baseDir a relative location is relative to the working directory', async () => {
    const registry = await registryAt(relative(process.cwd(), FIXTURE));
    expect(await registry.list()).toHaveLength(117);
  });

  test('~ expands to the home folder', async () => {
    const registry = await registryAt('~/agentos-extensions', { env: { ...process.env, HOME: FIXTURES_PARENT } });
    expect((await registry.fetch('tool', WEB_SEARCH)).dir).toBe(join(FIXTURE, 'registry/curated/research/web-search'));
  });
});

describe('edits to a file registry', () => {
  /** A writable copy of the index and one category folder: enough to edit, and quick to make. */
  async function editableCopy(): Promise<string> {
    const root = join(await tempDir('agentos-extensions'), 'registry');
    await writableCopy(join(FIXTURE, 'registry/curated/research'), join(root, 'registry/curated/research'));
    await copyFile(join(FIXTURE, 'registry.json'), join(root, 'registry.json'));
    await chmod(join(root, 'registry.json'), 0o644);
    return root;
  }

  async function revisionOf(root: string): Promise<string> {
    const source = fileSource().create({ type: 'file', location: root }, { registry: 'internal', baseDir: '/', logger: silentLogger, env: {} });
    const revision = await source.revision({ registry: 'internal', signal: new AbortController().signal, logger: silentLogger, workDir: root });
    if (revision === 'unchanged') throw new Error('a file source never answers unchanged');
    return revision.id;
  }

  test('the revision is stable, and changes with any edit, addition or removal', async () => {
    const root = await editableCopy();
    const first = await revisionOf(root);
    expect(await revisionOf(root)).toBe(first);

    await appendFile(join(root, 'registry/curated/research/web-search/manifest.json'), '\n');
    const edited = await revisionOf(root);
    expect(edited).not.toBe(first);

    await writeFile(join(root, 'registry/curated/research/web-search/README.md'), '# Web search\n');
    const added = await revisionOf(root);
    expect(added).not.toBe(edited);

    await rm(join(root, 'registry/curated/research/web-search/README.md'));
    expect(await revisionOf(root)).not.toBe(added);
  });

  test('node_modules and .git do not count as changes', async () => {
    const root = await editableCopy();
    const before = await revisionOf(root);
    await mkdir(join(root, 'node_modules/some-dependency'), { recursive: true });
    await writeFile(join(root, 'node_modules/some-dependency/index.js'), 'export {};\n');
    await mkdir(join(root, 'registry/curated/research/web-search/.git'), { recursive: true });
    await writeFile(join(root, 'registry/curated/research/web-search/.git/HEAD'), 'ref: refs/heads/main\n');
    expect(await revisionOf(root)).toBe(before);
  });

  test('a running registry sees edits once its cacheDuration has passed', async () => {
    const root = await editableCopy();
    const registry = await registryAt(root, { cacheDuration: 0 });
    expect(await registry.list()).toHaveLength(117);

    const indexFile = join(root, 'registry.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { extensions: { templates: unknown[] } };
    index.extensions.templates = [];
    await writeFile(indexFile, JSON.stringify(index, null, 2));
    expect(await registry.list()).toHaveLength(114);

    await appendFile(join(root, 'registry/curated/research/web-search/manifest.json'), '\n');
    const fetched = await registry.fetch('tool', WEB_SEARCH);
    expect(fetched.integrity).toBe(await hashDirectory(join(root, 'registry/curated/research/web-search')));
  });
});
