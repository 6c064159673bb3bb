/** What each command prints: the JSON shapes (a stable interface for scripts) and the tables for people. */
import type { EntryInfo, ExtensionManifest, FetchedEntry, ListedEntry, LoadedExtension, LoadedPersona, SignatureStatus } from '@agentos-registry/core';
import { oneLine } from './terminal-text.js';

// ── JSON shapes ───────────────────────────────────────────────────────────────────────────────────────────────────

/** A row of `list --json` / `search --json`: the public fields of a listed entry. */
export type ListedJson = Pick<ListedEntry, 'registry' | 'id' | 'name' | 'version' | 'tier' | 'kinds' | 'verified'>;

export function listedJson(entries: readonly ListedEntry[]): ListedJson[] {
  return entries.map((e) => ({
    registry: e.registry,
    id: e.id,
    name: e.name,
    version: e.version,
    tier: e.tier,
    kinds: [...e.kinds],
    verified: e.verified === true,
  }));
}

export function infoJson(info: EntryInfo) {
  return {
    registry: info.registry,
    id: info.id,
    version: info.version,
    manifest: info.manifest,
    signature: info.signature,
    warnings: info.warnings.map((w) => ({ code: w.code, message: w.message })),
  };
}

export function fetchJson(fetched: FetchedEntry) {
  return {
    registry: fetched.registry,
    id: fetched.id,
    version: fetched.version,
    dir: fetched.dir,
    revision: fetched.revision,
    integrity: fetched.integrity,
    h1: fetched.h1,
    fromCache: fetched.fromCache,
    stale: fetched.stale,
  };
}

export function loadJson(loaded: LoadedExtension | LoadedPersona) {
  if (loaded.type === 'persona') return { persona: loaded.persona };
  const install = loaded.install;
  return {
    name: loaded.pack.name,
    descriptors: loaded.pack.descriptors.map((d) => ({ id: d.id, kind: d.kind })),
    ...(install
      ? {
          install: {
            packages: install.packages.map(({ name, version }) => ({ name, version })),
            allowScripts: install.allowScripts,
            scriptsRan: install.scriptsRan,
            peers: Object.keys(install.peers),
            ...(install.peersInstalled ? { peersInstalled: Object.keys(install.peersInstalled) } : {}),
            ...(install.scriptsSkipped ? { scriptsSkipped: install.scriptsSkipped } : {}),
          },
        }
      : {}),
  };
}

/** `JSON.stringify` that survives functions and cycles a loaded persona might carry. */
export function toJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'function' || typeof v === 'symbol') return undefined;
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    },
    2,
  );
}

