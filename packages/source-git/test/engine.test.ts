import { isRegistryError, type RegistryError } from '@agentos-registry/core';
import { Cleanup, createGitRepo, makeTempDir } from '@agentos-registry/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { gitSource } from '../src/index.js';
import { openRegistry, pageRegistry, TOOL_ID, toolCode } from './support/registry.js';

const cleanup = new Cleanup();
let repoPath: string;
const PATH = process.env.PATH;

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir('git-engine-'))).path;
  repoPath = (await cleanup.add(createGitRepo(pageRegistry('local'), { root, name: 'local' }))).path;
});
afterEach(() => {
  process.env.PATH = PATH;
});
afterAll(() => cleanup.run());

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    if (isRegistryError(error)) return error;
    throw error;
  }
  throw new Error('resolved');
}

describe('engine selection without a git binary', () => {
  test("'auto' falls back to the isomorphic engine", async () => {
    process.env.PATH = '/nonexistent';
    const { registry } = await openRegistry({ location: repoPath });
    expect(await toolCode((await registry.fetch('tool', TOOL_ID)).dir)).toContain('// local');
    await registry.close();
  });

  test("'native', or an ssh location, is E_UNSUPPORTED saying to install git", async () => {
    process.env.PATH = '/nonexistent';
    const native = await openRegistry({ location: repoPath, engine: 'native' });
    const error = await failure(native.registry.list());
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toContain("Install git, or set `engine: 'isomorphic'`");
    await native.registry.close();
    const ssh = await openRegistry({ location: 'git@git.corp.invalid:org/registry.git' });
    expect((await failure(ssh.registry.list())).message).toContain("https:// location with `engine: 'isomorphic'`");
    await ssh.registry.close();
  });

  test('flags: none (core acts only on `local`, which a git registry is not, whatever the engine)', () => {
    const create = (config: Record<string, unknown>) =>
      gitSource().create({ type: 'git', location: 'https://git.corp.com/x.git', ...config }, { registry: 'corp', baseDir: '/', logger: console, env: {} });
    for (const config of [{}, { engine: 'isomorphic' }, { sparse: false }, { location: '/srv/registry.git' }]) expect(create(config).flags).toBeUndefined();
  });
});
