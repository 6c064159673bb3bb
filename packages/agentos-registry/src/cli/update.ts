/**
 * `agentos-registry update [registry...]`: revalidate every configured registry now, as `helm repo update` does, and
 * say per registry whether it was unchanged, updated to a revision, or failed (with the error code). Exit 1 when any
 * failed. Core does the work (`Registry.update`); this file only words the answer.
 */
import type { Registry, RegistryUpdate } from '@agentos-registry/core';
import { table, toJson } from './format.js';
import { oneLine } from './terminal-text.js';

const short = (revision: string | undefined) => (revision ?? '').slice(0, 16);

function statusText(u: RegistryUpdate): string {
  if (u.status === 'unchanged') return `unchanged (${short(u.revision)})`;
  if (u.status === 'updated')
    return u.previous === undefined ? `updated to ${short(u.revision)} (nothing was cached)` : `updated to ${short(u.revision)} (was ${short(u.previous)})`;
  return `failed [${u.error?.code ?? 'E_INTERNAL'}]`;
}

/** Runs the update; answers the table (or JSON) for stdout, each failure's message for stderr, and whether all answered. */
export async function updateCommand(registry: Registry, names: readonly string[], json: boolean): Promise<{ text: string; errors: string; ok: boolean }> {
  const results = await registry.update(names.length > 0 ? names : undefined);
  const ok = results.every((u) => u.status !== 'failed');
  if (json) {
    const rows = results.map((u) => ({
      registry: u.registry,
      status: u.status,
      revision: u.revision ?? null,
      previous: u.previous ?? null,
      ...(u.error ? { error: { code: u.error.code, message: u.error.message } } : {}),
    }));
    return { text: `${toJson({ registries: rows })}\n`, errors: '', ok };
  }
  const body = table(
    ['REGISTRY', 'STATUS'],
    results.map((u) => [u.registry, statusText(u)]),
  );
  const errors = results
    .filter((u) => u.error)
    .map((u) => `error [${u.error!.code}] ${oneLine(u.error!.message)}\n`)
    .join('');
  return { text: body, errors, ok };
}
