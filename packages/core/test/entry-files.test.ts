/** Reading single files of a registry folder (issue 11): only regular files inside it, never blocking on a FIFO. */
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileInside, RegistryError, writeFileInside } from '../src/index.js';
import { tempDir, writeTree } from './helpers.js';
import { mkfifo, settleOrRelease } from './support/hostile.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof RegistryError ? error.code : String(error)),
  );
}

async function secretFile(): Promise<{ path: string; content: string }> {
  const content = `TOP-SECRET-${Math.random().toString(36).slice(2)}\n`;
  const path = join(await tempDir('outside-'), 'secret.txt');
  await writeFile(path, content);
  return { path, content };
}

describe('readFileInside and writeFileInside', () => {
  it('readFileInside: a FIFO is E_UNSAFE_PATH at once, a link out is E_UNSAFE_PATH, a missing file undefined', async () => {
    const secret = await secretFile();
    const dir = await writeTree({ 'real.json': '{}' });
    mkfifo(join(dir, 'fifo.json'));
    await symlink(secret.path, join(dir, 'out.json'));
    await symlink('real.json', join(dir, 'in.json'));
    const fifo = await settleOrRelease(readFileInside(dir, 'fifo.json', { registry: 'acme' }), join(dir, 'fifo.json'));
    expect(fifo).toMatchObject({ hung: false, error: { code: 'E_UNSAFE_PATH' } });
    expect(await codeOf(readFileInside(dir, 'out.json'))).toBe('E_UNSAFE_PATH');
    expect(await readFileInside(dir, 'missing.json')).toBeUndefined();
    expect((await readFileInside(dir, 'in.json'))?.toString()).toBe('{}');
  });

  it('writeFileInside replaces a link of the same name instead of writing through it', async () => {
    const secret = await secretFile();
    const dir = await writeTree({ 'a.txt': 'a' });
    await symlink(secret.path, join(dir, 'record.json'));
    await writeFileInside(dir, 'record.json', '{"ok":true}');
    expect((await readFileInside(dir, 'record.json'))?.toString()).toBe('{"ok":true}');
    expect(await readFile(secret.path, 'utf8')).toBe(secret.content);
  });
});
