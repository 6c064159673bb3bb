/**
 * The on-disk cache core keeps for every source. Layout under the cache directory (`v1/` so a future layout can
 * live beside it):
 *
 *   v1/indexes/<key>.json          what core knows of a registry: revision, validators, clocks, index hash
 *   v1/blobs/<sha512-hex>          index bytes, addressed by their hash
 *   v1/refs/<key>/<hash>.json      (revision, entry path) → stored tree
 *   v1/content/<hex>/files/…       an entry's files, addressed by their integrity (immutable)
 *   v1/content/<hex>/meta.json     integrity and a fingerprint (path, size, mtime) of every file
 *   v1/work/<key>/                 a source's private data (a bare git mirror, …)
 *   v1/tmp/                        partial writes; everything is written here and renamed into place
 *
 * Rename is atomic on one file system, so several processes can share a directory: a reader sees a whole file or
 * tree or nothing, and two writers of the same content produce the same bytes. Keys derive from the registry's
 * name, type and public location — never from a token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { CacheDirectorySetting } from './config.js';
import type { SourceRevision } from './contract.js';
import { RegistryError } from './errors.js';
import { scanTree } from './tree.js';

export const LAYOUT = 'v1';

export interface IndexRecord {
  v: 1;
  registry: string;
  key: string;
  sourceType: string;
  location: string;
  revision: SourceRevision;
  /** sha512 hex of the index bytes in `blobs/`. */
  indexHash: string;
  /** When the source last confirmed this revision (a download or an "unchanged" answer). */
  checkedAt: number;
  /** When the index bytes were downloaded. */
  fetchedAt: number;
}

export interface EntryRef {
  v: 1;
  registry: string;
  revision: string;
  path: string;
  content: string;
  integrity: string;
  storedAt: number;
  /** Facts a caller keeps with the ref (e.g. npm's integrity of a package); never secret. */
  extra?: Record<string, string>;
}

export interface ContentMeta {
  v: 1;
  integrity: string;
  bytes: number;
  /** [relative path, size, mtimeMs] of every regular file: a cheap check that nothing was truncated or edited. */
  files: Array<[string, number, number]>;
  storedAt: number;
}

export interface StoredContent {
  dir: string;
  integrity: string;
  content: string;
  meta: ContentMeta | undefined;
  extra?: Record<string, string>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sha512hex = (bytes: Uint8Array) => createHash('sha512').update(bytes).digest('hex');

/** The cache key of a registry: readable name plus a hash of what identifies its content. Never a secret. */
export function registryKey(
  name: string,
  identity: { type: string; location: string; branch?: string | undefined; options?: Record<string, unknown>; credentials?: boolean },
): string {
  const safe = name.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 40);
  const options = identity.options
    ? Object.keys(identity.options)
        .sort()
        .map((k) => [k, identity.options![k]])
    : [];
  const parts: unknown[] = [name, identity.type, identity.location, identity.branch ?? null, options];
  if (identity.credentials) parts.push('with-credentials');
  return `${safe}-${sha256(JSON.stringify(parts)).slice(0, 12)}`;
}

/** The content folder name for an integrity string. */
export function contentName(integrity: string): string {
  return Buffer.from(integrity.replace(/^sha512-/, ''), 'base64')
    .toString('hex')
    .slice(0, 48);
}

/**
 * True for a single plain file name (letters, digits, `.`, `_`, `-`; not `.` or `..`). Every name the cache reads
 * back from its own JSON files (a content folder, an index hash, a registry key) must be one before it becomes a
 * path, so a hand-edited or damaged cache file cannot point a read or an `rm` outside the cache.
 */
function isPlainName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9._-]{1,255}$/.test(name) && name !== '.' && name !== '..';
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    // Missing, truncated or edited: all mean "not cached" here.
    return undefined;
  }
}

/**
 * The bytes under `path` as `du -sb` counts them: the apparent size of every file, folder and link (not followed),
 * each inode once, so hard links and a second walk of the same tree add nothing. 0 when it does not exist.
 */
export async function treeBytes(path: string, seen: Set<string> = new Set()): Promise<number> {
  let s: Awaited<ReturnType<typeof lstat>>;
  try {
    s = await lstat(path);
  } catch {
    return 0;
  }
  const inode = `${s.dev}:${s.ino}`;
  if (seen.has(inode)) return 0;
  seen.add(inode);
  let total = s.size;
  if (s.isDirectory()) {
    const names = await readdir(path).catch(() => [] as string[]);
    for (const name of names) total += await treeBytes(join(path, name), seen);
  }
  return total;
}

