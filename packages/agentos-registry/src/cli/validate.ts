/**
 * `agentos-registry validate [dir]`: checks a registry folder as a host will read it, for its owner and its CI. Each
 * problem is `file: json-path: message`, an error or a warning, with a stable code; any error exits 1 (any warning
 * too with `--strict`).
 *
 * The checks are a list run in order on what the earlier ones found: `registry.json` parses (core's parser, so
 * exactly what a host accepts); ids are unique across tiers and sections; versions are semver; every entry `path` is
 * a folder inside the registry (links followed, never out); every manifest parses and its version equals the index's;
 * every extension has an entry point a host can import (JavaScript, inside its folder); every persona is complete;
 * and, when the index is signed, its signatures (with `--public-key`), its shape, its expiry and the h1 of every
 * entry folder against the signed block. Each check calls the same core functions a host calls when it fetches and
 * loads the entry, so `validate` and a host cannot disagree.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  entryModuleOf,
  type ExtensionManifest,
  type FetchedEntry,
  hashDirectoryH1,
  type IndexEntry,
  isSemverVersion,
  loadPersona,
  type PackageJson,
  readEntryManifest,
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
 * The stable codes of `validate` problems (also listed in the package README).
 *
 * Errors: `E_INDEX_MISSING`, `E_INDEX_INVALID`, `E_DUPLICATE_ID`, `E_VERSION_INVALID`, `E_UNSAFE_PATH`,
 * `E_ENTRY_MISSING`, `E_ENTRY_NOT_FOLDER`, `E_MANIFEST_MISSING`, `E_MANIFEST_INVALID`, `E_VERSION_MISMATCH`,
 * `E_ENTRY_POINT_MISSING`, `E_ENTRY_POINT_NOT_JS`, `E_PERSONA_MISSING`, `E_PERSONA_INVALID`, `E_SIGNED_FORMAT`,
 * `E_SIGNATURE`, `E_UNSIGNED`, `E_H1_MISSING`, `E_H1_MISMATCH`, `E_H1_UNHASHABLE`, `E_EXPIRED`.
 *
 * Warnings: `W_MANIFEST_SYNTHESIZED`, `W_ID_MISMATCH`, `W_PACKAGE_VERSION`, `W_ENTRY_POINT_UNUSED`,
 * `W_SIGNATURES_UNCHECKED`, `W_EXPIRES_SOON`, `W_SIGNED_EXTRA`.
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
  /** No errors (and, with `--strict`, no warnings either): the exit code is 0 exactly when this is true. */
  valid: boolean;
  strict: boolean;
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
  strict?: boolean;
}

/** What the manifest check read from an entry folder, for the entry point and persona checks. */
interface EntryFolder {
  entry: IndexEntry;
  /** The entry's json path in registry.json: `extensions.curated[0]`. */
  where: string;
  dir: string;
  manifest?: ExtensionManifest;
  synthesized?: boolean;
  packageJson?: PackageJson;
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
  /** The json path of each entry's `path` field, as `index.entries` orders them. */
  fields: string[];
  /** The json path of each entry (`extensions.curated[0]`), as `index.entries` orders them. */
  wheres: string[];
  /** The manifests read (by entry index), for the checks after them. */
  read: Map<number, EntryFolder>;
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
    const duplicateOf = error.details?.duplicateOf;
    if (typeof duplicateOf === 'string' && field !== undefined) {
      return add(
        ctx,
        'error',
        'E_DUPLICATE_ID',
        field,
        `${bare(error.message, field).replace(/; ids must be unique per version\.$/, '')}: a host could load either. Remove one of them, or give one its own id.`,
      );
    }
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
    ctx.wheres.push(`${key}[${i}]`);
  }
}

/**
 * An id names one entry: listed in two tiers (a community entry with a higher version would win over the curated
 * one) or as both an extension and a persona, hosts and readers cannot tell which is meant. The same id at several
 * versions in one tier is a version history, which hosts resolve by range.
 */
