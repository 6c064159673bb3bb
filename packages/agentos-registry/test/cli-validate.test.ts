/**
 * `agentos-registry validate [dir]` (issue 14): registry.json parses as hosts parse it, every entry path is a folder
 * inside, and a signed index's shape, signatures (with --public-key), expiry and entry h1s hold. Real folders, real
 * keys, the real AgentOS registry.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { ValidationProblem } from '../src/cli/validate.js';
import { cli, fixturesRegistry, scratch, templateRegistry } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** One problem of `validate --json`, as the CLI types it. */
type Problem = ValidationProblem;

/** A copy of the template registry in a scratch folder (`dir/registry`). */
async function template(): Promise<{ dir: string; registry: string }> {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const registry = join(dir, 'registry');
  await cp(templateRegistry, registry, { recursive: true });
  return { dir, registry };
}

/** The template, signed by a new key; the public key is written to `dir/owner.pub`. */
async function signed(expires = '30d'): Promise<{ dir: string; registry: string; keyId: string; publicKey: string }> {
  const { dir, registry } = await template();
  const { keyId, publicKey } = (await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir })).json<{ keyId: string; publicKey: string }>();
  await writeFile(join(dir, 'owner.pub'), `${publicKey}\n`);
  const sign = await cli(['sign', 'registry', '--key', 'owner.key', '--name', 'internal', '--expires', expires, '--json'], { cwd: dir });
  expect(sign.code, sign.stdout).toBe(0);
  return { dir, registry, keyId, publicKey };
}

async function validate(dir: string, args: string[] = []) {
  const result = await cli(['validate', 'registry', '--json', ...args], { cwd: dir });
  const report = result.json();
  // The exit code follows the errors, never the warnings.
  expect(result.code).toBe(report.errors > 0 ? 1 : 0);
  expect(report.valid).toBe(report.errors === 0);
  const problems = report.problems as Problem[];
  return { report, problems, codes: problems.map((p) => `${p.severity} ${p.code} ${p.path}`) };
}

// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary JSON
async function editIndex(registry: string, edit: (doc: Record<string, any>) => void): Promise<void> {
  const file = join(registry, 'registry.json');
  const doc = JSON.parse(await readFile(file, 'utf8'));
  edit(doc);
  await writeFile(file, JSON.stringify(doc, null, 2));
}