/** How long an unreferenced item is spared by prune: another process may be about to write the ref that names it. */
const YOUNG_MS = 10 * 60 * 1000;

/** One cached registry as `cache ls` shows it. */
export interface CacheSummaryRow {
  registry: string;
  key: string;
  sourceType: string;
  location: string;
  revision: string;
  checkedAt: number;
  fetchedAt: number;
  /** Entries stored for the current revision. */
  entries: number;
  /** Bytes on disk only this registry uses: its index, refs, work folder (a git mirror, …) and content no other registry references. */
  bytes: number;
  /** Of those, the bytes of its work folder. */
  workBytes: number;
  /** Bytes of content this registry references that another registry references too (counted once, in the totals). */
  sharedBytes: number;
}

/** The whole cache folder: what `cache ls` totals. */
export interface CacheUsage {
  rows: CacheSummaryRow[];
  /** Every byte under the cache folder, as `du -sb` counts it. */
  totalBytes: number;
  /** Content referenced by more than one registry, once. */
  sharedBytes: number;
  /** What no cached registry accounts for: temp files, content and work folders nothing references (prune removes them). */
  otherBytes: number;
}

async function fingerprint(dir: string): Promise<Array<[string, number, number]>> {
  const out: Array<[string, number, number]> = [];
  async function walk(abs: string, rel: string): Promise<void> {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : posix.join(rel, name);
      const s = await lstat(childAbs);
      if (s.isDirectory()) await walk(childAbs, childRel);
      else if (s.isFile()) out.push([childRel, s.size, Math.round(s.mtimeMs)]);
    }
  }
  await walk(dir, '');
  return out;
}

/** File system errors that mean the cache folder itself cannot be used, whatever is being written. */
const UNUSABLE: Readonly<Record<string, string>> = {
  ENOTDIR: 'is a file, not a folder',
  EEXIST: 'is a file, not a folder',
  EACCES: 'cannot be written by this process (permission denied)',
  EPERM: 'cannot be written by this process (operation not permitted)',
  EROFS: 'is on a read-only file system',
};

/** The deepest existing part of `path` (a file in the way, or the folder that refused the write). */
async function existingPart(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    if (
      await lstat(current).then(
        () => true,
        () => false,
      )
    )
      return current;
    if (dirname(current) === current) return current;
  }
}

export class CacheStore {
  readonly root: string;
  readonly #directory: string;
  readonly #setBy: CacheDirectorySetting;

  /** `setBy` names the setting that chose `directory`, for the message when it cannot be used. */
  constructor(directory: string, options: { setBy?: CacheDirectorySetting } = {}) {
    this.#directory = directory;
    this.#setBy = options.setBy ?? 'cacheSettings.directory';
    this.root = join(directory, LAYOUT);
  }

