/**
 * `agentos-registry validate [dir]`: checks a registry folder as a host will read it, for its owner and its CI. Each
 * problem is `file: json-path: message`, an error or a warning, with a stable code; any error exits 1.
 *
 * For now (issue 14) it checks that `registry.json` parses (core's parser, so exactly what a host accepts), that every
 * entry `path` exists as a folder inside the registry, and, when the index is signed, its signatures (with
 * `--public-key`), its shape, its expiry and the h1 of every entry folder against the signed block. The checks are a
 * list run in order on what the earlier ones found; more join it (issue 16: manifests, versions, entry points).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  hashDirectoryH1,
  inspectSignedIndex,
  isRegistryError,
  parseRegistryIndex,
  readFileInside,
  redact,
  realPathInside,
  type RegistryIndex,
  RegistryError,
  type SignedIndexParts,
  type TrustedKey,
  trustedKey,
  verifyIndex,
} from '@agentos-registry/core';
import type { Command } from 'commander';
import { toJson } from './format.js';
import type { CliIo } from './io.js';
import { oneLine } from './terminal-text.js';

/**
 * The stable codes of `validate` problems. Errors: `E_INDEX_MISSING`, `E_INDEX_INVALID`, `E_UNSAFE_PATH`,
 * `E_ENTRY_MISSING`, `E_ENTRY_NOT_FOLDER`, `E_SIGNED_FORMAT`, `E_SIGNATURE`, `E_UNSIGNED`, `E_H1_MISSING`,
 * `E_H1_MISMATCH`, `E_H1_UNHASHABLE`, `E_EXPIRED`. Warnings: `W_SIGNATURES_UNCHECKED`, `W_EXPIRES_SOON`,
 * `W_SIGNED_EXTRA`.
 */
export interface ValidationProblem {
  severity: 'error' | 'warning';
  code: string;
  /** The file, relative to the registry folder. */
  file: string;
  /** Where in it: a json path (`extensions.curated[0].path`, `signed.entries["registry/curated/x"]`), `(root)` for the whole file. */
  path: string;
  message: string;
}

/** The `--json` output of `validate`, a stable interface for scripts. */
export interface ValidateJson {
  dir: string;
  valid: boolean;
  errors: number;
  warnings: number;
  /** Entries in the index (0 when it does not parse). */
  entries: number;
  /** `signed: false` for an unsigned index; for a signed one what its block says, and which given keys signed it (`null`: not checked, no key given). */
  signature: { signed: false } | { signed: true; name: string; version: number; expires: string; keyIds: string[] | null; threshold: number | null };
  problems: ValidationProblem[];
}

interface ValidateOptions {
  publicKey: string[];
  threshold?: string;
  name?: string;
  entries?: string;
}

/** What the checks share: the folder, what was read so far, and the problems found. */
interface Context {
  dir: string;
  entriesDir: string;
  registry: string;
  keys: TrustedKey[];
  threshold: number;
  identity: string | undefined;
  now: number;
  text?: string;
  doc?: Record<string, unknown>;
  index?: RegistryIndex;
  /** The json path of each entry, as `index.entries` orders them. */
  fields: string[];
  /** Entry folders that exist inside the registry (by entry path), for the checks that read them. */
  folders: Map<string, string>;
  signed?: SignedIndexParts;
  verifiedBy?: string[];
  problems: ValidationProblem[];
}

const INDEX = 'registry.json';
const SOON = 7 * 86_400_000;

function add(ctx: Context, severity: ValidationProblem['severity'], code: string, path: string, message: string, file = INDEX): void {
  ctx.problems.push({ severity, code, file, path, message });
}

/** Core's message without the `registry.json of registry "x": field a.b: ` it starts with (the line names both). */
function bare(message: string, field: string | undefined): string {
  const at = field === undefined ? -1 : message.indexOf(`field ${field}: `);
  return at === -1 ? message : message.slice(at + `field ${field}: `.length);
}

function fieldOf(error: RegistryError): string | undefined {
  const field = error.details?.field;
  return typeof field === 'string' ? field : undefined;
}

/** `signed.entries["registry/curated/x"]`. */
const signedEntry = (path: string) => `signed.entries[${JSON.stringify(path)}]`;

/** registry.json is there and parses as a host parses it. */
async function checkIndex(ctx: Context): Promise<void> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFileInside(ctx.dir, INDEX, { registry: ctx.registry, label: INDEX });
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return add(ctx, 'error', error.code, '(root)', error.message);
  }
  if (bytes === undefined) return add(ctx, 'error', 'E_INDEX_MISSING', '(root)', `There is no ${INDEX} in ${ctx.dir}; a registry folder holds one at its top.`);
  ctx.text = bytes.toString('utf8');
  try {
    ctx.index = parseRegistryIndex(bytes, { registry: ctx.registry, file: INDEX });
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    const field = fieldOf(error);
    return add(ctx, 'error', error.code, field ?? '(root)', bare(error.message, field));
  }
  ctx.doc = ctx.index.raw;
  // Entries come out in the index's order: extensions then personas, tier by tier.
  const seen = new Map<string, number>();
  for (const entry of ctx.index.entries) {
    const key = `${entry.section}.${entry.tier}`;
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    ctx.fields.push(`${key}[${i}].path`);
  }
}