describe('validate: the index and entry paths', () => {
  test('the template registry is valid and unsigned; the text output says so', async () => {
    const { dir } = await template();
    const { report, problems } = await validate(dir);
    expect(report).toMatchObject({ valid: true, errors: 0, warnings: 0, entries: 3, signature: { signed: false } });
    expect(problems).toEqual([]);
    const text = await cli(['validate', 'registry'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${join(dir, 'registry')}: 3 entries, unsigned\nvalid: 0 errors, 0 warnings\n`);
  });

  test('no registry.json, or one that is not JSON, or one with a wrong field: an error naming file and json path, exit 1', async () => {
    const { dir, registry } = await template();
    const file = join(registry, 'registry.json');
    const original = await readFile(file, 'utf8');
    await rm(file);
    expect((await validate(dir)).codes).toEqual(['error E_INDEX_MISSING (root)']);
    await writeFile(file, original.replace('"extensions"', '"extensions" "x"'));
    const broken = await validate(dir);
    expect(broken.codes).toEqual(['error E_INDEX_INVALID (root)']);
    expect(broken.problems[0]!.message).toMatch(/line \d+, column \d+/);
    await writeFile(file, original);
    await editIndex(registry, (doc) => {
      doc.extensions.curated[1].version = 2;
    });
    const wrong = await validate(dir);
    expect(wrong.codes).toEqual(['error E_INDEX_INVALID extensions.curated[1].version']);
    const text = await cli(['validate', 'registry'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^registry\.json: extensions\.curated\[1\]\.version: error: .+ \[E_INDEX_INVALID\]\n/);
    expect(text.stdout).toContain('invalid: 1 error, 0 warnings\n');
  });

  test('a path that escapes, a missing folder, a file instead of a folder, a link out of the registry', async () => {
    const { dir, registry } = await template();
    await editIndex(registry, (doc) => {
      doc.extensions.curated[0].path = '../../outside';
    });
    expect((await validate(dir)).codes).toEqual(['error E_UNSAFE_PATH extensions.curated[0].path']);
    await mkdir(join(dir, 'outside'));
    await symlink(join(dir, 'outside'), join(registry, 'registry', 'curated', 'out'));
    await writeFile(join(registry, 'registry', 'curated', 'a-file'), 'x');
    await editIndex(registry, (doc) => {
      doc.extensions.curated[0].path = 'curated/nope';
      doc.extensions.curated[1].path = 'curated/a-file';
      doc.personas.curated[0].path = 'curated/out';
    });
    const { codes, problems } = await validate(dir);
    expect(codes).toEqual([
      'error E_ENTRY_MISSING extensions.curated[0].path',
      'error E_ENTRY_NOT_FOLDER extensions.curated[1].path',
      'error E_UNSAFE_PATH personas.curated[0].path',
    ]);
    expect(problems[0]!.message).toContain('registry/curated/nope does not exist');
  });
});

describe('validate: a signed index', () => {
  test('without keys: shape, expiry and h1 are checked, the signatures are not (a warning); with the key file or the key itself: valid', async () => {
    const { dir, keyId, publicKey } = await signed();
    const unchecked = await validate(dir);
    expect(unchecked.codes).toEqual(['warning W_SIGNATURES_UNCHECKED signatures']);
    expect(unchecked.report.signature).toMatchObject({ signed: true, name: 'internal', version: 1, keyIds: null, threshold: null });
    for (const key of ['owner.pub', publicKey]) {
      const checked = await validate(dir, ['--public-key', key]);
      expect(checked.codes).toEqual([]);
      expect(checked.report.signature).toMatchObject({ signed: true, name: 'internal', keyIds: [keyId], threshold: 1 });
    }
    const text = await cli(['validate', 'registry', '--public-key', 'owner.pub'], { cwd: dir });
    expect(text.stdout).toContain(`3 entries, signed for "internal", version 1, expires `);
    expect(text.stdout).toContain(`valid signatures by ${keyId} (threshold 1)`);
  });

  test('an entry file changed after signing is E_H1_MISMATCH at its signed h1, with or without keys', async () => {
    const { dir, registry } = await signed();
    await writeFile(join(registry, 'registry', 'curated', 'echo', 'extra.js'), 'export {};\n');
    for (const args of [[], ['--public-key', 'owner.pub']]) {
      const { codes } = await validate(dir, args);
      expect(codes).toContain('error E_H1_MISMATCH signed.entries["registry/curated/echo"]');
      expect(codes.filter((c) => c.startsWith('error'))).toHaveLength(1);
    }
  });

  test('an index edited after signing verifies only without keys; with the key it is E_SIGNATURE', async () => {
    const { dir, registry } = await signed();
    await editIndex(registry, (doc) => {
      doc.extensions.curated[0].description = 'changed';
    });
    expect((await validate(dir)).report.errors).toBe(0);
    const checked = await validate(dir, ['--public-key', 'owner.pub']);
    expect(checked.codes).toEqual(['error E_SIGNATURE signatures']);
    expect(checked.problems[0]!.message).toContain('do not match the index');
  });

  test('an unknown key, too few signatures for --threshold, another identity: E_SIGNATURE; both keys at threshold 2: valid', async () => {
    const { dir, keyId } = await signed();
    const other = (await cli(['keygen', '--out', 'other.key', '--json'], { cwd: dir })).json<{ keyId: string; publicKey: string }>();
    expect((await validate(dir, ['--public-key', other.publicKey])).codes).toEqual(['error E_SIGNATURE signatures']);
    expect((await validate(dir, ['--public-key', 'owner.pub', '--public-key', other.publicKey, '--threshold', '2'])).codes).toEqual([
      'error E_SIGNATURE signatures',
    ]);
    expect((await validate(dir, ['--public-key', 'owner.pub', '--name', 'elsewhere'])).codes).toEqual(['error E_SIGNATURE signed.name']);
    expect((await cli(['sign', 'registry', '--key', 'owner.key', '--key', 'other.key', '--json'], { cwd: dir })).code).toBe(0);
    const both = await validate(dir, ['--public-key', 'owner.pub', '--public-key', other.publicKey, '--threshold', '2', '--name', 'internal']);
    expect(both.codes).toEqual([]);
    expect([...both.report.signature.keyIds].sort()).toEqual([keyId, other.keyId].sort());
  });

  test('expired is an error, expiring within 7 days a warning', async () => {
    const expired = await signed('2020-01-01T00:00:00.000Z');
    expect((await validate(expired.dir, ['--public-key', 'owner.pub'])).codes).toEqual(['error E_EXPIRED signed.expires']);
    const soon = await signed('2d');
    expect((await validate(soon.dir, ['--public-key', 'owner.pub'])).codes).toEqual(['warning W_EXPIRES_SOON signed.expires']);
  });

  test('an entry added after signing has no h1 (E_H1_MISSING); one removed leaves an h1 nobody uses (W_SIGNED_EXTRA)', async () => {
    const { dir, registry } = await signed();
    await cp(join(registry, 'registry', 'curated', 'echo'), join(registry, 'registry', 'curated', 'echo2'), { recursive: true });
    const manifest = join(registry, 'registry', 'curated', 'echo2', 'manifest.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"com.example.echo"', '"com.example.echo2"'));
    await editIndex(registry, (doc) => {
      doc.extensions.curated.push({ ...doc.extensions.curated[0], id: 'com.example.echo2', path: 'curated/echo2' });
    });
    expect((await validate(dir)).codes).toEqual(['warning W_SIGNATURES_UNCHECKED signatures', 'error E_H1_MISSING signed.entries["registry/curated/echo2"]']);
    await editIndex(registry, (doc) => {
      doc.extensions.curated.splice(0, 1);
      doc.extensions.curated.pop();
    });
    expect((await validate(dir)).codes).toEqual([
      'warning W_SIGNATURES_UNCHECKED signatures',
      'warning W_SIGNED_EXTRA signed.entries["registry/curated/echo"]',
    ]);
  });

  test('a malformed signed block or signature list is E_SIGNED_FORMAT naming the field; an executable file is E_H1_UNHASHABLE', async () => {
    const { dir, registry } = await signed();
    const file = join(registry, 'registry.json');
    const original = await readFile(file, 'utf8');
    await editIndex(registry, (doc) => {
      delete doc.signatures;
    });
    expect((await validate(dir)).codes).toEqual(['error E_SIGNED_FORMAT signatures']);
    await writeFile(file, original);
    await editIndex(registry, (doc) => {
      doc.signed.version = 'seven';
    });
    expect((await validate(dir)).codes).toEqual(['error E_SIGNED_FORMAT signed.version']);
    await writeFile(file, original);
    await editIndex(registry, (doc) => {
      doc.signatures[0].sig = 'c2hvcnQ=';
    });
    expect((await validate(dir)).codes).toEqual(['error E_SIGNED_FORMAT signatures[0]']);
    await writeFile(file, original);
    await chmod(join(registry, 'registry', 'curated', 'calculator', 'src', 'index.js'), 0o755);
    expect((await validate(dir)).codes).toContain('error E_H1_UNHASHABLE signed.entries["registry/curated/calculator"]');
  });

  test('--public-key on an unsigned index is E_UNSIGNED; usage mistakes are E_USAGE', async () => {
    const { dir, publicKey } = await signed();
    const plain = await template();
    await writeFile(join(plain.dir, 'owner.pub'), publicKey);
    expect((await validate(plain.dir, ['--public-key', 'owner.pub'])).codes).toEqual(['error E_UNSIGNED (root)']);
    for (const args of [
      ['--threshold', '1'],
      ['--public-key', 'owner.pub', '--threshold', '2'],
      ['--public-key', 'no-such-file-nor-key'],
    ]) {
      const result = await cli(['validate', 'registry', '--json', ...args], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.json().error.code).toBe('E_USAGE');
    }
  });
});

describe('validate: a packed url site', () => {
  test('its entry folders are where it was packed from (--entries): valid signed with them, E_ENTRY_MISSING without', async () => {
    const { dir } = await template();
    expect((await cli(['pack', 'registry', '--out', 'site'], { cwd: dir })).code).toBe(0);
    const { publicKey } = (await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir })).json<{ publicKey: string }>();
    expect((await cli(['sign', 'site', '--key', 'owner.key', '--name', 'site', '--entries', 'registry'], { cwd: dir })).code).toBe(0);
    const result = await cli(['validate', 'site', '--json', '--public-key', publicKey, '--entries', 'registry'], { cwd: dir });
    expect(result.code, result.stdout).toBe(0);
    expect(result.json().problems).toEqual([]);
    const without = await cli(['validate', 'site', '--json', '--public-key', publicKey], { cwd: dir });
    expect(without.code).toBe(1);
    expect(new Set(without.json().problems.map((p: Problem) => p.code))).toEqual(new Set(['E_ENTRY_MISSING']));
  });
});

describe.skipIf(!existsSync(fixturesRegistry))('validate on the real AgentOS extensions registry', () => {
  test('117 entries, unsigned, with its own drift (see cli-validate-authoring); once signed every entry hashes to its signed h1', async () => {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    await cp(fixturesRegistry, join(dir, 'registry'), { recursive: true });
    const plain = await validate(dir);
    expect(plain.report).toMatchObject({ valid: false, entries: 117, errors: 21, warnings: 8, signature: { signed: false } });
    // The registry's own problems (version drift, missing manifests) stay; signing adds none.
    const own = plain.codes;
    const { publicKey } = (await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir })).json<{ publicKey: string }>();
    expect((await cli(['sign', 'registry', '--key', 'owner.key', '--name', 'official'], { cwd: dir })).code).toBe(0);
    const checked = await validate(dir, ['--public-key', publicKey, '--name', 'official']);
    expect(checked.codes).toEqual(own);
    expect(checked.report.signature).toMatchObject({ signed: true, name: 'official' });
    expect(checked.report.entries).toBe(117);
  }, 60_000);
});
