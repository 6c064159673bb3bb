/** Packages the tests publish to their Verdaccio, and a few helpers around them. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRegistryError } from '@agentos-registry/core';
import { writeConformanceFixture } from '@agentos-registry/source-testkit';
import { startVerdaccio, type VerdaccioServer } from '@agentos-registry/test-servers';
import { afterAll } from 'vitest';

export const PUBLISHER = { user: 'publisher', password: 'publisher-password' };
export const READER = { user: 'reader', password: 'reader-password' };

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temp folder removed after the test file. */
export async function tempDir(label = 'source-npm'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  made.push(dir);
  return dir;
}

/** The Verdaccio of one test file (the caller closes it), with a publisher and a reader; the publisher's token too. */
export async function startRegistryServer(): Promise<{ server: VerdaccioServer; token: string }> {
  const server = await startVerdaccio({ users: { [PUBLISHER.user]: PUBLISHER.password, [READER.user]: READER.password } });
  return { server, token: await server.tokenFor(PUBLISHER.user, PUBLISHER.password) };
}

/**
 * A registry package folder in the page's layout: the conformance fixture (`registry.json` + `registry/`) plus a
 * package.json. `updated` replaces the index's stamp so versions can be told apart.
 */
export async function registryPackageDir(name: string, version: string, updated?: string): Promise<string> {
  const { dir } = await writeConformanceFixture(join(await tempDir('registry-package'), 'pkg'));
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name, version, description: 'An agentos-registry test registry.' }, null, 2)}\n`);
  if (updated) {
    const index = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8')) as Record<string, unknown>;
    index.updated = updated;
    await writeFile(join(dir, 'registry.json'), `${JSON.stringify(index, null, 2)}\n`);
  }
  return dir;
}

/** An extension package as the real AgentOS registry publishes them: package.json `main` + code + manifest. */
export function extensionPackage(name: string, version: string): Record<string, string> {
  return {
    'package.json': `${JSON.stringify({ name, version, type: 'module', main: 'dist/index.js' }, null, 2)}\n`,
    'manifest.json': `${JSON.stringify({ id: 'com.acme.remote', name: 'Remote Echo', version, extensions: [{ kind: 'tool', id: 'remote-echo', displayName: 'Remote Echo' }] }, null, 2)}\n`,
    'dist/index.js': `export function createExtensionPack() {\n  return { name: 'remote-echo', version: ${JSON.stringify(version)}, descriptors: [{ id: 'remote-echo', kind: 'tool', payload: { run: (input) => input } }] };\n}\n`,
  };
}

/** The packument of `name` as the registry serves it (with a token for private packages). */
export async function packument(
  server: VerdaccioServer,
  name: string,
  token?: string,
): Promise<{ versions: Record<string, { dist: { integrity: string; tarball: string } }>; 'dist-tags': Record<string, string> }> {
  const response = await fetch(`${server.url}${name.replace('/', '%2f')}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw new Error(`packument of ${name}: HTTP ${response.status}`);
  return (await response.json()) as never;
}

/** The error code a promise rejects with, `resolved`, or a description of a non-RegistryError. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isRegistryError(error) ? error.code : `not a RegistryError: ${String(error)}`),
  );
}

/** The rejection of a promise (failing the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error & { code?: string; details?: Record<string, unknown> },
  );
}

/** A ustar header block for one regular file of `size` bytes. */
export function tarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  const put = (text: string, offset: number) => block.write(text, offset, 'latin1');
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}
