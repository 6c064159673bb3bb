/**
 * A file that fails to parse is named, with the position of the fault, and never quoted (issue 11): JSON.parse's
 * SyntaxError quotes the bytes, and a registry.json linked to /etc/passwd put `root:x:0:0…` into the message. Every
 * reader of JSON a registry or user supplies is covered: the index, manifests, package.json, persona.json, config
 * files, and whatever a source throws. `__proto__` keys, which JSON.parse keeps but every copy loses, are refused.
 */
import { execFile } from 'node:child_process';
import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRegistry, defineSource, loadConfigFile, RegistryError } from '../src/index.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

/** What a file outside the registry might hold; none of it may appear in any error. */
const SECRET = 'root:x:0:0:SECRET-CONTENT:/root:/bin/bash\nsecond line\n';

function expectNoContent(error: unknown): RegistryError {
  expect(error, 'expected a RegistryError').toBeInstanceOf(RegistryError);
  const shown = [(error as RegistryError).message, JSON.stringify(error), inspect(error, { depth: 10 })].join('\n');
  for (const piece of ['SECRET', 'root:x', 'second line', '/bin/bash']) expect(shown).not.toContain(piece);
  return error as RegistryError;
}

async function settle(work: () => Promise<unknown>): Promise<unknown> {
  return work().then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function withRegistry(
  files: Record<string, string | object>,
  act: (registry: Awaited<ReturnType<typeof createRegistry>>, dir: string) => Promise<unknown>,
) {
  const dir = await writeTree(files);
  const registry = await createRegistry(
    { registries: { corp: { type: 'dir', location: dir } }, defaultRegistries: { tool: 'corp', persona: 'corp' } },
    { sources: [countingSource('dir').adapter], env: { AGENTOS_REGISTRY_CACHE: await tempDir() } },
  );
  try {
    return await settle(() => act(registry, dir));
  } finally {
    await registry.close();
  }
}

describe('a file that is not JSON is named with a position, never quoted', () => {
  it('registry.json linked to a file that is not JSON (as to /etc/passwd): E_INDEX_INVALID at line 1, column 1', async () => {
    const outside = join(await tempDir(), 'passwd');
    await writeFile(outside, SECRET);
    const { 'registry.json': _index, ...rest } = pageRegistry();
    const error = await withRegistry(rest, async (registry, dir) => {
      await symlink(outside, join(dir, 'registry.json'));
      return registry.list();
    });
    const failure = expectNoContent(error);
    expect(failure.code).toBe('E_INDEX_INVALID');
    expect(failure.message).toBe(
      'registry.json of registry "corp" is not valid JSON (line 1, column 1: unexpected character). Fix the file, or check that the location points at a registry.',
    );
    expect(failure.details).toEqual({ file: 'registry.json', line: 1, column: 1, offset: 0 });
  });

  it('a broken registry.json is placed by line and column', async () => {
    const error = expectNoContent(
      await withRegistry({ ...pageRegistry(), 'registry.json': '{\n  "extensions": {\n    "curated": [SECRET-CONTENT]\n' }, (r) => r.list()),
    );
    expect(error.message).toContain('(line 3, column 17: unexpected character)');
  });

  it('manifest.json: E_INDEX_INVALID naming the entry file', async () => {
    const error = expectNoContent(
      await withRegistry({ ...pageRegistry(), 'registry/curated/echo/manifest.json': SECRET }, (r) => r.fetch('tool', 'com.test.echo')),
    );
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.message).toContain('registry/curated/echo/manifest.json in registry "corp" is not valid JSON (line 1, column 1: unexpected character)');
  });

  it('package.json of an entry: E_INDEX_INVALID naming it', async () => {
    const error = expectNoContent(
      await withRegistry({ ...pageRegistry(), 'registry/curated/echo/package.json': `{"name": ${SECRET}` }, (r) => r.fetch('tool', 'com.test.echo')),
    );
    expect(error.message).toContain('registry/curated/echo/package.json in registry "corp" is not valid JSON (line 1, column 10: unexpected character)');
  });

  it('persona.json: E_INDEX_INVALID naming it', async () => {
    const error = expectNoContent(
      await withRegistry({ ...pageRegistry(), 'registry/personas/helper/persona.json': SECRET }, (r) => r.load('persona', 'com.test.helper')),
    );
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.message).toContain('registry/personas/helper/persona.json in registry "corp" is not valid JSON (line 1, column 1');
  });

  it('a JSON config file: E_CONFIG naming the file, line and column', async () => {
    const file = join(await tempDir(), 'agentos-registry.config.json');
    await writeFile(file, `{\n  "registries": ${SECRET}}`);
    const error = expectNoContent(await settle(() => loadConfigFile(file)));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`Config file ${file} is not valid JSON (line 2, column 17: unexpected character). Fix the file.`);
  });

  it('a JavaScript config file linked to a file that is not JavaScript: E_CONFIG with the line, nothing of the file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'passwd'), SECRET);
    const file = join(dir, 'agentos-registry.config.mjs');
    await symlink(join(dir, 'passwd'), file);
    // In a child process: Node's own import, as the CLI and hosts use it (the test runner would transform the file).
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    const script = join(import.meta.dirname, 'support', 'load-config.ts');
    const { stdout } = await promisify(execFile)(tsx, [script, file], { env: { ...process.env, NODE_OPTIONS: '--conditions=dev-source' } });
    for (const piece of ['SECRET', 'root:x', 'second line', '/bin/bash']) expect(stdout).not.toContain(piece);
    const error = JSON.parse(stdout.split('\n', 1)[0]!) as { code: string; message: string; details: unknown };
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`Config file ${file} failed to load with a syntax error on line 1. Run "node --check ${file}" to see it.`);
    expect(error.details).toEqual({ file, line: 1 });
  });

  it('a SyntaxError a source throws (it parsed an answer) is E_INTERNAL without its message', async () => {
    const parsing = defineSource({
      type: 'parsing',
      create: () => ({
        displayLocation: 'x',
        revision: async () => JSON.parse(SECRET),
        readIndex: async () => '{}',
        materialize: async () => {},
      }),
    });
    const registry = await createRegistry(
      { registries: { corp: { type: 'parsing', location: 'x' } } },
      { sources: [parsing], env: { AGENTOS_REGISTRY_CACHE: await tempDir() } },
    );
    const error = expectNoContent(await settle(() => registry.list()));
    await registry.close();
    expect(error.code).toBe('E_INTERNAL');
    expect(error.message).toContain('could not parse what it received');
  });
});

