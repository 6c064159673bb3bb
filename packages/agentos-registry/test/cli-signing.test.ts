/** `agentos-registry keygen` and `sign` (issue 14): a signed template registry lists as verified; tampering is E_SIGNATURE. */
import { existsSync } from 'node:fs';
import { chmod, cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { cli, fixturesRegistry, scratch, templateRegistry, writeJsonConfig } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function signedTemplate(): Promise<{ dir: string; registry: string; keyId: string; publicKey: string }> {
  const { dir, cleanup } = await scratch();
  cleanups.push(cleanup);
  const registry = join(dir, 'registry');
  await cp(templateRegistry, registry, { recursive: true });
  const keygen = await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir });
  expect(keygen.code).toBe(0);
  const { keyId, publicKey, privateKeyFile } = keygen.json<{ keyId: string; publicKey: string; privateKeyFile: string }>();
  expect(privateKeyFile).toBe(join(dir, 'owner.key'));
  expect((await stat(privateKeyFile)).mode & 0o077).toBe(0);
  const signed = await cli(['sign', 'registry', '--key', 'owner.key', '--name', 'internal', '--expires', '30d', '--json'], { cwd: dir });
  expect(signed.code, signed.stdout + signed.stderr).toBe(0);
  expect(signed.json()).toMatchObject({ name: 'internal', version: 1, keyIds: [keyId] });
  return { dir, registry, keyId, publicKey };
}

describe('keygen and sign', () => {
  test('a signed registry lists as verified, and sign bumps the version', async () => {
    const { dir, registry, keyId, publicKey } = await signedTemplate();
    await writeJsonConfig(dir, 'internal', registry, { verified: true, publicKeys: [{ id: keyId, key: publicKey }] });
    const listed = await cli(['list', '--json'], { cwd: dir });
    expect(listed.code, listed.stdout).toBe(0);
    expect(listed.json().length).toBeGreaterThan(0);
    expect(listed.json().every((row: { verified: boolean }) => row.verified)).toBe(true);
    const again = await cli(['sign', 'registry', '--key', 'owner.key', '--json'], { cwd: dir });
    expect(again.json()).toMatchObject({ name: 'internal', version: 2 });
  });

  test('an index edited after signing is refused with E_SIGNATURE', async () => {
    const { dir, registry, keyId, publicKey } = await signedTemplate();
    await writeJsonConfig(dir, 'internal', registry, { verified: true, publicKeys: [{ id: keyId, key: publicKey }] });
    const file = join(registry, 'registry.json');
    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.updated = '2030-01-01T00:00:00.000Z';
    await writeFile(file, JSON.stringify(doc));
    const listed = await cli(['list', '--json'], { cwd: dir });
    expect(listed.code).not.toBe(0);
    expect(listed.json().error.code).toBe('E_SIGNATURE');
  });

  test('keygen never overwrites a key; sign refuses an executable file in an entry', async () => {
    const { dir, registry } = await signedTemplate();
    const again = await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.json().error.code).toBe('E_USAGE');
    await chmod(join(registry, 'registry/curated/calculator/src/index.js'), 0o755);
    const signed = await cli(['sign', 'registry', '--key', 'owner.key', '--json'], { cwd: dir });
    expect(signed.code).not.toBe(0);
    expect(signed.json().error.code).toBe('E_SIGNATURE');
  });
});

describe.skipIf(!existsSync(fixturesRegistry))('the real AgentOS extensions registry', () => {
  test('signs (every entry folder hashes: no links, no executable files), lists verified, and every entry fetches against its signed h1', async () => {
    const { dir, cleanup } = await scratch();
    cleanups.push(cleanup);
    await cp(fixturesRegistry, join(dir, 'registry'), { recursive: true });
    const keygen = await cli(['keygen', '--out', 'owner.key', '--json'], { cwd: dir });
    const { keyId, publicKey } = keygen.json<{ keyId: string; publicKey: string }>();
    const signed = await cli(['sign', 'registry', '--key', 'owner.key', '--name', 'official', '--json'], { cwd: dir });
    expect(signed.code, signed.stdout).toBe(0);
    await writeJsonConfig(dir, 'official', join(dir, 'registry'), { verified: true, publicKeys: [{ id: keyId, key: publicKey }] });
    const listed = await cli(['list', '--json'], { cwd: dir });
    const rows = listed.json<Array<{ id: string; version: string; verified: boolean }>>();
    expect(rows.length).toBe(signed.json().entries);
    expect(rows.every((row) => row.verified)).toBe(true);
    // A fetch succeeds only when the copied folder hashes to its signed h1.
    for (const row of rows) {
      const fetched = await cli(['fetch', `official:${row.id}@${row.version}`, '--json'], { cwd: dir });
      expect(fetched.code, fetched.stdout).toBe(0);
    }
  }, 120_000);
});