async function checkIds(ctx: Context): Promise<void> {
  const index = ctx.index;
  if (!index) return;
  const first = new Map<string, number>();
  for (const [i, entry] of index.entries.entries()) {
    const j = first.get(entry.id);
    if (j === undefined) {
      first.set(entry.id, i);
      continue;
    }
    const other = index.entries[j]!;
    if (other.section === entry.section && other.tier === entry.tier) continue;
    const what = other.section === entry.section ? `in the ${other.tier} tier and in the ${entry.tier} tier` : 'as an extension and as a persona';
    add(
      ctx,
      'error',
      'E_DUPLICATE_ID',
      `${ctx.wheres[i]}.id`,
      `"${entry.id}" is listed ${what} (${ctx.wheres[j]} and ${ctx.wheres[i]}); an id must be unique across tiers and kinds. Remove one of them, or give one its own id.`,
    );
  }
}

/** Index versions are semver: hosts resolve `id@^1` ranges against them. */
async function checkVersions(ctx: Context): Promise<void> {
  const index = ctx.index;
  if (!index) return;
  for (const [i, entry] of index.entries.entries()) {
    if (!isSemverVersion(entry.version))
      add(
        ctx,
        'error',
        'E_VERSION_INVALID',
        `${ctx.wheres[i]}.version`,
        `${entry.id}: version "${entry.version}" is not a semantic version, so no range (id@^1) can select it. Write it as MAJOR.MINOR.PATCH, e.g. 1.0.0.`,
      );
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
    ctx.read.set(i, { entry, where: ctx.wheres[i]!, dir: real });
  }
}

/** The file and json path a core error names, relative to the registry (core names entry files by entry path). */
function located(error: RegistryError, fallbackFile: string): { file: string; path: string } {
  const file = error.details?.file;
  return { file: typeof file === 'string' ? file : fallbackFile, path: fieldOf(error) ?? '(root)' };
}

/** Core's message without the `<file> in registry "x": field a.b: ` it starts with (the line names both). */
function bareEntry(ctx: Context, error: RegistryError, where: { file: string; path: string }): string {
  const prefix = `${where.file} in registry "${ctx.registry}": `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return bare(message, where.path === '(root)' ? undefined : where.path);
}

/**
 * Every entry folder's manifest as a host reads it (`manifest.json` against the schema; built from the index entry
 * and package.json when absent, which hosts accept with a warning), and its version equal to the index's.
 */
async function checkManifests(ctx: Context): Promise<void> {
  for (const folder of ctx.read.values()) {
    const { entry, where, dir } = folder;
    const manifestFile = `${entry.path}/manifest.json`;
    let result: Awaited<ReturnType<typeof readEntryManifest>>;
    try {
      result = await readEntryManifest(dir, entry, ctx.registry);
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      const at = located(error, manifestFile);
      if (error.code === 'E_MANIFEST_MISSING') {
        add(
          ctx,
          'error',
          'E_MANIFEST_MISSING',
          '(root)',
          `${entry.id}: ${entry.path} has no manifest.json (nor a package.json or npm "package" to build one from). Add manifest.json with id, name, version and extensions[].`,
          manifestFile,
        );
      } else if (error.code === 'E_INDEX_INVALID') {
        add(ctx, 'error', 'E_MANIFEST_INVALID', at.path, `${bareEntry(ctx, error, at)} Fix the file: hosts refuse the entry.`, at.file);
      } else {
        add(ctx, 'error', error.code, at.path, bareEntry(ctx, error, at), at.file);
      }
      continue;
    }
    const { manifest, synthesized, packageJson } = result;
    folder.manifest = manifest;
    folder.synthesized = synthesized;
    if (packageJson) folder.packageJson = packageJson;
    if (synthesized && entry.section === 'extensions') {
      add(
        ctx,
        'warning',
        'W_MANIFEST_SYNTHESIZED',
        '(root)',
        `${entry.id}: there is no manifest.json; hosts build one from the index entry${packageJson ? ' and package.json' : ''}. Add manifest.json (id, name, version, extensions[]) to say what the entry provides.`,
        manifestFile,
      );
    }
    if (!synthesized) {
      if (!isSemverVersion(manifest.version)) {
        add(
          ctx,
          'error',
          'E_VERSION_INVALID',
          'version',
          `${entry.id}: version "${manifest.version}" is not a semantic version. Write it as MAJOR.MINOR.PATCH, the same as registry.json's.`,
          manifestFile,
        );
      } else if (manifest.version !== entry.version) {
        add(
          ctx,
          'error',
          'E_VERSION_MISMATCH',
          `${where}.version`,
          `${entry.id}: registry.json says version ${entry.version}, ${manifestFile} says ${manifest.version}; hosts resolve the index's and warn. Make them equal (or run "agentos-registry index" to take the manifest's).`,
        );
      }
      if (manifest.id !== undefined && manifest.id !== entry.id) {
        add(
          ctx,
          'warning',
          'W_ID_MISMATCH',
          'id',
          `the manifest's id is "${manifest.id}", but registry.json lists the folder as "${entry.id}". Make them equal.`,
          manifestFile,
        );
      }
    }
    if (typeof packageJson?.version === 'string' && packageJson.version !== entry.version && !entry.package) {
      add(
        ctx,
        'warning',
        'W_PACKAGE_VERSION',
        'version',
        `${entry.id}: package.json says version ${packageJson.version}, registry.json says ${entry.version}. Make them equal.`,
        `${entry.path}/package.json`,
      );
    }
  }
}

