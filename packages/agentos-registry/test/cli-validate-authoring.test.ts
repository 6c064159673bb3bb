/**
 * `validate` on the authoring mistakes of issue 16, each made in a registry `init` wrote and checked by the built CLI
 * run as a subprocess: the problem names its file and json path, says how to fix it, and the exit code follows the
 * errors (and, with --strict, the warnings).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { ValidationProblem } from '../src/cli/validate.js';
import { fixturesRegistry, runBuilt, scratch } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** One problem of `validate --json`, as the CLI types it. */
type Problem = ValidationProblem;

/** A registry written by `init` in `dir/reg`. */
async function initRegistry(): Promise<{ dir: string; reg: string }> {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const made = await runBuilt(['init', 'reg'], { cwd: dir });
  expect(made.code, made.stderr).toBe(0);
  return { dir, reg: join(dir, 'reg') };
}

// biome-ignore lint/suspicious/noExplicitAny: tests edit arbitrary JSON
async function editJson(file: string, edit: (doc: Record<string, any>) => void): Promise<void> {
  const doc = JSON.parse(await readFile(file, 'utf8'));
  edit(doc);
  await writeFile(file, JSON.stringify(doc, null, 2));
}

/** Runs the built `validate` twice (JSON and text) and checks both agree on the exit code. */
async function validate(dir: string, args: string[] = []) {
  const json = await runBuilt(['validate', 'reg', '--json', ...args], { cwd: dir });
  const report = JSON.parse(json.stdout);
  const text = await runBuilt(['validate', 'reg', ...args], { cwd: dir });
  expect(text.code).toBe(json.code);
  const problems = report.problems as Problem[];
  return { code: json.code, report, problems, text: text.stdout, codes: problems.map((p) => `${p.severity} ${p.code} ${p.file}: ${p.path}`) };
}

const toolIndexPath = 'extensions.curated[0]';
const tool = (reg: string, ...parts: string[]) => join(reg, 'registry', 'curated', 'greet', ...parts);

