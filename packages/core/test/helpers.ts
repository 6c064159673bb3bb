/**
 * Test helpers: a small source written for the tests (it implements the contract over a folder and counts its
 * calls), and builders for registry folders. Core cannot use source-file in its own tests (that would be a cycle).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { copyDirectory, defineSource, RegistryError, type SourceAdapter } from '../src/index.js';

export interface CallCounts {
  revision: number;
  readIndex: number;
  materialize: number;
}

/** A folder-backed source that copies entries (not in place) and counts calls. */
export function countingSource(type = 'dir'): { adapter: SourceAdapter; calls: CallCounts; down: { value: boolean } } {
  const calls: CallCounts = { revision: 0, readIndex: 0, materialize: 0 };
  const down = { value: false };
  const adapter = defineSource({
    type,
    options: ['extra'],
    create(config) {
      const root = config.location;
      const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      return {
        displayLocation: root,
        async revision() {
          calls.revision += 1;
          if (down.value) throw unreachable();
          const bytes = await readFile(join(root, 'registry.json'));
          return { id: createHash('sha256').update(bytes).digest('hex') };
        },
        async readIndex() {
          calls.readIndex += 1;
          return readFile(join(root, 'registry.json'));
        },
        async materialize(request, ctx) {
          calls.materialize += 1;
          if (ctx.signal.aborted) throw new RegistryError('E_ABORTED', 'aborted');
          await copyDirectory(join(root, request.path), request.destination, { signal: ctx.signal });
        },
      };
    },
  });
  return { adapter, calls, down };
}

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export async function tempDir(prefix = 'core-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Writes files (path → content; objects are JSON) under a new temp folder and returns it. */
export async function writeTree(files: Record<string, string | object>, dir?: string): Promise<string> {
  const root = dir ?? (await tempDir());
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return root;
}

/** A registry in the page's layout: one tool (runnable), one persona. */
export function pageRegistry(overrides: { toolVersion?: string } = {}): Record<string, string | object> {
  const version = overrides.toolVersion ?? '1.0.0';
  return {
    'registry.json': {
      version: '1.0.0',
      updated: '2024-11-14T00:00:00.000Z',
      categories: { curated: ['tools'], community: [] },
      extensions: {
        curated: [{ id: 'com.test.echo', name: 'Echo', version, path: 'curated/echo', author: { name: 'Test' }, tools: ['echo'] }],
        community: [{ id: 'com.test.echo', name: 'Echo (community)', version: '9.0.0', path: 'community/echo' }],
      },
      personas: { curated: [{ id: 'com.test.helper', name: 'Helper', version: '1.0.0', path: 'personas/helper' }] },
    },
    'registry/curated/echo/manifest.json': {
      id: 'com.test.echo',
      name: 'Echo',
      version,
      extensions: [{ kind: 'tool', id: 'echo', displayName: 'Echo' }],
    },
    'registry/curated/echo/package.json': { name: 'echo-tool', version, type: 'module', main: './src/index.js' },
    'registry/curated/echo/src/index.js': `export function createExtensionPack(context) {
  return {
    name: 'echo',
    version: '${version}',
    descriptors: [{ id: 'echo', kind: 'tool', payload: { execute: async (args) => ({ success: true, output: args.text + (context.options.suffix ?? '') }) } }],
    context,
  };
}
`,
    'registry/community/echo/manifest.json': { id: 'com.test.echo', name: 'Echo', version: '9.0.0' },
    'registry/personas/helper/manifest.json': { id: 'com.test.helper', name: 'Helper', version: '1.0.0' },
    'registry/personas/helper/persona.json': { id: 'com.test.helper', name: 'Helper', version: '1.0.0', baseSystemPrompt: 'You help.' },
  };
}

export const FIXTURE = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'agentos-extensions');