/** Every entry path names a folder inside the registry (links followed, never out). */
async function checkPaths(ctx: Context): Promise<void> {
  const index = ctx.index;
  if (!index) return;
  for (const [i, entry] of index.entries.entries()) {
    const field = ctx.fields[i]!;
    let real: string | undefined;
    try {
      real = await realPathInside(ctx.entriesDir, entry.path, { registry: ctx.registry, label: entry.path });
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      add(ctx, 'error', error.code, field, `${entry.id}: ${error.message}`);
      continue;
    }
    if (real === undefined) {
      add(ctx, 'error', 'E_ENTRY_MISSING', field, `${entry.id}: the folder ${entry.path} does not exist. Create it, or fix the path.`);
      continue;
    }
    if (!(await stat(real)).isDirectory()) {
      add(ctx, 'error', 'E_ENTRY_NOT_FOLDER', field, `${entry.id}: ${entry.path} is not a folder; an entry path names the entry's folder.`);
      continue;
    }
    ctx.folders.set(entry.path, real);
  }
}

/** The signed block and signatures: their shape, the signatures by the given keys, and expiry. */
async function checkSignature(ctx: Context): Promise<void> {
  const { index, doc, text } = ctx;
  if (!index || !doc || text === undefined) return;
  try {
    ctx.signed = inspectSignedIndex(doc, ctx.registry);
  } catch (error) {
    if (!isRegistryError(error)) throw error;
    return add(ctx, 'error', 'E_SIGNED_FORMAT', fieldOf(error) ?? 'signed', error.message.replace(`Registry "${ctx.registry}": `, ''));
  }
  const signed = ctx.signed?.signed;
  if (!signed) {
    if (ctx.keys.length > 0)
      add(ctx, 'error', 'E_UNSIGNED', '(root)', `${INDEX} is not signed, but --public-key was given. Sign it with "agentos-registry sign".`);
    return;
  }
  if (ctx.keys.length === 0) {
    add(
      ctx,
      'warning',
      'W_SIGNATURES_UNCHECKED',
      'signatures',
      'No --public-key was given: the signatures were not checked, only the shape of the signed block, its expiry and the h1 of every entry.',
    );
  } else {
    const trust = { identity: ctx.identity ?? signed.name, keys: ctx.keys, threshold: ctx.threshold };
    try {
      ctx.verifiedBy = verifyIndex(text, index, trust, ctx.registry).keyIds;
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      // An entry without an h1 is reported by the h1 check, once per entry.
      if (error.details?.path === undefined) {
        const path = error.details?.signedName === undefined ? 'signatures' : 'signed.name';
        add(ctx, 'error', 'E_SIGNATURE', path, error.message.replace(`Registry "${ctx.registry}": `, ''));
      }
    }
  }
  const expires = Date.parse(signed.expires);
  if (ctx.now > expires) {
    add(
      ctx,
      'error',
      'E_EXPIRED',
      'signed.expires',
      `The signature expired at ${new Date(expires).toISOString()}; hosts refuse the index (E_SIGNATURE) unless they set allowExpired. Sign it again.`,
    );
  } else if (expires - ctx.now < SOON) {
    add(
      ctx,
      'warning',
      'W_EXPIRES_SOON',
      'signed.expires',
      `The signature expires at ${new Date(expires).toISOString()}, within 7 days; sign the registry again before then.`,
    );
  }
}

/** Every entry has a signed h1, and its folder hashes to it; the signed block names no folder the index lacks. */
async function checkEntryHashes(ctx: Context): Promise<void> {
  const signed = ctx.signed?.signed;
  const index = ctx.index;
  if (!signed || !index) return;
  const hashes = new Map(Object.entries(signed.entries));
  const done = new Set<string>();
  for (const entry of index.entries) {
    if (done.has(entry.path)) continue;
    done.add(entry.path);
    const expected = hashes.get(entry.path);
    if (expected === undefined) {
      add(
        ctx,
        'error',
        'E_H1_MISSING',
        signedEntry(entry.path),
        `${entry.id} (${entry.path}) has no h1 in the signed block; hosts refuse the index. Sign it again.`,
      );
      continue;
    }
    const folder = ctx.folders.get(entry.path);
    if (folder === undefined) continue;
    let actual: string;
    try {
      actual = await hashDirectoryH1(folder);
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      add(ctx, 'error', 'E_H1_UNHASHABLE', signedEntry(entry.path), `${entry.id}: ${error.message}`);
      continue;
    }
    if (actual !== expected) {
      add(
        ctx,
        'error',
        'E_H1_MISMATCH',
        signedEntry(entry.path),
        `the files of ${entry.id} (${entry.path}) hash to ${actual}, not the signed ${expected}: they changed after signing, and hosts refuse the entry. Sign again, or restore the files.`,
      );
    }
  }
  for (const path of hashes.keys()) {
    if (!done.has(path))
      add(
        ctx,
        'warning',
        'W_SIGNED_EXTRA',
        signedEntry(path),
        `The signed block has an h1 for ${path}, which no entry of the index names; sign again to drop it.`,
      );
  }
}

