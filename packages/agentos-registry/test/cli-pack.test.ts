import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, scratch, templateRegistry } from './helpers.js';

async function filesOf(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, await filesOf(dir, path));
    else
      out[path] = createHash('sha256')
        .update(await readFile(join(dir, path)))
        .digest('hex');
  }
  return out;
}

describe('agentos-registry pack', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const run = (...argv: string[]): Promise<CliResult> => cli(argv, { cwd: dir });

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
  });
  afterAll(() => cleanup());

  it('packs the example registry into a site, with --json describing every tarball', async () => {
    const result = await run('pack', templateRegistry, '--out', 'site', '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = result.json();
    expect(report).toMatchObject({ registry: templateRegistry, out: join(dir, 'site'), index: join(dir, 'site', 'registry.json'), count: 3 });
    expect(report.entries.map((e: { id: string }) => e.id)).toEqual(['com.example.echo', 'com.example.calculator', 'com.example.helpful-assistant']);
    let total = 0;
    for (const entry of report.entries) {
      const bytes = await readFile(join(dir, 'site', entry.tarball));
      expect(entry).toMatchObject({ version: '1.0.0', bytes: bytes.length, integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}` });
      total += bytes.length;
    }
    expect(report.bytes).toBe(total);
    const index = JSON.parse(await readFile(join(dir, 'site', 'registry.json'), 'utf8'));
    expect(index.extensions.curated[0].dist).toEqual({ tarball: report.entries[0].tarball, integrity: report.entries[0].integrity });
    expect(index.extensions.curated[0].path).toBe('curated/echo');
  });

  it('is deterministic: packing twice gives byte-identical sites', async () => {
    expect((await run('pack', templateRegistry, '--out', 'one')).code).toBe(0);
    expect((await run('pack', templateRegistry, '-o', 'two')).code).toBe(0);
    expect(await filesOf(join(dir, 'two'))).toEqual(await filesOf(join(dir, 'one')));
  });

  it('prints a summary for people', async () => {
    const result = await run('pack', templateRegistry, '--out', 'text-site');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Packed 3 entries \(.+\) into .+text-site\n/);
    expect(result.stdout).toMatch(/^ID\s+VERSION\s+SIZE\s+TARBALL$/m);
    expect(result.stdout).toContain("type: 'url'");
  });

  it('reports what is wrong: no --out, a folder without registry.json', async () => {
    const usage = await run('pack', templateRegistry, '--json');
    expect(usage.code).toBe(2);
    expect(usage.json().error.code).toBe('E_USAGE');
    const missing = await run('pack', dir, '--out', 'nowhere', '--json');
    expect(missing.code).toBe(1);
    expect(missing.json().error).toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('registry.json') });
    const text = await run('pack', dir, '--out', 'nowhere');
    expect(text.stderr).toMatch(/^error \[E_NOT_FOUND\]/);
  });
});
