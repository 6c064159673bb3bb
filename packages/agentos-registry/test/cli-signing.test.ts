/** `agentos-registry keygen` and `sign` (issue 14): a signed template registry lists as verified; tampering is E_SIGNATURE. */
import { existsSync } from 'node:fs';
import { chmod, cp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashDirectoryH1 } from '@agentos-registry/core';
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

describe('info shows the signature state', () => {
  test('a signed registry: identity, version, expiry, the keys that signed and the threshold, and the entry h1 that matched', async () => {
    const { dir, registry, keyId, publicKey } = await signedTemplate();
    await writeJsonConfig(dir, 'internal', registry, { verified: true, publicKeys: [{ id: keyId, key: publicKey }] });
    const doc = JSON.parse(await readFile(join(registry, 'registry.json'), 'utf8'));
    // Computed apart from the signing: the h1 of the folder as it is on disk.
    const h1 = await hashDirectoryH1(join(registry, 'registry', 'curated', 'calculator'));
    expect(doc.signed.entries['registry/curated/calculator']).toBe(h1);
    const info = await cli(['info', 'com.example.calculator', '--json'], { cwd: dir });
    expect(info.code, info.stdout + info.stderr).toBe(0);
    expect(info.json().signature).toEqual({
      mode: 'signed',
      identity: 'internal',
      version: 1,
      expires: doc.signed.expires,
      expired: false,
      keyIds: [keyId],
      threshold: 1,
      entry: { path: 'registry/curated/calculator', h1, checked: true },
    });
    const text = await cli(['info', 'com.example.calculator'], { cwd: dir });
    expect(text.stdout).toContain(`signature:    signed for "internal", version 1, expires ${doc.signed.expires}; valid signatures by ${keyId} (threshold 1)`);
    expect(text.stdout).toContain(`entry h1:     ${h1} (the entry's files match the signed index)`);
    // Re-signed: info reports the new version.
    expect((await cli(['sign', 'registry', '--key', 'owner.key', '--json'], { cwd: dir })).code).toBe(0);
    expect((await cli(['info', 'com.example.calculator', '--json', '--refresh'], { cwd: dir })).json().signature.version).toBe(2);
  });

  test('two keys with threshold 2: both key ids are listed', async () => {
    const { dir, registry, keyId, publicKey } = await signedTemplate();
    const second = (await cli(['keygen', '--out', 'second.key', '--json'], { cwd: dir })).json<{ keyId: string; publicKey: string }>();
    expect((await cli(['sign', 'registry', '--key', 'owner.key', '--key', 'second.key', '--json'], { cwd: dir })).code).toBe(0);
    await writeJsonConfig(dir, 'internal', registry, {
      verified: true,
      threshold: 2,
      publicKeys: [
        { id: keyId, key: publicKey },
        { id: second.keyId, key: second.publicKey },
      ],
    });
    const signature = (await cli(['info', 'com.example.echo', '--json'], { cwd: dir })).json().signature;
    expect(signature).toMatchObject({ mode: 'signed', version: 2, threshold: 2 });
    expect([...signature.keyIds].sort()).toEqual([keyId, second.keyId].sort());
  });

  test('without publicKeys: trusted transport only, or unsigned — and a signed index that nothing checks says so', async () => {
    const { dir, registry } = await signedTemplate();
    await writeJsonConfig(dir, 'internal', registry, { verified: true });
    const transport = await cli(['info', 'com.example.echo', '--json'], { cwd: dir });
    expect(transport.json().signature).toEqual({ mode: 'trusted-transport', indexSigned: true });
    const text = await cli(['info', 'com.example.echo'], { cwd: dir });
    expect(text.stdout).toContain(
      'signature:    none: verified by trusted transport only (no publicKeys); the index carries signatures, but without publicKeys nothing checks them',
    );
    const plain = await scratch();
    cleanups.push(plain.cleanup);
    await writeJsonConfig(plain.dir, 'plain', templateRegistry);
    expect((await cli(['info', 'com.example.echo', '--json'], { cwd: plain.dir })).json().signature).toEqual({ mode: 'unsigned', indexSigned: false });
    expect((await cli(['info', 'com.example.echo'], { cwd: plain.dir })).stdout).toContain('signature:    none: unsigned, and the registry is not verified\n');
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
