/**
 * `agentos-registry keygen` and `agentos-registry sign <dir>`: the registry owner's side of signed indexes. The work
 * is core's `generateKeyPair` and `signRegistry`; this file reads and writes key files and prints.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generateKeyPair, RegistryError, signRegistry } from '@agentos-registry/core';
import type { Command } from 'commander';
import { toJson } from './format.js';
import type { CliIo } from './io.js';

interface KeygenOptions {
  out: string;
}

interface SignOptions {
  key: string[];
  keyId?: string;
  expires: string;
  name?: string;
  indexVersion?: string;
  entries?: string;
}

/** Writes a new private key (mode 0600, never over an existing file) and returns what to print. */
export async function keygenCommand(io: CliIo, options: KeygenOptions, json: boolean): Promise<string> {
  const file = resolve(io.cwd, options.out);
  const pair = generateKeyPair();
  try {
    await writeFile(file, pair.privateKey, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new RegistryError('E_USAGE', `${file} already exists; keygen never overwrites a key. Choose another --out.`);
    }
    throw error;
  }
  if (json) return `${toJson({ privateKeyFile: file, publicKey: pair.publicKey, keyId: pair.keyId })}\n`;
  return (
    `Wrote the private key to ${file} (keep it secret; it signs your registry).\n` +
    `Key id:     ${pair.keyId}\n` +
    `Public key: ${pair.publicKey}\n` +
    `Hosts trust it with: publicKeys: [{ id: '${pair.keyId}', key: '${pair.publicKey}' }]\n`
  );
}

/** Signs `dir/registry.json` in place with the key files given and returns what to print. */
export async function signCommand(io: CliIo, dir: string, options: SignOptions, json: boolean): Promise<string> {
  if (options.key.length === 0)
    throw new RegistryError('E_USAGE', 'Give the private key file to sign with: --key <file> (repeat it to sign with several keys).');
  if (options.keyId && options.key.length > 1)
    throw new RegistryError('E_USAGE', '--key-id names the key of a single --key; with several keys each id is derived from its key.');
  const keys = await Promise.all(
    options.key.map(async (file) => ({ key: await readFile(resolve(io.cwd, file), 'utf8'), ...(options.keyId ? { keyId: options.keyId } : {}) })),
  );
  let version: number | undefined;
  if (options.indexVersion !== undefined) {
    version = Number(options.indexVersion);
    if (!Number.isSafeInteger(version)) throw new RegistryError('E_USAGE', `--index-version must be a whole number (got "${options.indexVersion}").`);
  }
  const result = await signRegistry(resolve(io.cwd, dir), {
    key: keys,
    expires: options.expires,
    ...(options.name ? { name: options.name } : {}),
    ...(version === undefined ? {} : { version }),
    ...(options.entries ? { entriesDir: resolve(io.cwd, options.entries) } : {}),
  });
  if (json) return `${toJson(result)}\n`;
  return `Signed ${result.file} for "${result.name}": version ${result.version}, ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'}, expires ${result.expires}, by ${result.keyIds.join(', ')}.\n`;
}

/** Adds `keygen` and `sign` to the program. */
export function addSigningCommands(program: Command, io: CliIo, out: (text: string) => void, json: boolean): void {
  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing a registry: the private key goes to a file, the public key is printed')
    .option('-o, --out <file>', 'file to write the private key to (never overwritten)', 'agentos-registry.key')
    .action(async (opts: KeygenOptions) => {
      out(await keygenCommand(io, opts, json));
    });
  program
    .command('sign <registry-dir>')
    .description("sign a registry folder's registry.json in place: hashes every entry (h1), bumps the version, sets expires")
    .option(
      '--key <file>',
      'private key file from keygen (repeat for several signatures)',
      (value: string, previous: string[] = []) => [...previous, value],
      [] as string[],
    )
    .option('--key-id <id>', 'key id to sign under (default: derived from the key, as keygen prints it)')
    .option('--expires <when>', 'a duration from now (30d, 12h) or an ISO date and time', '30d')
    .option('--name <identity>', 'the registry identity hosts configure (default: the one signed before)')
    .option('--index-version <n>', 'the signed version to write (default: one more than the signed one)')
    .option('--entries <dir>', 'where the entry folders are, for a packed url site (the registry folder it was packed from)')
    .action(async (registryDir: string, opts: SignOptions) => {
      out(await signCommand(io, registryDir, opts, json));
    });
}
