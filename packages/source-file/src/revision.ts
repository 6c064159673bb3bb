import { createHash, type Hash } from 'node:crypto';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '@agentos-registry/core';
import { isMissing, unreadable } from './registry-folder.js';

/** Folders that hold installed or VCS data, not registry content; their churn must not invalidate the cache. */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git']);

/** How many `lstat` calls run at once inside one folder: enough to hide disk latency, few enough to spare handles. */
const STAT_BATCH = 64;

/**
 * The revision id of a registry folder.
 *
 * A local folder has no commit or ETag, so the id is derived from what is there: the bytes of `registry.json`, plus
 * one line per file of (relative path, size, mtimeMs) and per symlink of (relative path, target), walked in sorted
 * order. It changes whenever a file is added, removed, renamed, resized or rewritten, which is what core needs to
 * know when to re-read the index and re-copy entries.
 *
 * Why metadata and not a content hash of every file: the cost is one `readdir` per folder and one `lstat` per file
 * (a few milliseconds for the ~370 files of the AgentOS extensions registry), whereas hashing would read every byte
 * on every freshness check. The price is that an edit keeping both size and mtime (a same-length rewrite within the
 * same millisecond, or a tool that restores mtimes) goes unnoticed until something else changes; until then core keeps
 * the index and the integrity it recorded for the previous content, while in-place entries already show the new bytes.
 *
 * `node_modules` and `.git` folders are skipped at every depth: installing dependencies or fetching into a clone is
 * not a change to the registry, and those trees can be large.
 */
export async function computeFileRevision(root: string, indexBytes: Uint8Array, signal: AbortSignal, registry: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(indexBytes);
  await walk(root, '', hash, signal, registry);
  // 40 hex digits, like a git sha: plenty against accidental collisions, short enough for cache paths.
  return `fs-${hash.digest('hex').slice(0, 40)}`;
}

/** Compares by UTF-16 code units, not locale, so the order (and thus the id) is the same on every machine. */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

async function walk(root: string, relative: string, hash: Hash, signal: AbortSignal, registry: string): Promise<void> {
  throwIfAborted(signal, 'Checking the revision', registry);
  const folder = relative === '' ? root : join(root, relative);
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    names = entries
      .filter((entry) => !(entry.isDirectory() && SKIPPED_FOLDERS.has(entry.name)))
      .sort(byName)
      .map((entry) => entry.name);
  } catch (error) {
    // A sub-folder removed while we walk (an editor's temp folder) is simply not there; the root was checked before.
    if (relative !== '' && isMissing(error)) return;
    throw unreadable(error, folder, registry);
  }
  for (let start = 0; start < names.length; start += STAT_BATCH) {
    throwIfAborted(signal, 'Checking the revision', registry);
    const batch = names.slice(start, start + STAT_BATCH);
    const lines = await Promise.all(batch.map((name) => describeNode(root, relative === '' ? name : `${relative}/${name}`, registry)));
    for (const [index, line] of lines.entries()) {
      if (line === undefined) continue;
      // JSON keeps names containing newlines or quotes from colliding with other lines.
      hash.update(`${JSON.stringify(line)}\n`);
      if (line[0] === 'dir') await walk(root, `${relative === '' ? '' : `${relative}/`}${batch[index]}`, hash, signal, registry);
    }
  }
}

type Line = ['dir', string] | ['file', string, number, number] | ['link', string, string] | ['other', string];

/** The line one folder member adds to the hash; `undefined` when it vanished since the folder was listed. */
async function describeNode(root: string, relative: string, registry: string): Promise<Line | undefined> {
  const path = join(root, relative);
  try {
    const info = await lstat(path);
    if (info.isDirectory()) return ['dir', relative];
    if (info.isSymbolicLink()) return ['link', relative, await readlink(path)];
    if (info.isFile()) return ['file', relative, info.size, info.mtimeMs];
    return ['other', relative];
  } catch (error) {
    // Gone between readdir and lstat (an editor's swap file): it is no longer part of the registry.
    if (isMissing(error)) return undefined;
    throw unreadable(error, path, registry);
  }
}