  private path(...parts: string[]): string {
    for (const part of parts) {
      if (!isPlainName(part)) {
        throw new RegistryError(
          'E_UNSAFE_PATH',
          `The cache folder ${this.#directory} holds a file that names ${JSON.stringify(String(part)).slice(0, 80)}, which is not a plain file name; the cache was edited or damaged. Run \`agentos-registry cache verify --repair\` or \`agentos-registry cache clean\`.`,
          { details: { directory: this.#directory } },
        );
      }
    }
    return join(this.root, ...parts);
  }

  /**
   * Runs a write; when the folder cannot be written at all (a file in its place or on its path, no permission, a
   * read-only disk) the raw ENOTDIR or EACCES becomes `E_CONFIG` naming the folder, the setting that chose it and
   * what to do — it is a setting to fix, not a failure of the registry being read.
   */
  private async writing<T>(target: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === undefined || !Object.hasOwn(UNUSABLE, code) ? undefined : UNUSABLE[code];
      if (why === undefined) throw error;
      const part = code === 'ENOTDIR' || code === 'EEXIST' ? await existingPart(target) : undefined;
      const what = part && part !== this.#directory ? part : 'it';
      const setting =
        this.#setBy === 'AGENTOS_REGISTRY_CACHE'
          ? 'Point AGENTOS_REGISTRY_CACHE (which overrides cacheSettings.directory) at a folder this process can write'
          : this.#setBy === 'default'
            ? 'Set cacheSettings.directory to a folder this process can write'
            : 'Point cacheSettings.directory at a folder this process can write';
      throw new RegistryError(
        'E_CONFIG',
        `The cache folder ${this.#directory} cannot be used: ${what} ${why}. ${setting}${part && part !== this.#directory ? ', or remove what is in the way' : ''}, or turn the cache off with cacheSettings.enabled: false.`,
        { cause: error, details: { field: this.#setBy === 'default' ? 'cacheSettings.directory' : this.#setBy, directory: this.#directory } },
      );
    }
  }

  private async makeDir(dir: string): Promise<void> {
    await this.writing(dir, () => mkdir(dir, { recursive: true }));
  }

  /** A fresh temporary path inside the cache (same file system, so rename is atomic). */
  async tempPath(label: string): Promise<string> {
    await this.makeDir(this.path('tmp'));
    return this.path('tmp', `${label}-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  private async writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
    const temp = await this.tempPath('write');
    await this.writing(temp, () => writeFile(temp, data));
    await this.makeDir(dirname(file));
    await rename(temp, file);
  }

  /** The source's private folder for a registry. */
  async workDir(key: string): Promise<string> {
    const dir = this.path('work', key);
    await this.makeDir(dir);
    return dir;
  }

  // ── indexes ───────────────────────────────────────────────────────────────────────────────────────────────────

  /** The cached index of a registry, checked against its hash; damage is removed and reported as `damaged`. */
  async readIndex(key: string): Promise<{ record: IndexRecord; bytes: Uint8Array } | { damaged: true } | undefined> {
    const recordFile = this.path('indexes', `${key}.json`);
    const read = await readJson<IndexRecord>(recordFile);
    const record = read && isPlainName(read.indexHash) && read.key === key ? read : undefined;
    if (!record) {
      try {
        await stat(recordFile);
      } catch {
        return undefined;
      }
      await rm(recordFile, { force: true });
      return { damaged: true };
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path('blobs', record.indexHash));
    } catch {
      await rm(recordFile, { force: true });
      return { damaged: true };
    }
    if (sha512hex(bytes) !== record.indexHash) {
      await rm(this.path('blobs', record.indexHash), { force: true });
      await rm(recordFile, { force: true });
      return { damaged: true };
    }
    return { record, bytes };
  }

  /** Index bytes kept in the store by their sha512 (hex), whichever revision the registry's record now names; checked. */
  async readIndexBlob(indexHash: string): Promise<Uint8Array | undefined> {
    if (!isPlainName(indexHash)) return undefined;
    const bytes = await readFile(this.path('blobs', indexHash)).catch(() => undefined);
    return bytes && sha512hex(bytes) === indexHash ? bytes : undefined;
  }

  async writeIndex(record: Omit<IndexRecord, 'indexHash' | 'v'>, bytes: Uint8Array): Promise<IndexRecord> {
    const indexHash = sha512hex(bytes);
    const blob = this.path('blobs', indexHash);
    try {
      await stat(blob);
    } catch {
      await this.writeAtomic(blob, bytes);
    }
    const full: IndexRecord = { v: 1, ...record, indexHash };
    await this.writeAtomic(this.path('indexes', `${record.key}.json`), JSON.stringify(full));
    return full;
  }

  /** Restarts a record's clock after the source said "unchanged". */
  async touchIndex(record: IndexRecord): Promise<void> {
    await this.writeAtomic(this.path('indexes', `${record.key}.json`), JSON.stringify(record));
  }

  // ── entries ───────────────────────────────────────────────────────────────────────────────────────────────────

  private refFile(key: string, revision: string, path: string): string {
    return this.path('refs', key, `${sha256(`${revision}\0${path}`).slice(0, 32)}.json`);
  }

  /** The stored tree for (registry, revision, path), if it is present and its fingerprint still matches. */
  async readEntry(key: string, revision: string, path: string): Promise<StoredContent | undefined> {
    const ref = await readJson<EntryRef>(this.refFile(key, revision, path));
    if (!ref || ref.revision !== revision || ref.path !== path || !isPlainName(ref.content)) return undefined;
    const meta = await this.contentMeta(ref.content);
    if (!meta || !(await this.checkContent(ref.content, meta))) return undefined;
    return {
      dir: this.path('content', ref.content, 'files'),
      integrity: ref.integrity,
      content: ref.content,
      meta,
      ...(ref.extra ? { extra: ref.extra } : {}),
    };
  }

  /**
   * True when a stored tree is whole: its meta is readable and every file has its recorded size and mtime. A caller
   * that already holds the meta passes it, so a warm check costs one `lstat` per file and no read.
   */
  async checkContent(content: string, known?: ContentMeta): Promise<boolean> {
    const meta = known ?? (await readJson<ContentMeta>(this.path('content', content, 'meta.json')));
    if (!meta) return false;
    const dir = this.path('content', content, 'files');
    try {
      // In parallel: the checks are independent, and the thread pool runs them side by side.
      const checks = await Promise.all(
        meta.files.map(async ([rel, size, mtime]) => {
          const s = await lstat(join(dir, rel));
          return s.isFile() && s.size === size && Math.round(s.mtimeMs) === mtime;
        }),
      );
      return checks.every(Boolean);
    } catch {
      return false;
    }
  }

  /**
   * Moves a checked, hashed tree (`tempFiles`, inside `tmp/`) into the content store and records the ref. When the
   * same content is already stored and whole, the existing copy is kept; a damaged copy is replaced.
   */
  async storeEntry(
    tempFiles: string,
    integrity: string,
    ref: { key: string; registry: string; revision: string; path: string; extra?: Record<string, string> },
    now: number,
  ): Promise<StoredContent> {
    const content = contentName(integrity);
    const target = this.path('content', content);
    let meta: ContentMeta | undefined;
    if (!(await this.checkContent(content))) {
      const staging = await this.tempPath('entry');
      await this.makeDir(staging);
      await rename(tempFiles, join(staging, 'files'));
      const files = await fingerprint(join(staging, 'files'));
      meta = { v: 1, integrity, bytes: files.reduce((n, [, s]) => n + s, 0), files, storedAt: now };
      await writeFile(join(staging, 'meta.json'), JSON.stringify(meta));
      await this.makeDir(this.path('content'));
      try {
        await rename(staging, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        if (await this.checkContent(content)) {
          // Another process stored the same bytes first; theirs is as good as ours (and its mtimes are its own).
          await rm(staging, { recursive: true, force: true });
          meta = undefined;
        } else {
          // What is there is damaged: move it aside (atomic), then put ours in place.
          const aside = await this.tempPath('damaged');
          await rename(target, aside).catch(() => {});
          await rm(aside, { recursive: true, force: true });
          await rename(staging, target).catch(async () => rm(staging, { recursive: true, force: true }));
        }
      }
    } else {
      await rm(tempFiles, { recursive: true, force: true });
    }
    const entryRef: EntryRef = {
      v: 1,
      registry: ref.registry,
      revision: ref.revision,
      path: ref.path,
      content,
      integrity,
      storedAt: now,
      ...(ref.extra ? { extra: ref.extra } : {}),
    };
    await this.writeAtomic(this.refFile(ref.key, ref.revision, ref.path), JSON.stringify(entryRef));
    return { dir: join(target, 'files'), integrity, content, meta: meta ?? (await this.contentMeta(content)), ...(ref.extra ? { extra: ref.extra } : {}) };
  }

  // ── maintenance (cache ls / verify / clean / prune) ─────────────────────────────────────────────────────────────

  private async names(...parts: string[]): Promise<string[]> {
    try {
      // Only plain names: something else put there by hand is neither counted nor removed through a path built from it.
      return (await readdir(this.path(...parts))).filter(isPlainName).sort();
    } catch {
      return [];
    }
  }

  async records(): Promise<IndexRecord[]> {
    const out: IndexRecord[] = [];
    for (const name of await this.names('indexes')) {
      if (!name.endsWith('.json')) continue;
      const record = await readJson<IndexRecord>(this.path('indexes', name));
      // A record whose names are not plain (edited by hand, damaged) is skipped: nothing is read or removed through it.
      if (record && record.key === name.slice(0, -'.json'.length) && isPlainName(record.key) && isPlainName(record.indexHash)) out.push(record);
    }
    return out;
  }

  async refs(key: string): Promise<Array<EntryRef & { file: string }>> {
    const out: Array<EntryRef & { file: string }> = [];
    for (const name of await this.names('refs', key)) {
      const file = this.path('refs', key, name);
      const ref = await readJson<EntryRef>(file);
      if (ref && isPlainName(ref.content)) out.push({ ...ref, file });
    }
    return out;
  }

  async contentMeta(content: string): Promise<ContentMeta | undefined> {
    return readJson<ContentMeta>(this.path('content', content, 'meta.json'));
  }

  /** Registries with their revision, clocks, entry count and the bytes on disk only each uses (see {@link usage}). */
  async summary(): Promise<CacheSummaryRow[]> {
    return (await this.usage()).rows;
  }

  /** Which registries reference each stored content (by registry name), read from every refs folder. */
  private async contentUsers(): Promise<Map<string, Set<string>>> {
    const users = new Map<string, Set<string>>();
    for (const key of await this.names('refs')) {
      for (const ref of await this.refs(key)) {
        const set = users.get(ref.content) ?? new Set<string>();
        set.add(ref.registry);
        users.set(ref.content, set);
      }
    }
    return users;
  }

  /**
   * Every byte under the cache folder, by registry: a registry's row counts its index, refs, work folder and the
   * content only it references; content several registries reference is counted once, as shared; the rest (temp
   * files, unreferenced content or work folders) is "other". The three add up to the folder's size.
   */
  async usage(): Promise<CacheUsage> {
    const seen = new Set<string>();
    const totalBytes = await treeBytes(this.#directory, new Set());
    const users = await this.contentUsers();
    const records = await this.records();
    const blobUsers = new Map<string, number>();
    for (const r of records) blobUsers.set(r.indexHash, (blobUsers.get(r.indexHash) ?? 0) + 1);
    const rows: CacheSummaryRow[] = [];
    for (const record of records) {
      const refs = await this.refs(record.key);
      const workBytes = await treeBytes(this.path('work', record.key), seen);
      let bytes = workBytes + (await treeBytes(this.path('indexes', `${record.key}.json`), seen)) + (await treeBytes(this.path('refs', record.key), seen));
      if (blobUsers.get(record.indexHash) === 1) bytes += await treeBytes(this.path('blobs', record.indexHash), seen);
      let sharedBytes = 0;
      for (const content of new Set(refs.map((r) => r.content))) {
        const size = await treeBytes(this.path('content', content), users.get(content)!.size > 1 ? new Set() : seen);
        if (users.get(content)!.size > 1) sharedBytes += size;
        else bytes += size;
      }
      rows.push({
        registry: record.registry,
        key: record.key,
        sourceType: record.sourceType,
        location: record.location,
        revision: record.revision.id,
        checkedAt: record.checkedAt,
        fetchedAt: record.fetchedAt,
        entries: refs.filter((r) => r.revision === record.revision.id).length,
        bytes,
        workBytes,
        sharedBytes,
      });
    }
    let sharedBytes = 0;
    for (const [content, set] of users) if (set.size > 1) sharedBytes += await treeBytes(this.path('content', content), seen);
    const counted = rows.reduce((n, r) => n + r.bytes, 0) + sharedBytes;
    return { rows, totalBytes, sharedBytes, otherBytes: Math.max(0, totalBytes - counted) };
  }

  /** Re-hashes every index blob and stored tree. Returns the problems found (and removes damaged items when `repair`). */
  async verify(options: { repair?: boolean } = {}): Promise<{ checked: number; problems: string[] }> {
    const problems: string[] = [];
    let checked = 0;
    for (const name of await this.names('indexes')) {
      const key = name.replace(/\.json$/, '');
      checked += 1;
      const got = await this.readIndex(key);
      if (got && 'damaged' in got) problems.push(`index of ${key} was damaged and has been removed`);
    }
    for (const content of await this.names('content')) {
      checked += 1;
      const meta = await this.contentMeta(content);
      let ok = false;
      if (meta) {
        try {
          ok = (await scanTree(this.path('content', content, 'files'))).integrity === meta.integrity;
        } catch {
          ok = false;
        }
      }
      if (!ok) {
        problems.push(`stored entry ${content} does not match its integrity`);
        if (options.repair) await rm(this.path('content', content), { recursive: true, force: true });
      }
    }
    return { checked, problems };
  }

  /** Removes everything of one registry (by name), or the whole cache. Returns how many cached indexes went (1 for all). */
  async clean(registry?: string): Promise<number> {
    if (registry === undefined) {
      await this.writing(this.root, () => rm(this.root, { recursive: true, force: true }));
      return 1;
    }
    return (await this.cleanRegistry(registry)).removed;
  }

  /**
   * Removes one registry: its indexes, refs and work folders, the index bytes and the stored content no other
   * registry references (shared content stays). Returns how many cached indexes went and the bytes freed on disk.
   */
  async cleanRegistry(registry: string): Promise<{ removed: number; bytes: number }> {
    const all = await this.records();
    const mine = all.filter((r) => r.registry === registry);
    const others = all.filter((r) => r.registry !== registry);
    const keys = new Set(mine.map((r) => r.key));
    // Refs folders are found by key, including those of a registry whose index record is already gone.
    for (const key of await this.names('refs')) {
      const refs = await this.refs(key);
      if (refs.length > 0 && refs.every((r) => r.registry === registry)) keys.add(key);
    }
    const users = await this.contentUsers();
    const seen = new Set<string>();
    const targets: string[] = [];
    for (const key of keys) {
      for (const ref of await this.refs(key)) {
        const set = users.get(ref.content);
        if (set && [...set].every((name) => name === registry)) targets.push(this.path('content', ref.content));
      }
      targets.push(this.path('refs', key), this.path('work', key), this.path('indexes', `${key}.json`));
    }
    const keptBlobs = new Set(others.map((r) => r.indexHash));
    for (const r of mine) if (!keptBlobs.has(r.indexHash)) targets.push(this.path('blobs', r.indexHash));
    let bytes = 0;
    for (const target of new Set(targets)) {
      bytes += await treeBytes(target, seen);
      await rm(target, { recursive: true, force: true });
    }
    return { removed: mine.length, bytes };
  }

  /**
   * Removes what no cached index references and is older than `maxAge`: refs of old revisions, stored trees no
   * ref points at, index blobs no record names, and leftovers in `tmp/`.
   */
  async prune(maxAge: number, now: number): Promise<{ refs: number; contents: number; blobs: number; work: number; temp: number }> {
    const removed = { refs: 0, contents: 0, blobs: 0, work: 0, temp: 0 };
    const records = await this.records();
    const live = new Map(records.map((r) => [r.key, r]));
    const used = new Set<string>();
    for (const key of await this.names('refs')) {
      for (const ref of await this.refs(key)) {
        const current = live.get(key);
        if (current && current.revision.id === ref.revision) used.add(ref.content);
        else if (now - ref.storedAt > maxAge) {
          await rm(ref.file, { force: true });
          removed.refs += 1;
        } else used.add(ref.content);
      }
    }
    // Unreferenced content goes once it is past the short guard (a writer renames content in before its ref), not
    // only past maxAge: nothing can serve it, and `cache clean <registry>` leaves exactly such content behind.
    const guard = Math.min(maxAge, YOUNG_MS);
    for (const content of await this.names('content')) {
      if (used.has(content)) continue;
      const meta = await this.contentMeta(content);
      const storedAt =
        meta?.storedAt ??
        (await stat(this.path('content', content)).then(
          (st) => st.mtimeMs,
          () => now,
        ));
      if (now - storedAt > guard || !meta) {
        await rm(this.path('content', content), { recursive: true, force: true });
        removed.contents += 1;
      }
    }
    // A source's private folder outlives nothing: without a cached index for its registry it is unreachable data.
    for (const key of await this.names('work')) {
      if (live.has(key)) continue;
      const s = await stat(this.path('work', key)).catch(() => undefined);
      if (s && now - s.mtimeMs > guard) {
        await rm(this.path('work', key), { recursive: true, force: true });
        removed.work += 1;
      }
    }
    const blobs = new Set(records.map((r) => r.indexHash));
    for (const blob of await this.names('blobs')) {
      // Young blobs may belong to a record another process is about to write.
      const young = await stat(this.path('blobs', blob)).then(
        (st) => now - st.mtimeMs < Math.min(maxAge, 10 * 60 * 1000),
        () => false,
      );
      if (!blobs.has(blob) && !young) {
        await rm(this.path('blobs', blob), { force: true });
        removed.blobs += 1;
      }
    }
    for (const temp of await this.names('tmp')) {
      const s = await stat(this.path('tmp', temp)).catch(() => undefined);
      if (s && now - s.mtimeMs > Math.min(maxAge, 60 * 60 * 1000)) {
        await rm(this.path('tmp', temp), { recursive: true, force: true });
        removed.temp += 1;
      }
    }
    return removed;
  }
}