// ── text ──────────────────────────────────────────────────────────────────────────────────────────────────────────

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: readonly string[], cells: ReadonlyArray<readonly string[]>): string {
  // Escaped before measuring: a cell is one line of what the terminal shows, whatever a registry put in it.
  const rows = cells.map((row) => row.map(oneLine));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function listText(entries: readonly ListedEntry[], search?: string): string {
  const count = plural(entries.length, 'entry', 'entries');
  const summary = search === undefined ? `${count}\n` : `${count} matching "${oneLine(search)}"\n`;
  if (entries.length === 0) return summary;
  const rows = entries.map((e) => [e.registry, e.id, e.version, e.tier, e.kinds.length > 0 ? e.kinds.join(',') : '-', e.verified ? 'yes' : 'no']);
  return table(['REGISTRY', 'ID', 'VERSION', 'TIER', 'KINDS', 'VERIFIED'], rows) + `\n${summary}`;
}

/** `label: value` lines with the values aligned; empty values are left out. */
export function fields(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${oneLine(value)}\n`).join('');
}

function manifestSummary(manifest: ExtensionManifest): string {
  const extensions = manifest.extensions ?? [];
  if (extensions.length === 0) {
    return manifest.kind ? `provides: ${manifest.kind}\n` : '';
  }
  const rows = extensions.map((x) => [x.kind, x.id, x.displayName ?? '']);
  const body = table(['KIND', 'ID', 'NAME'], rows)
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
  return `\n${plural(extensions.length, 'extension', 'extensions')}:\n${body}`;
}

/** `verified` is the registry's trust (config); an index's own `verified` mark is shown but does not count. */
function verifiedText(registryVerified: boolean, indexMark: boolean | undefined): string {
  if (registryVerified) return 'yes';
  return indexMark ? 'no (the index marks it verified, but the registry is not configured as verified)' : 'no';
}

/** The `signature` and `entry h1` lines of `info`. */
function signatureLines(s: SignatureStatus): Array<[string, string]> {
  if (s.mode !== 'signed') {
    const unchecked = s.indexSigned ? '; the index carries signatures, but without publicKeys nothing checks them' : '';
    const what =
      s.mode === 'trusted-transport' ? 'none: verified by trusted transport only (no publicKeys)' : 'none: unsigned, and the registry is not verified';
    return [['signature', what + unchecked]];
  }
  const when = s.expired ? `expired ${s.expires} (accepted because allowExpired is set)` : `expires ${s.expires}`;
  return [
    ['signature', `signed for "${s.identity}", version ${s.version}, ${when}; valid signatures by ${s.keyIds.join(', ')} (threshold ${s.threshold})`],
    [
      'entry h1',
      `${s.entry.h1} (${s.entry.checked ? "the entry's files match the signed index" : 'not checked: the code is the npm package, which the index signature does not cover'})`,
    ],
  ];
}

export function infoText(info: EntryInfo): string {
  const m = info.manifest;
  const p = info.provenance;
  const manifestVersion = m.version && m.version !== info.version ? `${info.version} (manifest says ${m.version})` : info.version;
  return (
    fields([
      ['id', info.id],
      ['name', m.name ?? info.entry.name],
      ['version', manifestVersion],
      ['registry', `${info.registry} (${p.sourceType} ${p.location})`],
      ['tier', info.entry.tier],
      ['package', info.entry.package],
      ['path', info.entry.path],
      ['revision', p.revision],
      ['h1', p.h1],
      ['verified', verifiedText(p.verified, info.entry.verified)],
      ...signatureLines(info.signature),
      ['description', m.description ?? info.entry.description],
    ]) + manifestSummary(m)
  );
}

export function fetchText(f: FetchedEntry): string {
  return fields([
    ['id', f.id],
    ['version', f.version],
    ['registry', f.registry],
    ['dir', f.dir],
    ['revision', f.revision],
    ['integrity', f.integrity],
    ['h1', f.h1],
    ['from cache', f.stale ? 'yes (stale: the source could not be reached)' : f.fromCache ? 'yes' : 'no'],
  ]);
}

function promptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt)) {
    return prompt.map((part) => (typeof part === 'string' ? part : String((part as { content?: unknown }).content ?? ''))).join('\n');
  }
  if (prompt && typeof prompt === 'object' && 'template' in prompt) return String((prompt as { template: unknown }).template);
  return '';
}

/**
 * Each line indented by two spaces. Lines end at `\n` (or CRLF) only: a lone `\r` is the registry's, shown escaped,
 * not a line end (a `^` of a multiline RegExp would start a line after it).
 */
function indent(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => `  ${line}`)
    .join('\n');
}

export function loadText(loaded: LoadedExtension | LoadedPersona): string {
  const f = loaded.fetched;
  if (loaded.type === 'persona') {
    const persona = loaded.persona;
    return (
      fields([
        ['persona', persona.id],
        ['name', persona.name],
        ['version', persona.version],
        ['registry', f.registry],
        ['description', typeof persona.description === 'string' ? persona.description : undefined],
      ]) + `\nsystem prompt:\n${indent(promptText(persona.baseSystemPrompt))}\n`
    );
  }
  const pack = loaded.pack;
  const head = `${oneLine(`${pack.name}${pack.version ? `@${pack.version}` : ''} from ${f.registry} (${f.id}@${f.version})`)}: ${plural(pack.descriptors.length, 'descriptor', 'descriptors')}\n`;
  const install = loaded.install;
  const installed = install
    ? oneLine(
        `dependencies: ${install.packages.length === 0 ? 'none installed' : install.packages.map((p) => `${p.name}@${p.version}`).join(', ')}` +
          `${Object.keys(install.peers).length > 0 ? `; peers from the host: ${Object.keys(install.peers).join(', ')}` : ''}` +
          `${Object.keys(install.peersInstalled ?? {}).length > 0 ? `; peers installed (the host lacks them): ${Object.keys(install.peersInstalled ?? {}).join(', ')}` : ''}` +
          `${install.scriptsRan.length > 0 ? `; install scripts ran: ${install.scriptsRan.join(', ')}` : ''}` +
          `${(install.scriptsSkipped ?? []).length > 0 ? `; install scripts not run (allow with --allow-scripts): ${(install.scriptsSkipped ?? []).join(', ')}` : ''}`,
      ) + '\n'
    : '';
  if (pack.descriptors.length === 0) return head + installed;
  return (
    head +
    installed +
    '\n' +
    table(
      ['KIND', 'ID'],
      pack.descriptors.map((d) => [d.kind, d.id]),
    )
  );
}