/** The checks, in order; each sees what the earlier ones found. */
const CHECKS: ReadonlyArray<(ctx: Context) => Promise<void>> = [checkIndex, checkPaths, checkSignature, checkEntryHashes];

/** Reads `--public-key` values: a file holding the key (base64 of its 32 bytes, or PEM), or the key itself. */
async function readKeys(io: CliIo, values: readonly string[]): Promise<TrustedKey[]> {
  return Promise.all(
    values.map(async (value) => {
      const text = await readFile(resolve(io.cwd, value), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return value;
        throw error;
      });
      try {
        return trustedKey(text);
      } catch (error) {
        throw new RegistryError('E_USAGE', `--public-key ${value}: neither a file holding an Ed25519 public key nor such a key (${(error as Error).message}).`);
      }
    }),
  );
}

/** Validates `dirArg` (relative to the working directory) and returns what to print and whether it is valid. */
export async function validateCommand(io: CliIo, dirArg: string | undefined, options: ValidateOptions, json: boolean): Promise<{ text: string; ok: boolean }> {
  const dir = resolve(io.cwd, dirArg ?? '.');
  const keys = await readKeys(io, options.publicKey);
  const distinct = new Set(keys.map((k) => k.fingerprint)).size;
  let threshold = 1;
  if (options.threshold !== undefined) {
    threshold = Number(options.threshold);
    if (keys.length === 0) throw new RegistryError('E_USAGE', '--threshold counts signatures by the keys given with --public-key; give them too.');
    if (!Number.isSafeInteger(threshold) || threshold < 1 || threshold > distinct) {
      throw new RegistryError(
        'E_USAGE',
        `--threshold must be a whole number from 1 to ${distinct} (the number of distinct --public-key keys); got "${options.threshold}".`,
      );
    }
  }
  const ctx: Context = {
    dir,
    entriesDir: options.entries ? resolve(io.cwd, options.entries) : dir,
    registry: options.name ?? basename(dir),
    keys,
    threshold,
    identity: options.name,
    now: Date.now(),
    fields: [],
    folders: new Map(),
    problems: [],
  };
  for (const check of CHECKS) await check(ctx);

  const errors = ctx.problems.filter((p) => p.severity === 'error').length;
  const warnings = ctx.problems.length - errors;
  const block = ctx.signed?.signed;
  const result: ValidateJson = {
    dir,
    valid: errors === 0,
    errors,
    warnings,
    entries: ctx.index?.entries.length ?? 0,
    signature: block
      ? {
          signed: true,
          name: block.name,
          version: block.version,
          expires: block.expires,
          keyIds: ctx.verifiedBy ?? null,
          threshold: keys.length > 0 ? threshold : null,
        }
      : { signed: false },
    problems: ctx.problems,
  };
  if (json) return { text: `${toJson(result)}\n`, ok: result.valid };
  const lines = ctx.problems.map((p) => `${p.file}: ${p.path}: ${p.severity}: ${oneLine(p.message)} [${p.code}]\n`);
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const signature = !block
    ? 'unsigned'
    : `signed for "${block.name}", version ${block.version}, expires ${block.expires}; ${ctx.verifiedBy ? `valid signatures by ${ctx.verifiedBy.join(', ')} (threshold ${threshold})` : keys.length > 0 ? 'signature checks failed' : 'signatures not checked (no --public-key)'}`;
  const summary = ctx.index ? `${dir}: ${count(result.entries, 'entry', 'entries')}, ${signature}\n` : '';
  return {
    text: `${lines.join('')}${summary}${result.valid ? 'valid' : 'invalid'}: ${count(errors, 'error')}, ${count(warnings, 'warning')}\n`,
    ok: result.valid,
  };
}

/** Adds `validate` to the program; `fail` is called when the registry has errors (exit code 1). */
export function addValidateCommand(program: Command, io: CliIo, out: (text: string) => void, json: boolean, fail: () => void): void {
  program
    .command('validate [registry-dir]')
    .description('check a registry folder as hosts read it: registry.json, entry paths, and signatures of a signed index (exit 1 on errors)')
    .option(
      '--public-key <file-or-key>',
      'a public key the index must be signed by (a file, or the base64 key; repeat for several)',
      (value: string, previous: string[] = []) => [...previous, value],
      [] as string[],
    )
    .option('--threshold <n>', 'how many of the --public-key keys must have signed (default 1)')
    .option('--name <identity>', 'the registry identity the index must be signed for (default: the one it is signed for)')
    .option('--entries <dir>', 'where the entry folders are, for a packed url site (the registry folder it was packed from)')
    .action(async (registryDir: string | undefined, opts: ValidateOptions) => {
      const result = await validateCommand(io, registryDir, opts, json);
      // The problems of an invalid registry are its errors: printed even under --quiet.
      if (result.ok) out(result.text);
      else io.stdout.write(redact(result.text));
      if (!result.ok) fail();
    });
}