describe('validate: each authoring mistake, by file and json path (built CLI)', () => {
  test('a registry init wrote is valid, also with --strict', async () => {
    const { dir } = await initRegistry();
    const plain = await validate(dir, ['--strict']);
    expect(plain.code).toBe(0);
    expect(plain.report).toMatchObject({ valid: true, strict: true, errors: 0, warnings: 0, entries: 2 });
  });

  test('a missing path', async () => {
    const { dir, reg } = await initRegistry();
    await rm(tool(reg), { recursive: true });
    const { code, codes, text, problems } = await validate(dir);
    expect(code).toBe(1);
    expect(codes).toEqual([`error E_ENTRY_MISSING registry.json: ${toolIndexPath}.path`]);
    expect(problems[0]!.message).toContain('Create it, or fix the path');
    expect(text).toMatch(
      /^registry\.json: extensions\.curated\[0\]\.path: error: com\.example\.greet: the folder registry\/curated\/greet does not exist\. .+ \[E_ENTRY_MISSING\]\n/,
    );
  });

  test('a duplicate id: in the same tier at the same version, across tiers, and as extension and persona', async () => {
    const { dir, reg } = await initRegistry();
    const index = join(reg, 'registry.json');
    const original = await readFile(index, 'utf8');
    await editJson(index, (doc) => {
      doc.extensions.curated.push({ ...doc.extensions.curated[0] });
    });
    const same = await validate(dir);
    expect(same.code).toBe(1);
    expect(same.codes).toEqual(['error E_DUPLICATE_ID registry.json: extensions.curated[1].id']);
    expect(same.problems[0]!.message).toContain('twice (extensions.curated[0] and extensions.curated[1])');

    await writeFile(index, original);
    await editJson(index, (doc) => {
      doc.extensions.community.push({ ...doc.extensions.curated[0], version: '2.0.0' });
      doc.personas.curated[0].id = 'com.example.greet';
    });
    const across = await validate(dir);
    expect(across.code).toBe(1);
    expect(across.codes.filter((c) => c.includes('E_DUPLICATE_ID'))).toEqual([
      'error E_DUPLICATE_ID registry.json: extensions.community[0].id',
      'error E_DUPLICATE_ID registry.json: personas.curated[0].id',
    ]);
    expect(across.problems[0]!.message).toContain('in the curated tier and in the community tier');
    expect(across.problems[1]!.message).toContain('as an extension and as a persona');
  });

  test('a version mismatch between index and manifest, and a version that is not semver', async () => {
    const { dir, reg } = await initRegistry();
    await editJson(tool(reg, 'manifest.json'), (doc) => {
      doc.version = '1.1.0';
    });
    const mismatch = await validate(dir);
    expect(mismatch.code).toBe(1);
    expect(mismatch.codes).toContain(`error E_VERSION_MISMATCH registry.json: ${toolIndexPath}.version`);
    expect(mismatch.problems.find((p) => p.code === 'E_VERSION_MISMATCH')!.message).toContain(
      'registry.json says version 1.0.0, registry/curated/greet/manifest.json says 1.1.0',
    );
    await editJson(join(reg, 'registry.json'), (doc) => {
      doc.extensions.curated[0].version = 'v1';
    });
    expect((await validate(dir)).codes).toContain(`error E_VERSION_INVALID registry.json: ${toolIndexPath}.version`);
  });

  test('a bad manifest: not JSON, or a field of the wrong type', async () => {
    const { dir, reg } = await initRegistry();
    await writeFile(tool(reg, 'manifest.json'), '{ "name": "Greet", ');
    const broken = await validate(dir);
    expect(broken.code).toBe(1);
    expect(broken.codes).toEqual(['error E_MANIFEST_INVALID registry/curated/greet/manifest.json: (root)']);
    expect(broken.problems[0]!.message).toMatch(/line \d+, column \d+/);
    await writeFile(tool(reg, 'manifest.json'), JSON.stringify({ name: 'Greet', version: '1.0.0', extensions: [{ kind: 'tool', id: 5 }] }));
    const wrong = await validate(dir);
    expect(wrong.codes).toEqual(['error E_MANIFEST_INVALID registry/curated/greet/manifest.json: extensions[0].id']);
    expect(wrong.text).toMatch(/^registry\/curated\/greet\/manifest\.json: extensions\[0\]\.id: error: .+ \[E_MANIFEST_INVALID\]\n/m);
  });

  test('a path outside the registry, by its text or through a link', async () => {
    const { dir, reg } = await initRegistry();
    await editJson(join(reg, 'registry.json'), (doc) => {
      doc.extensions.curated[0].path = '../../elsewhere';
    });
    const text = await validate(dir);
    expect(text.code).toBe(1);
    expect(text.codes).toEqual([`error E_UNSAFE_PATH registry.json: ${toolIndexPath}.path`]);
    await mkdir(join(dir, 'outside'));
    await cp(tool(reg), join(dir, 'outside', 'greet'), { recursive: true });
    await symlink(join(dir, 'outside', 'greet'), join(reg, 'registry', 'curated', 'linked'));
    await editJson(join(reg, 'registry.json'), (doc) => {
      doc.extensions.curated[0].path = 'curated/linked';
    });
    const linked = await validate(dir);
    expect(linked.codes).toEqual([`error E_UNSAFE_PATH registry.json: ${toolIndexPath}.path`]);
  });

  test('a .ts entry point says to ship built JavaScript or set package.json main; a missing one names its field', async () => {
    const { dir, reg } = await initRegistry();
    await writeFile(tool(reg, 'src', 'index.ts'), 'export function createExtensionPack(): unknown { return { name: "x", descriptors: [] }; }\n');
    await editJson(tool(reg, 'manifest.json'), (doc) => {
      doc.entry = './src/index.ts';
    });
    await editJson(tool(reg, 'package.json'), (doc) => {
      doc.main = './src/index.ts';
    });
    const ts = await validate(dir);
    expect(ts.code).toBe(1);
    expect(ts.codes).toEqual(['error E_ENTRY_POINT_NOT_JS registry/curated/greet/manifest.json: entry']);
    expect(ts.problems[0]!.message).toContain('./src/index.ts is not JavaScript');
    expect(ts.problems[0]!.message).toContain('Ship the built JavaScript');
    expect(ts.problems[0]!.message).toContain('package.json "main"');

    // Named only by package.json main: the problem is there.
    await editJson(tool(reg, 'manifest.json'), (doc) => {
      delete doc.entry;
    });
    const main = await validate(dir);
    expect(main.codes).toEqual(['error E_ENTRY_POINT_NOT_JS registry/curated/greet/package.json: main']);
    expect(main.problems[0]!.message).toContain('set package.json "main" to it');

    await rm(tool(reg, 'src'), { recursive: true });
    const missing = await validate(dir);
    expect(missing.code).toBe(1);
    // The first declared entry point (package.json main, manifest entry removed above) names where to fix it.
    expect(missing.codes).toEqual(['error E_ENTRY_POINT_MISSING registry/curated/greet/package.json: main']);
    expect(missing.problems[0]!.message).toContain('the entry point ./src/index.ts does not exist');
  });

  test('a persona without its prompt, and one with no persona file', async () => {
    const { dir, reg } = await initRegistry();
    const persona = join(reg, 'registry', 'curated', 'greeter');
    const file = existsSync(join(persona, 'persona.json')) ? 'persona.json' : 'SOUL.md';
    expect(file).toBe('persona.json');
    await editJson(join(persona, 'persona.json'), (doc) => {
      delete doc.baseSystemPrompt;
    });
    const incomplete = await validate(dir);
    expect(incomplete.code).toBe(1);
    expect(incomplete.codes).toEqual(['error E_PERSONA_INVALID registry/curated/greeter/persona.json: baseSystemPrompt']);
    await rm(join(persona, 'persona.json'));
    expect((await validate(dir)).codes).toEqual(['error E_PERSONA_MISSING registry/curated/greeter/persona.json: (root)']);
  });

  test('warnings exit 0, and 1 with --strict', async () => {
    const { dir, reg } = await initRegistry();
    await editJson(tool(reg, 'manifest.json'), (doc) => {
      doc.id = 'com.example.other';
    });
    const plain = await validate(dir);
    expect(plain.code).toBe(0);
    expect(plain.codes).toEqual(['warning W_ID_MISMATCH registry/curated/greet/manifest.json: id']);
    expect(plain.report).toMatchObject({ valid: true, strict: false, errors: 0, warnings: 1 });
    const strict = await validate(dir, ['--strict']);
    expect(strict.code).toBe(1);
    expect(strict.report).toMatchObject({ valid: false, strict: true, errors: 0, warnings: 1 });
    expect(strict.text).toContain('invalid (--strict: warnings fail): 0 errors, 1 warning\n');
  });

  test('a usage mistake is exit 2', async () => {
    const { dir } = await initRegistry();
    expect((await runBuilt(['validate', 'reg', '--strictly'], { cwd: dir })).code).toBe(2);
  });
});

describe.skipIf(!existsSync(fixturesRegistry))('validate on the real AgentOS extensions registry (built CLI)', () => {
  test('does not crash; reports its 21 index/manifest version mismatches, 7 entries without manifest.json and 1 id mismatch', async () => {
    const result = await runBuilt(['validate', fixturesRegistry, '--json'], { cwd: fixturesRegistry });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ entries: 117, errors: 21, warnings: 8 });
    const counts: Record<string, number> = {};
    for (const p of report.problems as Problem[]) counts[p.code] = (counts[p.code] ?? 0) + 1;
    expect(counts).toEqual({ E_VERSION_MISMATCH: 21, W_MANIFEST_SYNTHESIZED: 7, W_ID_MISMATCH: 1 });
  }, 60_000);
});
