/**
 * `agentos-registry mirror --to <dir>` and `agentos-registry verify-mirror <dir>`: core's `mirrorRegistries` and
 * `verifyMirror` (docs/mirror.md), printed as text or JSON.
 */
import { resolve } from 'node:path';
import { type MirrorProblem, mirrorRegistries, type Registry, verifyMirror } from '@agentos-registry/core';
import { toJson } from './format.js';
import type { CliIo } from './io.js';

export interface MirrorCommandOptions {
  to: string;
  kinds?: string[];
  refs?: string[];
  all?: boolean;
  kind?: string;
}

/** Mirrors, and answers what to print. Refs are tools unless `--kind` says otherwise (personas resolve as persona). */
export async function mirrorCommand(io: CliIo, registry: Registry, options: MirrorCommandOptions, json: boolean): Promise<string> {
  const to = resolve(io.cwd, options.to);
  const refs = options.refs?.map((ref) => ({ kind: options.kind ?? 'tool', ref }));
  const result = await mirrorRegistries(registry, {
    to,
    ...(refs?.length ? { refs } : {}),
    ...(options.all || !refs?.length ? { all: true } : {}),
    ...(options.kinds?.length ? { kinds: options.kinds } : {}),
  });
  if (json) return `${toJson({ to, copied: result.copied, kept: result.kept, registries: result.manifest.registries })}\n`;
  const lines = result.manifest.registries.map((r) => `${r.name} (${r.source.type}): ${r.entries.length} entr${r.entries.length === 1 ? 'y' : 'ies'}`);
  return `${lines.join('\n')}${lines.length ? '\n' : ''}Mirrored into ${to}: ${result.copied.length} copied, ${result.kept.length} unchanged.\n`;
}

/** Verifies; `fail` is called when any problem is found (exit 1). */
export async function verifyMirrorCommand(io: CliIo, dir: string, json: boolean, fail: () => void): Promise<string> {
  const where = resolve(io.cwd, dir);
  const problems: MirrorProblem[] = await verifyMirror(where);
  if (problems.length) fail();
  if (json) return `${toJson({ dir: where, ok: problems.length === 0, problems })}\n`;
  if (!problems.length) return `Mirror ${where} is intact: every file matches SHA256SUMS and every entry its h1.\n`;
  return `${problems.map((p) => `${p.problem}: ${p.message}`).join('\n')}\nMirror ${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'}.\n`;
}
