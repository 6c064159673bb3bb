import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractTarball, hashDirectory } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { packRegistry } from '../src/index.js';
import { codeOf, filesUnder, templateCopy, templateRegistry, tempDir } from './support/scene.js';

const sri = (bytes: Uint8Array) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

/** Every file of a folder with its bytes, for byte-for-byte comparisons of two sites. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await filesUnder(dir)) out[rel] = (await readFile(join(dir, rel))).toString('base64');
  return out;
}

describe('packRegistry', () => {
  test('packing the example registry: one tarball per entry, dist added, every other field as written', async () => {
    const site = await tempDir('site');
    const result = await packRegistry(templateRegistry, site);
    const original = JSON.parse(await readFile(join(templateRegistry, 'registry.json'), 'utf8'));
    const written = JSON.parse(await readFile(join(site, 'registry.json'), 'utf8'));

    expect(result.entries.map((e) => `${e.section}.${e.tier} ${e.id}@${e.version} ${e.path}`)).toEqual([
      'extensions.curated com.example.echo@1.0.0 registry/curated/echo',
      'extensions.curated com.example.calculator@1.0.0 registry/curated/calculator',
      'personas.curated com.example.helpful-assistant@1.0.0 registry/personas/helpful-assistant',
    ]);
    expect(result.bytes).toBe(result.entries.reduce((sum, e) => sum + e.bytes, 0));
    expect(result.index).toBe(join(site, 'registry.json'));

    for (const entry of result.entries) {
      const bytes = await readFile(join(site, entry.tarball));
      expect(bytes.length).toBe(entry.bytes);
      expect(sri(bytes)).toBe(entry.integrity);
      expect(entry.tarball).toMatch(new RegExp(`^tarballs/${entry.id}-${entry.version}-[0-9a-f]{16}\\.tgz$`));
      // The tarball holds the entry's files under package/, which the url source strips.
      const out = await tempDir('extracted');
      await extractTarball(bytes, out, { strip: 1 });
      expect(await hashDirectory(out)).toBe(await hashDirectory(join(templateRegistry, entry.path)));
    }
    // Without dist, the site's index is the registry's index: paths kept, nothing dropped or reordered.
    const dists: unknown[] = [];
    for (const section of ['extensions', 'personas']) {
      for (const list of Object.values(written[section]) as Array<Array<Record<string, unknown>>>) {
        for (const entry of list) {
          dists.push(entry.dist);
          delete entry.dist;
        }
      }
    }
    expect(written).toEqual(original);
    expect(JSON.stringify(written)).toBe(JSON.stringify(original));
    expect(dists).toEqual(result.entries.map((e) => ({ tarball: e.tarball, integrity: e.integrity })));
  });

  test('is deterministic: two packs of the same folder (different copies, mtimes, targets) give the same bytes', async () => {
    const one = await tempDir('site-one');
    const two = await tempDir('site-two');
    await packRegistry(templateRegistry, one);
    // A copy of the registry has other mtimes and inode order; the site must not change.
    await packRegistry(await templateCopy(), two);
    expect(await snapshot(two)).toEqual(await snapshot(one));
    // Packing again into the same site rewrites nothing, not even the mtimes (servers derive ETags from them).
    const before = await snapshot(one);
    const mtimes = await Promise.all((await filesUnder(one)).map(async (rel) => (await stat(join(one, rel))).mtimeMs));
    await packRegistry(templateRegistry, one);
    expect(await snapshot(one)).toEqual(before);
    expect(await Promise.all((await filesUnder(one)).map(async (rel) => (await stat(join(one, rel))).mtimeMs))).toEqual(mtimes);
  });

  test("the real registry's root-relative layout: paths from the root, extra tiers, package names, kept as written", async () => {
    const root = await tempDir('root-layout');
    await mkdir(join(root, 'registry/templates/starter'), { recursive: true });
    await writeFile(join(root, 'registry/templates/starter/manifest.json'), '{"name":"Starter","version":"0.1.0"}\n');
    const index = {
      version: '1.0.0',
      extensions: {
        templates: [{ id: 'starter', name: 'Starter', version: '0.1.0', path: 'registry/templates/starter', package: '@x/starter', category: 'templates' }],
      },
    };
    await writeFile(join(root, 'registry.json'), JSON.stringify(index));
    const site = await tempDir('site');
    const result = await packRegistry(root, site);
    expect(result.entries.map((e) => [e.tier, e.path])).toEqual([['templates', 'registry/templates/starter']]);
    const written = JSON.parse(await readFile(join(site, 'registry.json'), 'utf8'));
    expect(written.extensions.templates[0]).toEqual({
      ...index.extensions.templates[0],
      dist: { tarball: result.entries[0]!.tarball, integrity: result.entries[0]!.integrity },
    });
  });

  test('a changed entry gets a new tarball name; the old tarball stays for clients holding the old index', async () => {
    const registry = await templateCopy();
    const site = await tempDir('site');
    const first = await packRegistry(registry, site);
    await writeFile(join(registry, 'registry/curated/echo/src/index.js'), 'export const changed = true;\n');
    const second = await packRegistry(registry, site);
    expect(second.entries[0]!.tarball).not.toBe(first.entries[0]!.tarball);
    expect(second.entries[1]!.tarball).toBe(first.entries[1]!.tarball);
    expect(await filesUnder(join(site, 'tarballs'))).toContain(first.entries[0]!.tarball.slice('tarballs/'.length));
  });

  test('refuses what a reader would refuse, and an output folder that would overwrite the input', async () => {
    const escaping = await templateCopy();
    const index = JSON.parse(await readFile(join(escaping, 'registry.json'), 'utf8'));
    index.extensions.curated[0].path = '../../outside';
    await writeFile(join(escaping, 'registry.json'), JSON.stringify(index));
    expect(await codeOf(packRegistry(escaping, await tempDir('site')))).toBe('E_UNSAFE_PATH');

    const linked = await templateCopy();
    await writeFile(join(linked, 'secret.txt'), 'not part of any entry\n');
    await symlink('../../../secret.txt', join(linked, 'registry/curated/echo/leak.txt'));
    expect(await codeOf(packRegistry(linked, await tempDir('site')))).toBe('E_UNSAFE_PATH');

    const missing = await templateCopy();
    const withGhost = JSON.parse(await readFile(join(missing, 'registry.json'), 'utf8'));
    withGhost.extensions.curated.push({ id: 'ghost', name: 'Ghost', version: '1.0.0', path: 'curated/ghost' });
    await writeFile(join(missing, 'registry.json'), JSON.stringify(withGhost));
    expect(await codeOf(packRegistry(missing, await tempDir('site')))).toBe('E_NOT_FOUND');

    expect(await codeOf(packRegistry(await tempDir('empty'), await tempDir('site')))).toBe('E_NOT_FOUND');
    const same = await templateCopy();
    expect(await codeOf(packRegistry(same, same))).toBe('E_CONFIG');
    expect(await codeOf(packRegistry(same, join(same, 'registry/curated/echo/site')))).toBe('E_CONFIG');
  });
});
