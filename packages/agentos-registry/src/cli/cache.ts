/**
 * `agentos-registry cache ls|verify|clean|prune`: looking after the on-disk cache. The cache folder and maxAge come
 * from the config file when there is one (its cacheSettings), else from the defaults and AGENTOS_REGISTRY_CACHE.
 */
import { CacheStore, type NormalizedCacheSettings, resolveCacheSettings, treeBytes } from '@agentos-registry/core';
import { type CommonOptions, findConfig, loadFoundConfig } from './config.js';
import { table, toJson } from './format.js';
import type { CliIo } from './io.js';

/** The cache settings the CLI works on: those of the config file if one is found, else the defaults. */
export async function cacheSettingsFor(io: CliIo, options: CommonOptions): Promise<NormalizedCacheSettings> {
  if (!(await findConfig(io, options.config))) return resolveCacheSettings(undefined, { env: io.env, baseDir: io.cwd });
  const { config, baseDir } = await loadFoundConfig(io, options.config);
  return resolveCacheSettings(config.cacheSettings, { env: io.env, baseDir });
}

/** The store of `settings`, which knows what chose its folder (for the message when the folder is unusable). */
function storeOf(settings: NormalizedCacheSettings): CacheStore {
  return new CacheStore(settings.directory, { setBy: settings.setBy });
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export async function cacheLs(settings: NormalizedCacheSettings, json: boolean, now = Date.now()): Promise<string> {
  const usage = await storeOf(settings).usage();
  const rows = usage.rows;
  if (json) {
    return `${toJson({
      directory: settings.directory,
      bytes: usage.totalBytes,
      sharedBytes: usage.sharedBytes,
      otherBytes: usage.otherBytes,
      registries: rows.map((r) => ({
        registry: r.registry,
        sourceType: r.sourceType,
        location: r.location,
        revision: r.revision,
        ageMs: now - r.checkedAt,
        entries: r.entries,
        bytes: r.bytes,
        workBytes: r.workBytes,
        sharedBytes: r.sharedBytes,
      })),
    })}\n`;
  }
  if (rows.length === 0) return `cache ${settings.directory} holds no registry (${size(usage.totalBytes)} on disk)\n`;
  const body = table(
    ['REGISTRY', 'TYPE', 'REVISION', 'CHECKED', 'ENTRIES', 'SIZE', 'LOCATION'],
    rows.map((r) => [r.registry, r.sourceType, r.revision.slice(0, 16), `${age(now - r.checkedAt)} ago`, String(r.entries), size(r.bytes), r.location]),
  );
  // SIZE is what only that registry uses (with its work folder, e.g. a git mirror); shared content is counted once.
  const lines = [`${body}`];
  if (usage.sharedBytes > 0) lines.push(`shared by several registries: ${size(usage.sharedBytes)}`);
  if (usage.otherBytes > 0) lines.push(`folders, temp files and unreferenced content: ${size(usage.otherBytes)} (cache prune removes what is unreferenced)`);
  lines.push(`total: ${size(usage.totalBytes)} in ${settings.directory}`);
  return `${lines.join('\n')}\n`;
}

export async function cacheVerify(settings: NormalizedCacheSettings, json: boolean): Promise<{ text: string; ok: boolean }> {
  const result = await storeOf(settings).verify({ repair: true });
  const ok = result.problems.length === 0;
  if (json) return { text: `${toJson({ directory: settings.directory, checked: result.checked, problems: result.problems })}\n`, ok };
  const lines = result.problems.map((p) => `problem: ${p} (removed; it will be fetched again)`);
  lines.push(`${result.checked} item(s) checked in ${settings.directory}: ${ok ? 'all intact' : `${result.problems.length} problem(s)`}`);
  return { text: `${lines.join('\n')}\n`, ok };
}

export async function cacheClean(settings: NormalizedCacheSettings, registry: string | undefined, json: boolean): Promise<string> {
  const store = storeOf(settings);
  if (registry === undefined) {
    const bytes = await treeBytes(store.root);
    await store.clean();
    if (json) return `${toJson({ directory: settings.directory, registry: null, removed: 1, freedBytes: bytes })}\n`;
    return `removed the cache in ${settings.directory} (freed ${size(bytes)})\n`;
  }
  const { removed, bytes } = await store.cleanRegistry(registry);
  if (json) return `${toJson({ directory: settings.directory, registry, removed, freedBytes: bytes })}\n`;
  return removed > 0 || bytes > 0
    ? `removed the cached index and entries of "${registry}" (freed ${size(bytes)}; content other registries use is kept)\n`
    : `nothing cached for "${registry}"\n`;
}

export async function cachePrune(settings: NormalizedCacheSettings, json: boolean, now = Date.now()): Promise<string> {
  const removed = await storeOf(settings).prune(settings.maxAge, now);
  if (json) return `${toJson({ directory: settings.directory, maxAgeMs: settings.maxAge, removed })}\n`;
  return `pruned ${removed.contents} stored entr${removed.contents === 1 ? 'y' : 'ies'}, ${removed.refs} old reference(s) older than ${age(settings.maxAge)}, ${removed.work} unused work folder(s), ${removed.blobs} index blob(s) and ${removed.temp} leftover(s)\n`;
}