/** Where an entry point was declared, as `entryModuleOf` names it, as a file and json path of the entry folder. */
function declaredAt(entry: IndexEntry, field: unknown): { file: string; path: string } {
  if (field === 'manifest.json "entry"') return { file: `${entry.path}/manifest.json`, path: 'entry' };
  if (field === 'manifest.json "entryPoint"') return { file: `${entry.path}/manifest.json`, path: 'entryPoint' };
  return { file: `${entry.path}/package.json`, path: 'main' };
}

/**
 * Every extension has the module a host imports (the same choice `load` makes: manifest `entry`/`entryPoint`,
 * package.json exports/main, extensions[].entry, index.js), it is inside the folder, and it is JavaScript: hosts run
 * no TypeScript. An entry naming an npm `package` may leave its code to that package. A declared entry point that is
 * missing while another file is used is a warning: the file loaded is not the one the author meant.
 */
async function checkEntryPoints(ctx: Context): Promise<void> {
  for (const folder of ctx.read.values()) {
    const { entry, dir, manifest, packageJson } = folder;
    if (entry.section !== 'extensions' || !manifest) continue;
    let module: string | undefined;
    try {
      module = entryModuleOf(dir, manifest, packageJson, { id: entry.id, registry: ctx.registry });
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      const declared = typeof error.details?.entryPoint === 'string' ? error.details.entryPoint : undefined;
      if (error.code === 'E_LOAD' && declared !== undefined) {
        const at = declaredAt(entry, error.details?.field);
        add(
          ctx,
          'error',
          'E_ENTRY_POINT_NOT_JS',
          at.path,
          `${entry.id}: the entry point ${declared} is not JavaScript, and hosts import only .js, .mjs or .cjs. Ship the built JavaScript (e.g. compile with tsc) and ${at.path === 'main' ? 'set package.json "main" to it' : `point "${at.path}" in manifest.json at it, or drop "${at.path}" and set package.json "main" to the built file`}.`,
          at.file,
        );
      } else {
        add(ctx, 'error', error.code, '(root)', `${entry.id}: ${error.message}`, `${entry.path}/manifest.json`);
      }
      continue;
    }
    if (entry.package) continue;
    const declared: Array<{ value: unknown; file: string; path: string }> = [
      { value: manifest.entry, file: 'manifest.json', path: 'entry' },
      { value: manifest.entryPoint, file: 'manifest.json', path: 'entryPoint' },
      { value: packageJson?.main, file: 'package.json', path: 'main' },
      ...(manifest.extensions ?? []).map((extension, i) => ({ value: extension?.entry, file: 'manifest.json', path: `extensions[${i}].entry` })),
    ];
    const missing: typeof declared = [];
    for (const item of declared) {
      if (typeof item.value !== 'string' || item.value === '') continue;
      const found = await stat(join(dir, item.value)).catch(() => undefined);
      if (!found?.isFile()) missing.push(item);
    }
    if (module === undefined) {
      const at = missing[0];
      add(
        ctx,
        'error',
        'E_ENTRY_POINT_MISSING',
        at ? at.path : '(root)',
        at
          ? `${entry.id}: the entry point ${String(at.value)} does not exist in ${entry.path}, and hosts find no other module to import. Add the built file, or point "${at.path}" at the one that exists.`
          : `${entry.id}: ${entry.path} has no module for hosts to import. Set "entry" in manifest.json or "main" in package.json to its built JavaScript file (or name an npm "package" in registry.json).`,
        `${entry.path}/${at ? at.file : 'manifest.json'}`,
      );
      continue;
    }
    for (const item of missing) {
      add(
        ctx,
        'warning',
        'W_ENTRY_POINT_UNUSED',
        item.path,
        `${entry.id}: ${String(item.value)} does not exist, so hosts import ${module.slice(dir.length + 1)} instead. Fix "${item.path}", or remove it.`,
        `${entry.path}/${item.file}`,
      );
    }
  }
}

