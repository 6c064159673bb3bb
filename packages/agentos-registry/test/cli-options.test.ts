// The CLI's flags reach createRegistry and the registry calls unchanged; a fake registry records what it was asked.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CreateRegistryOptions, Registry, RegistryConfig } from '../src/index.js';
import { cli, scratch, templateRegistry, writeJsonConfig } from './helpers.js';

const seen = vi.hoisted(() => ({ options: [] as unknown[], calls: [] as unknown[][] }));

vi.mock('../src/create-registry.js', () => ({
  builtinSources: () => [],
  createRegistry: async (_config: RegistryConfig, options: CreateRegistryOptions): Promise<Registry> => {
    seen.options.push(options);
    const record =
      (name: string, result: unknown) =>
      async (...args: unknown[]) => {
        seen.calls.push([name, ...args]);
        return result;
      };
    return {
      registryNames: ['template'],
      registryFor: () => 'template',
      list: record('list', []),
      search: record('search', []),
      resolve: record('resolve', undefined),
      info: record('info', undefined),
      fetch: record('fetch', {
        registry: 'template',
        id: 'x',
        version: '1.0.0',
        dir: '/x',
        revision: 'r',
        integrity: 'sha512-x',
        fromCache: true,
        stale: true,
        warnings: [],
      }),
      load: record('load', undefined),
      close: async () => {},
    } as unknown as Registry;
  },
}));

describe('agentos-registry CLI options', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    await writeJsonConfig(dir, 'template', templateRegistry);
  });
  afterAll(() => cleanup());

  it('passes --offline, --prefer-offline and --refresh, the config folder and the environment to createRegistry', async () => {
    const env = { HOME_REGISTRY: 'x' };
    seen.options.length = 0;
    expect((await cli(['list', '--offline'], { cwd: dir, env })).code).toBe(0);
    expect((await cli(['--prefer-offline', 'list'], { cwd: dir, env })).code).toBe(0);
    expect((await cli(['search', 'x', '--refresh'], { cwd: dir, env })).code).toBe(0);
    expect((await cli(['list'], { cwd: dir, env })).code).toBe(0);
    const [offline, preferOffline, refresh, plain] = seen.options as CreateRegistryOptions[];
    expect(offline).toMatchObject({ offline: true, baseDir: dir, env });
    expect(offline?.preferOffline).toBeUndefined();
    expect(preferOffline).toMatchObject({ preferOffline: true });
    expect(refresh).toMatchObject({ refresh: true });
    expect(plain?.offline ?? plain?.preferOffline ?? plain?.refresh).toBeUndefined();
    expect(typeof plain?.onWarning).toBe('function');
    expect(plain?.logger).toBeDefined();
  });

  it('defaults the kind to tool for info/fetch/load and applies no kind filter to list/search', async () => {
    seen.calls.length = 0;
    await cli(['fetch', 'com.example.echo', '--json'], { cwd: dir });
    await cli(['fetch', 'com.example.helpful-assistant', '--kind', 'persona'], { cwd: dir });
    await cli(['list', '--registry', 'template'], { cwd: dir });
    await cli(['search', 'echo', '--kind', 'guardrail'], { cwd: dir });
    await cli(['list'], { cwd: dir });
    expect(seen.calls).toEqual([
      ['fetch', 'tool', 'com.example.echo'],
      ['fetch', 'persona', 'com.example.helpful-assistant'],
      ['list', { registry: 'template' }],
      ['search', 'echo', { kind: 'guardrail' }],
      // No entry provides guardrail: the kinds there are are listed for the hint (every registry, no filter).
      ['list', { kind: 'guardrail' }],
      ['list', {}],
      ['list', {}],
    ]);
  });

  it('says when a fetch was served stale from the cache', async () => {
    const result = await cli(['fetch', 'com.example.echo'], { cwd: dir });
    expect(result.stdout).toMatch(/^from cache:\s+yes \(stale/m);
  });
});
