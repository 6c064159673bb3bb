/**
 * `agentos-registry index [dir]`: regenerates `registry.json` from the entry folders, for a registry's owner and its
 * CI (`--check` exits 1 when the file is out of date, and writes nothing). Every folder under `registry/` holding a
 * `manifest.json` is an entry (a persona when it has `persona.json` or `SOUL.md`, or its manifest says
 * `kind: "persona"`); its tier is the first folder under `registry/`. What the folders say wins for `id`, `name`,
 * `version` and `path`; every other field of an entry already listed (description, author, tools, …) and every
 * top-level field is kept as written. `updated` changes only when something else did.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { RegistryError } from '@agentos-registry/core';
import type { Command } from 'commander';
import { toJson } from './format.js';
import type { CliIo } from './io.js';

type Json = Record<string, unknown>;

interface FoundEntry {
  section: 'extensions' | 'personas';
  tier: string;
  /** Relative to `registry/`, with `/`. */
  path: string;
  manifest: Json;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

async function readJson(file: string, label: string): Promise<Json> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    // The parse error is not quoted: it would show the file's bytes.
    throw new RegistryError('E_INDEX_INVALID', `${label} is not valid JSON; run "agentos-registry validate" to see where.`, { details: { file } });
  }
  if (!isObject(value)) throw new RegistryError('E_INDEX_INVALID', `${label} must hold a JSON object.`, { details: { file } });
  return value;
}

/** Every folder under `registry/` that holds a manifest.json (not looking inside one, nor in node_modules). */
async function findEntries(entriesDir: string): Promise<FoundEntry[]> {
  const found: FoundEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    const items = await readdir(dir, { withFileTypes: true });
    if (dir !== entriesDir && items.some((item) => item.isFile() && item.name === 'manifest.json')) {
      const path = relative(entriesDir, dir).split(sep).join('/');
      const manifest = await readJson(join(dir, 'manifest.json'), `registry/${path}/manifest.json`);
      const persona = manifest.kind === 'persona' || items.some((item) => item.isFile() && (item.name === 'persona.json' || item.name === 'SOUL.md'));
      found.push({ section: persona ? 'personas' : 'extensions', tier: path.split('/')[0]!, path, manifest });
      return;
    }
    for (const item of items.sort((a, b) => a.name.localeCompare(b.name))) {
      if (item.isDirectory() && item.name !== 'node_modules' && !item.name.startsWith('.')) await walk(join(dir, item.name));
    }
  };
  await walk(entriesDir);
  return found;
}

/** The regenerated index document, built on `previous` (its fields and order kept). */
export function regenerate(previous: Json, found: readonly FoundEntry[], now: string): Json {
  // The real AgentOS registry writes paths from the repository root (`registry/curated/x`), the page's from `registry/`.
  const listed = (['extensions', 'personas'] as const).flatMap((section) =>
    Object.values(isObject(previous[section]) ? previous[section] : {}).flatMap((tier) => (Array.isArray(tier) ? tier.filter(isObject) : [])),
  );
  const rootPaths = listed.length > 0 && listed.every((e) => typeof e.path === 'string' && e.path.startsWith('registry/'));
  const byId = new Map<string, Json>();
  for (const entry of listed) if (typeof entry.id === 'string' && !byId.has(entry.id)) byId.set(entry.id, entry);
  const doc: Json = { ...previous };
  for (const section of ['extensions', 'personas'] as const) {
    const old = isObject(previous[section]) ? previous[section] : {};
    const mine = found.filter((f) => f.section === section);
    if (mine.length === 0 && !(section in previous)) continue;
    const tiers: Record<string, Json[]> = {};
    // Tiers keep their order, entries theirs; new tiers and new entries come after, by path.
    for (const tier of [...Object.keys(old), ...mine.map((f) => f.tier)]) tiers[tier] ??= [];
    const oldOrder = (tier: string, id: unknown) => {
      const list = Array.isArray(old[tier]) ? (old[tier] as unknown[]) : [];
      const at = list.findIndex((e) => isObject(e) && e.id === id);
      return at === -1 ? Number.POSITIVE_INFINITY : at;
    };
    const ordered = [...mine].sort((a, b) => oldOrder(a.tier, a.manifest.id) - oldOrder(b.tier, b.manifest.id) || a.path.localeCompare(b.path));
    for (const f of ordered) {
      const kept = typeof f.manifest.id === 'string' ? byId.get(f.manifest.id) : undefined;
      const entry: Json = { ...(kept ?? {}) };
      entry.id = f.manifest.id;
      entry.name = f.manifest.name ?? kept?.name ?? f.manifest.id;
      entry.version = f.manifest.version;
      entry.path = rootPaths ? `registry/${f.path}` : f.path;
      if (!kept) {
        if (f.manifest.description !== undefined) entry.description = f.manifest.description;
        if (f.manifest.author !== undefined) entry.author = f.manifest.author;
      }
      tiers[f.tier]!.push(entry);
    }
    doc[section] = tiers;
  }
  doc.version ??= '1.0.0';
  const { updated: _before, ...restBefore } = previous;
  const { updated: _after, ...restAfter } = doc;
  doc.updated = JSON.stringify(restBefore) === JSON.stringify(restAfter) && previous.updated !== undefined ? previous.updated : now;
  return doc;
}

/** Regenerates (or with `check`, compares) `dir/registry.json`; returns what to print and whether it was up to date. */
export async function indexCommand(
  io: CliIo,
  dirArg: string | undefined,
  options: { check?: boolean },
  asJson: boolean,
): Promise<{ text: string; upToDate: boolean }> {
  const dir = resolve(io.cwd, dirArg ?? '.');
  const entriesDir = join(dir, 'registry');
  if (!existsSync(entriesDir))
    throw new RegistryError(
      'E_USAGE',
      `${dir} has no registry/ folder; index lists the entry folders under it. Run "agentos-registry init" to start a registry.`,
    );
  const file = join(dir, 'registry.json');
  const previous = existsSync(file) ? await readJson(file, 'registry.json') : {};
  if (isObject(previous.signed))
    throw new RegistryError('E_USAGE', `${file} is signed; regenerating it would drop the signature. Run index before "agentos-registry sign".`);
  const found = await findEntries(entriesDir);
  const next = regenerate(previous, found, new Date().toISOString());
  const text = `${JSON.stringify(next, null, 2)}\n`;
  const upToDate = existsSync(file) && JSON.stringify(next) === JSON.stringify(previous);
  if (!options.check && !upToDate) await writeFile(file, text);
  const entries = found.length;
  if (asJson) return { text: `${toJson({ file, entries, upToDate, written: !options.check && !upToDate })}\n`, upToDate };
  if (options.check) {
    return {
      text: upToDate
        ? `${file} is up to date (${entries} entries)\n`
        : `${file} is out of date: run "agentos-registry index ${dirArg ?? '.'}" and commit the result\n`,
      upToDate,
    };
  }
  return { text: upToDate ? `${file} is up to date (${entries} entries)\n` : `wrote ${file} (${entries} entries)\n`, upToDate };
}

export function addIndexCommand(program: Command, io: CliIo, out: (text: string) => void, asJson: boolean, fail: () => void): void {
  program
    .command('index [registry-dir]')
    .description('regenerate registry.json from the entry folders, keeping its hand-written fields; --check exits 1 when it is out of date')
    .option('--check', 'write nothing; exit 1 when registry.json is not what index would write (for CI)')
    .action(async (dir: string | undefined, opts: { check?: boolean }) => {
      const result = await indexCommand(io, dir, opts, asJson);
      out(result.text);
      if (opts.check && !result.upToDate) fail();
    });
}
