import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, fixturesRegistry, scratch, writeJsonConfig } from './helpers.js';

describe('agentos-registry CLI against the real AgentOS extensions registry', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let config: string;
  // Run from the scratch folder's parent so the config is found through --config only.
  const run = (...argv: string[]): Promise<CliResult> => cli(['--config', config, ...argv], { cwd: fixturesRegistry });

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    config = await writeJsonConfig(dir, 'official', fixturesRegistry);
  });
  afterAll(() => cleanup());

  it('lists 114 curated entries and 3 templates', async () => {
    const result = await run('list', '--json');
    expect(result.code, result.stderr).toBe(0);
    const rows: Array<{ tier: string; registry: string }> = result.json();
    expect(rows).toHaveLength(117);
    expect(rows.filter((r) => r.tier === 'curated')).toHaveLength(114);
    expect(rows.filter((r) => r.tier === 'templates')).toHaveLength(3);
    expect(new Set(rows.map((r) => r.registry))).toEqual(new Set(['official']));
    // Curated tiers come first.
    expect(rows.slice(0, 114).every((r) => r.tier === 'curated')).toBe(true);
  });

  it('shows web-search at its index version with three tools and the manifest drift warning', async () => {
    const result = await run('info', 'com.framers.research.web-search', '--json');
    expect(result.code, result.stderr).toBe(0);
    const info = result.json();
    expect(info).toMatchObject({ registry: 'official', id: 'com.framers.research.web-search', version: '1.1.1' });
    expect(info.manifest.extensions).toHaveLength(3);
    expect(info.manifest.extensions.map((x: { kind: string }) => x.kind)).toEqual(['tool', 'tool', 'tool']);
    expect(info.warnings.some((w: { message: string }) => w.message.includes('1.2.0'))).toBe(true);
    // The warning also reaches stderr, once.
    const stderrWarnings = result.stderr.split('\n').filter((l) => l.startsWith('warning:') && l.includes('1.2.0'));
    expect(stderrWarnings).toHaveLength(1);
  });

  it('prints info as text with the warning on stderr', async () => {
    const result = await run('info', 'com.framers.research.web-search');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^tier:\s+curated$/m);
    expect(result.stdout).toContain('3 extensions:');
    expect(result.stdout).toMatch(/^\s+tool\s+web_search\s+Web Search$/m);
    expect(result.stderr).toMatch(/^warning: .*1\.2\.0/m);
  });

  it('fetches an entry into a folder that exists', async () => {
    const result = await run('fetch', 'com.framers.research.web-search', '--json');
    expect(result.code, result.stderr).toBe(0);
    const fetched = result.json();
    expect(existsSync(fetched.dir)).toBe(true);
    expect(existsSync(`${fetched.dir}/manifest.json`)).toBe(true);
    expect(fetched.integrity).toMatch(/^sha512-/);
  });

  it('finds entries by text', async () => {
    const result = await run('search', 'web-search', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().map((r: { id: string }) => r.id)).toContain('com.framers.research.web-search');
  });

  it('answers an unknown id with E_NOT_FOUND and exit code 1', async () => {
    const asJson = await run('info', 'com.example.does-not-exist', '--json');
    expect(asJson.code).toBe(1);
    const { error } = asJson.json();
    expect(error).toMatchObject({ code: 'E_NOT_FOUND', registry: 'official' });
    expect(typeof error.message).toBe('string');

    const asText = await run('fetch', 'com.example.does-not-exist');
    expect(asText.code).toBe(1);
    expect(asText.stdout).toBe('');
    expect(asText.stderr).toMatch(/^error \[E_NOT_FOUND\] /);
  });
});
