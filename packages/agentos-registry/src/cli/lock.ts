/**
 * `agentos-registry lock [refs…]` and `--update`, and the lockfile settings of `--frozen` on fetch, load and info. The
 * lockfile (core's lockfile.ts, docs/lockfile.md) lives beside the config file unless `--lockfile` names another.
 */
import { join, resolve } from 'node:path';
import {
  type CreateRegistryOptions,
  emptyLockfile,
  LOCKFILE_NAME,
  type LockedEntry,
  type Lockfile,
  type Registry,
  RegistryError,
  readLockfile,
  withLocked,
  writeLockfile,
} from '@agentos-registry/core';
import { loadFoundConfig } from './config-discovery.js';
import type { CommonOptions } from './config.js';
import { toJson } from './format.js';
import type { CliIo } from './io.js';

/** The lockfile's path, what it holds (undefined when there is none yet), and the config's `lock.refs`. */
export async function lockfileFor(
  io: CliIo,
  options: CommonOptions,
): Promise<{ file: string; lock: Lockfile | undefined; refs: Array<{ kind?: string; ref: string }> | undefined }> {
  const loaded = await loadFoundConfig(io, options.config);
  const file = options.lockfile ? resolve(io.cwd, options.lockfile) : join(loaded.baseDir, LOCKFILE_NAME);
  return { file, lock: await readLockfile(file), refs: loaded.lock?.refs };
}

/**
 * What fetch, load and info pass to `createRegistry`: the lockfile when there is one (drift is then a warning), and
 * with `--frozen` also `frozen` (drift, or a reference it does not hold, is E_LOCK_MISMATCH). `--frozen` without a
 * lockfile is an error, not a silent unlocked run.
 */
export async function lockOptionsFor(io: CliIo, options: CommonOptions): Promise<Pick<CreateRegistryOptions, 'lockfile' | 'frozen'>> {
  const { file, lock } = await lockfileFor(io, options);
  if (options.frozen && !lock) {
    throw new RegistryError(
      'E_CONFIG',
      `--frozen needs a lockfile, and there is none at ${file}. Write it with "agentos-registry lock <ref…>", or name it with --lockfile.`,
      {
        details: { file },
      },
    );
  }
  return lock ? { lockfile: lock, ...(options.frozen ? { frozen: true } : {}) } : {};
}

interface LockRow {
  status: 'locked' | 'kept' | 'updated';
  entry: LockedEntry;
}

/**
 * Writes the lockfile. Without `--update`, each reference not yet locked is resolved and added, and one already locked
 * is kept as it is; with no reference named, the config's `lock.refs` are the set (entries no longer listed are
 * dropped). `--update` resolves again (revalidating every index) the named references, or every locked one.
 */
export async function lockCommand(
  io: CliIo,
  options: CommonOptions,
  args: { refs: string[]; kind?: string; update?: boolean },
  open: (extra: Pick<CreateRegistryOptions, 'refresh'>) => Promise<Registry>,
  json: boolean,
): Promise<string> {
  const { file, lock: existing, refs: configRefs } = await lockfileFor(io, options);
  const old = existing ?? emptyLockfile();
  const named = args.refs.map((ref) => ({ ref, ...(args.kind ? { kind: args.kind } : {}) }));
  let targets: Array<{ kind?: string; ref: string }>;
  let keepOthers = true;
  if (named.length > 0) targets = named;
  else if (args.update) targets = [...old.entries.map((e) => ({ kind: e.kind, ref: e.ref })), ...(configRefs ?? [])];
  else if (configRefs && configRefs.length > 0) {
    targets = configRefs;
    keepOthers = false;
  } else {
    throw new RegistryError(
      'E_USAGE',
      'Nothing to lock: name references ("agentos-registry lock com.yourorg.tool@^1"), or list them in the config file\'s lock.refs beside registryConfig.',
    );
  }
  const lockedOf = (target: { kind?: string; ref: string }) =>
    old.entries.find(
      (e) => e.ref === target.ref && (target.kind === undefined || e.kind === target.kind || (target.kind !== 'persona' && e.kind === 'persona')),
    );

  const registry = await open(args.update ? { refresh: true } : {});
  const rows: LockRow[] = [];
  try {
    const seen = new Set<string>();
    for (const target of targets) {
      const before = lockedOf(target);
      if (before && !args.update) {
        rows.push({ status: 'kept', entry: before });
      } else {
        const entry = await registry.lock(target.kind ?? before?.kind ?? 'tool', target.ref);
        rows.push({ status: before ? 'updated' : 'locked', entry });
      }
      const key = `${rows.at(-1)!.entry.kind}\0${target.ref}`;
      if (seen.has(key)) rows.pop();
      seen.add(key);
    }
  } finally {
    await registry.close();
  }
  let next: Lockfile = keepOthers ? old : emptyLockfile();
  for (const row of rows) next = withLocked(next, row.entry);
  await writeLockfile(file, next);

  if (json) {
    return `${toJson({
      lockfile: file,
      entries: rows.map(({ status, entry }) => ({
        status,
        kind: entry.kind,
        ref: entry.ref,
        registry: entry.registry,
        id: entry.id,
        version: entry.version,
        h1: entry.h1,
      })),
    })}\n`;
  }
  const lines = rows.map(
    ({ status, entry }) => `${status.padEnd(8)} ${entry.kind} ${entry.ref} → ${entry.id}@${entry.version} from ${entry.registry}  ${entry.h1}\n`,
  );
  return `${lines.join('')}wrote ${file}\n`;
}