/** Every persona is what AgentOS requires (persona.json, or SOUL.md with front matter), read as `load` reads it. */
async function checkPersonas(ctx: Context): Promise<void> {
  for (const folder of ctx.read.values()) {
    const { entry, dir, manifest } = folder;
    if (entry.section !== 'personas' || !manifest) continue;
    // What loadPersona reads of a fetched entry: the folder, the index entry, the manifest and whether it was built.
    const fetched = { dir, entry, registry: ctx.registry, manifest, manifestSynthesized: folder.synthesized === true } as unknown as FetchedEntry;
    let persona: Awaited<ReturnType<typeof loadPersona>>;
    try {
      persona = await loadPersona(fetched);
    } catch (error) {
      if (!isRegistryError(error)) throw error;
      const at = located(error, `${entry.path}/persona.json`);
      if (error.code === 'E_MANIFEST_MISSING') {
        add(
          ctx,
          'error',
          'E_PERSONA_MISSING',
          '(root)',
          `${entry.id}: ${entry.path} holds no persona. Add persona.json (id, name, version, baseSystemPrompt), or SOUL.md (YAML front matter and a Markdown body).`,
          at.file,
        );
      } else if (error.code === 'E_INDEX_INVALID') {
        add(
          ctx,
          'error',
          'E_PERSONA_INVALID',
          at.path,
          `${entry.id}: ${bareEntry(ctx, error, at)} A persona needs id, name, version and baseSystemPrompt.`,
          at.file,
        );
      } else {
        add(ctx, 'error', error.code, at.path, bareEntry(ctx, error, at), at.file);
      }
      continue;
    }
    const file = `${entry.path}/${(await stat(join(dir, 'persona.json')).catch(() => undefined)) ? 'persona.json' : 'SOUL.md'}`;
    if (persona.version !== entry.version) {
      add(
        ctx,
        'error',
        'E_VERSION_MISMATCH',
        'version',
        `${entry.id}: the persona says version ${String(persona.version)}, registry.json says ${entry.version}. Make them equal.`,
        file,
      );
    }
    if (persona.id !== entry.id) {
      add(
        ctx,
        'warning',
        'W_ID_MISMATCH',
        'id',
        `the persona's id is "${String(persona.id)}", but registry.json lists it as "${entry.id}". Make them equal.`,
        file,
      );
    }
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
const CHECKS: ReadonlyArray<(ctx: Context) => Promise<void>> = [
  checkIndex,
  checkIds,
  checkVersions,
  checkPaths,
  checkManifests,
  checkEntryPoints,
  checkPersonas,
  checkSignature,
  checkEntryHashes,
];

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
    wheres: [],
    read: new Map(),
    folders: new Map(),
    problems: [],
  };
  for (const check of CHECKS) await check(ctx);

  const errors = ctx.problems.filter((p) => p.severity === 'error').length;
  const warnings = ctx.problems.length - errors;
  const strict = options.strict === true;
  const block = ctx.signed?.signed;
  const result: ValidateJson = {
    dir,
    valid: errors === 0 && (!strict || warnings === 0),
    strict,
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
  const verdict = result.valid ? 'valid' : errors === 0 ? 'invalid (--strict: warnings fail)' : 'invalid';
  return {
    text: `${lines.join('')}${summary}${verdict}: ${count(errors, 'error')}, ${count(warnings, 'warning')}\n`,
    ok: result.valid,
  };
}

/** Adds `validate` to the program; `fail` is called when the registry has errors (exit code 1). */
export function addValidateCommand(program: Command, io: CliIo, out: (text: string) => void, json: boolean, fail: () => void): void {
  program
    .command('validate [registry-dir]')
    .description(
      'check a registry folder as hosts read it: registry.json and every manifest, ids, versions, entry paths and entry points, personas, and the signatures of a signed index (exit 1 on errors)',
    )
    .option('--strict', 'warnings fail too (exit 1)')
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
