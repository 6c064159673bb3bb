import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, scratch, templateRegistry, writeJsonConfig } from './helpers.js';

describe('agentos-registry CLI against examples/registry-template', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const run = (...argv: string[]): Promise<CliResult> => cli(argv, { cwd: dir });

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    // Written as agentos-registry.config.json in the working directory, so no --config is needed.
    await writeJsonConfig(dir, 'template', templateRegistry);
  });
  afterAll(() => cleanup());

  it('lists both tools and the persona as JSON', async () => {
    const result = await run('list', '--json');
    expect(result.code, result.stderr).toBe(0);
    const rows = result.json();
    expect(rows).toEqual([
      { registry: 'template', id: 'com.example.echo', name: 'Echo', version: '1.0.0', tier: 'curated', kinds: expect.any(Array), verified: false },
      { registry: 'template', id: 'com.example.calculator', name: 'Calculator', version: '1.0.0', tier: 'curated', kinds: expect.any(Array), verified: false },
      {
        registry: 'template',
        id: 'com.example.helpful-assistant',
        name: 'Helpful Assistant',
        version: '1.0.0',
        tier: 'curated',
        kinds: ['persona'],
        verified: false,
      },
    ]);
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['id', 'kinds', 'name', 'registry', 'tier', 'verified', 'version']);
  });

  it('prints an aligned table with a count line', async () => {
    const result = await run('list');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^REGISTRY\s+ID\s+VERSION\s+TIER\s+KINDS\s+VERIFIED$/);
    // Columns line up: every row has its ID where the header has ID.
    const idColumn = lines[0]!.indexOf('ID');
    for (const line of lines.slice(1, 4)) expect(line.slice(idColumn)).toMatch(/^com\.example\./);
    expect(result.stdout).toContain('3 entries');
  });

  it('filters by kind and searches', async () => {
    const personas = await run('list', '--kind', 'persona', '--json');
    expect(personas.json().map((r: { id: string }) => r.id)).toEqual(['com.example.helpful-assistant']);
    const found = await run('search', 'divides', '--json');
    expect(found.json().map((r: { id: string }) => r.id)).toEqual(['com.example.calculator']);
    const none = await run('search', 'no-such-thing');
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('0 entries matching "no-such-thing"');
  });

  it('shows info with the manifest summary', async () => {
    const result = await run('info', 'com.example.echo');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^id:\s+com\.example\.echo$/m);
    expect(result.stdout).toMatch(/^version:\s+1\.0\.0$/m);
    expect(result.stdout).toMatch(/^\s+tool\s+echo\s+Echo$/m);
  });

  it('fetches a tool and reports where its files are', async () => {
    const result = await run('fetch', 'com.example.calculator', '--json');
    expect(result.code, result.stderr).toBe(0);
    const fetched = result.json();
    expect(Object.keys(fetched).sort()).toEqual(['dir', 'fromCache', 'h1', 'id', 'integrity', 'registry', 'revision', 'stale', 'version']);
    expect(fetched.h1).toMatch(/^h1:[A-Za-z0-9+/]{43}=$/);
    expect(fetched).toMatchObject({ registry: 'template', id: 'com.example.calculator', version: '1.0.0', stale: false });
    expect(fetched.integrity).toMatch(/^sha512-/);
    expect(existsSync(fetched.dir)).toBe(true);
    expect(existsSync(`${fetched.dir}/src/index.js`)).toBe(true);
  });

  it('loads a tool pack and prints its descriptors', async () => {
    const asJson = await run('load', 'com.example.calculator', '--json');
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(asJson.json()).toEqual({ name: 'com.example.calculator', descriptors: [{ id: 'calculator', kind: 'tool' }] });

    const asText = await run('load', 'com.example.echo');
    expect(asText.code, asText.stderr).toBe(0);
    expect(asText.stdout).toContain('1 descriptor');
    expect(asText.stdout).toMatch(/^KIND\s+ID$/m);
    expect(asText.stdout).toMatch(/^tool\s+echo$/m);
  });

  it('loads the persona', async () => {
    const asJson = await run('load', 'com.example.helpful-assistant', '--kind', 'persona', '--json');
    expect(asJson.code, asJson.stderr).toBe(0);
    const { persona } = asJson.json();
    expect(persona).toMatchObject({ id: 'com.example.helpful-assistant', name: 'Helpful Assistant', version: '1.0.0' });
    expect(persona.baseSystemPrompt).toContain('calculator tool');

    const asText = await run('load', 'com.example.helpful-assistant', '--kind', 'persona');
    expect(asText.stdout).toMatch(/^name:\s+Helpful Assistant$/m);
    expect(asText.stdout).toContain('system prompt:');
  });
});
