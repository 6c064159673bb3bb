/**
 * `agentos-registry pack <registry-dir> --out <site-dir>`: turns a registry folder into the static site a `url`
 * registry reads (one deterministic tarball per entry, `dist` with its integrity in the site's registry.json). The
 * work is `packRegistry` of `@agentos-registry/source-url`; this file only resolves paths and prints.
 */
import { resolve } from 'node:path';
import { type PackResult, packRegistry } from '@agentos-registry/source-url';
import { table, toJson } from './format.js';
import type { CliIo } from './io.js';

/** The `--json` output of `pack`, a stable interface for scripts (documented in docs/static-registry.md). */
export interface PackJson {
  /** The registry folder that was packed (absolute). */
  registry: string;
  /** The site folder written (absolute). */
  out: string;
  /** The site's registry.json (absolute). */
  index: string;
  /** Number of entries packed. */
  count: number;
  /** Total bytes of the tarballs. */
  bytes: number;
  entries: Array<{ id: string; version: string; section: string; tier: string; path: string; tarball: string; integrity: string; bytes: number }>;
}

export function packJson(registry: string, result: PackResult): PackJson {
  return {
    registry,
    out: result.outDir,
    index: result.index,
    count: result.entries.length,
    bytes: result.bytes,
    entries: result.entries.map((e) => ({
      id: e.id,
      version: e.version,
      section: e.section,
      tier: e.tier,
      path: e.path,
      tarball: e.tarball,
      integrity: e.integrity,
      bytes: e.bytes,
    })),
  };
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Packs `registryDir` into `outDir` (both relative to the working directory) and returns what to print. */
export async function packCommand(io: CliIo, registryDir: string, outDir: string, json: boolean): Promise<string> {
  const registry = resolve(io.cwd, registryDir);
  const result = await packRegistry(registry, resolve(io.cwd, outDir));
  if (json) return `${toJson(packJson(registry, result))}\n`;
  const count = `${result.entries.length} ${result.entries.length === 1 ? 'entry' : 'entries'}`;
  const rows = result.entries.map((e) => [e.id, e.version, size(e.bytes), e.tarball]);
  return (
    `Packed ${count} (${size(result.bytes)}) into ${result.outDir}\n` +
    (rows.length > 0 ? table(['ID', 'VERSION', 'SIZE', 'TARBALL'], rows) : '') +
    `Serve that folder with any static web server, then configure { type: 'url', location: '<its URL>' }.\n`
  );
}
