/**
 * `agentos-registry index [dir]` regenerates registry.json from the entry folders, keeping hand-written fields, and
 * `index --check` exits 1 when registry.json has drifted from the folders (a registry's own CI). Built CLI, subprocess.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, scratch, templateRegistry } from './helpers.js';

describe('index', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
  });
  afterAll(() => cleanup());

  const readIndex = async (reg: string) => JSON.parse(await readFile(join(reg, 'registry.json'), 'utf8'));

  it('a registry from init is up to date; a new entry, a version bump and a removed folder are drift that index fixes', async () => {
    expect((await runBuilt(['init', 'reg'], { cwd: dir })).code).toBe(0);
    const reg = join(dir, 'reg');
    const before = await readFile(join(reg, 'registry.json'), 'utf8');
    const clean = await runBuilt(['index', 'reg', '--check'], { cwd: dir });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toContain('up to date');
    // Regenerating an up-to-date index changes nothing, not even `updated`.
    expect((await runBuilt(['index', 'reg'], { cwd: dir })).code).toBe(0);
    expect(await readFile(join(reg, 'registry.json'), 'utf8')).toBe(before);

    // A hand-written field in the index, a new tool folder, and a version bump in a manifest.
    const doc = JSON.parse(before);
    doc.extensions.curated[0].tools = ['greet'];
    doc.extensions.curated[0].homepage = 'https://example.com/greet';
    doc.owner = 'kept';
    await writeFile(join(reg, 'registry.json'), `${JSON.stringify(doc, null, 2)}\n`);
    expect((await runBuilt(['index', 'reg', '--check'], { cwd: dir })).code).toBe(0);

    await cp(join(templateRegistry, 'registry', 'curated', 'echo'), join(reg, 'registry', 'community', 'echo'), { recursive: true });
    const manifestFile = join(reg, 'registry', 'curated', 'greet', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.version = '1.1.0';
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));

    const drift = await runBuilt(['index', 'reg', '--check'], { cwd: dir });
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('out of date');
    // --check writes nothing.
    expect(await readIndex(reg)).toEqual(doc);

    const wrote = await runBuilt(['index', 'reg'], { cwd: dir });
    expect(wrote.code, wrote.stderr).toBe(0);
    const after = await readIndex(reg);
    expect(after.owner).toBe('kept');
    expect(after.extensions.curated).toEqual([{ ...doc.extensions.curated[0], version: '1.1.0' }]);
    expect(after.extensions.community).toEqual([
      expect.objectContaining({ id: 'com.example.echo', name: 'Echo', version: '1.0.0', path: 'community/echo', description: expect.any(String) }),
    ]);
    expect(after.personas.curated.map((p: { id: string }) => p.id)).toEqual(['com.example.greeter']);
    expect(after.updated).not.toBe(doc.updated);
    expect((await runBuilt(['index', 'reg', '--check'], { cwd: dir })).code).toBe(0);
    const valid = await runBuilt(['validate', 'reg'], { cwd: dir });
    expect(valid.code, valid.stdout).toBe(0);

    await rm(join(reg, 'registry', 'community', 'echo'), { recursive: true });
    expect((await runBuilt(['index', 'reg', '--check'], { cwd: dir })).code).toBe(1);
    expect((await runBuilt(['index', 'reg'], { cwd: dir })).code).toBe(0);
    expect((await readIndex(reg)).extensions.community).toEqual([]);
  });

  it('keeps root-relative paths (registry/curated/x) in a registry written that way, such as the real AgentOS one', async () => {
    const reg = join(dir, 'rooted');
    await mkdir(join(reg, 'registry', 'curated', 'tools'), { recursive: true });
    await cp(join(templateRegistry, 'registry', 'curated', 'echo'), join(reg, 'registry', 'curated', 'tools', 'echo'), { recursive: true });
    await cp(join(templateRegistry, 'registry', 'curated', 'calculator'), join(reg, 'registry', 'curated', 'tools', 'calculator'), { recursive: true });
    const index = {
      version: '1.0.0',
      updated: '2025-01-01T00:00:00.000Z',
      extensions: {
        curated: [{ id: 'com.example.echo', name: 'Echo', version: '1.0.0', path: 'registry/curated/tools/echo', category: 'tool', verified: true }],
      },
    };
    await writeFile(join(reg, 'registry.json'), JSON.stringify(index, null, 2));
    expect((await runBuilt(['index', '--check'], { cwd: reg })).code).toBe(1);
    expect((await runBuilt(['index'], { cwd: reg })).code).toBe(0);
    const after = await readIndex(reg);
    expect(after.extensions.curated).toEqual([
      index.extensions.curated[0],
      expect.objectContaining({ id: 'com.example.calculator', path: 'registry/curated/tools/calculator' }),
    ]);
  });

  it('a folder without registry/ is a usage error (exit 2)', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const result = await runBuilt(['index'], { cwd: empty });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('registry/');
  });
});