describe('__proto__ keys, which JSON.parse keeps and every copy loses, are refused by field', () => {
  it('a registry.json tier named __proto__ (its entries would vanish): E_INDEX_INVALID naming the field', async () => {
    const good = pageRegistry();
    const text = JSON.stringify(good['registry.json']).replace('"extensions":{"curated":', '"extensions":{"__proto__":');
    const error = (await withRegistry({ ...good, 'registry.json': text }, (r) => r.list())) as RegistryError;
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.details).toMatchObject({ file: 'registry.json', field: 'extensions.__proto__' });
    expect(error.message).toContain('field extensions.__proto__ is named "__proto__"');
  });

  it('an entry field named __proto__: E_INDEX_INVALID naming it', async () => {
    const good = pageRegistry();
    const text = JSON.stringify(good['registry.json']).replace('"id":"com.test.echo",', '"id":"com.test.echo","__proto__":{"kinds":["x"]},');
    const error = (await withRegistry({ ...good, 'registry.json': text }, (r) => r.list())) as RegistryError;
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.details).toMatchObject({ field: 'extensions.curated[0].__proto__' });
  });

  it('a JSON config with defaultRegistries.__proto__: E_CONFIG naming the field', async () => {
    const file = join(await tempDir(), 'c.json');
    await writeFile(file, '{"registries": {"a": {"type": "dir", "location": "/x"}}, "defaultRegistries": {"__proto__": "a"}}');
    const error = (await settle(() => loadConfigFile(file))) as RegistryError;
    expect(error.code).toBe('E_CONFIG');
    expect(error.details).toMatchObject({ file, field: 'defaultRegistries.__proto__' });
  });
});
