/**
 * The copies of `registry.json` this source keeps, by revision. `revision()` already downloads the index (a static
 * server has nothing cheaper than a conditional GET of the file itself), so `readIndex` serves those bytes instead
 * of asking again, and `materialize` finds each entry's `dist` in the index of the revision core asks for, even in a
 * later process that got the index itself from core's cache: copies also go to core's `workDir` when it gives one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRegistryIndex } from '@agentos-registry/core';

/** Revisions kept in memory per source instance, and on disk per registry; older ones are fetched again if needed. */
const KEEP_IN_MEMORY = 4;
const KEEP_ON_DISK = 8;
const PREFIX = 'sha256:';

/**
 * The revision id of an index: `sha256:<hex>` of its bytes. A content hash rather than the ETag, because a revision
 * id must mean "equal content": ETags are opaque per server (two nodes behind a load balancer or two CDN edges give
 * different ones for the same bytes, and weak ETags do not promise equal bytes at all), and a hash lets every later
 * step check that the bytes it holds are the revision it was asked for. The ETag and Last-Modified still drive the
 * conditional request; they travel in the revision's `validators`.
 */
export function revisionIdOf(bytes: Uint8Array): string {
  return PREFIX + createHash('sha256').update(bytes).digest('hex');
}

/** What `materialize` needs of an index entry. */
export interface IndexedEntry {
  id: string;
  version: string;
  /** The entry's `dist` as written (checked by the caller). */
  dist: unknown;
}

export class IndexCopies {
  readonly #bytes = new Map<string, Uint8Array>();
  readonly #byPath = new Map<string, Map<string, IndexedEntry>>();

  constructor(private readonly registry: string) {}

  /** Keeps the bytes of a revision in memory (most recent last; the oldest is dropped past the limit). */
  remember(id: string, bytes: Uint8Array): void {
    this.#bytes.delete(id);
    this.#bytes.set(id, bytes);
    while (this.#bytes.size > KEEP_IN_MEMORY) {
      const oldest = this.#bytes.keys().next().value as string;
      this.#bytes.delete(oldest);
      this.#byPath.delete(oldest);
    }
  }

  /** The bytes of a revision from memory or the work folder; `undefined` when neither has them (intact). */
  async get(id: string, workDir: string | undefined): Promise<Uint8Array | undefined> {
    const held = this.#bytes.get(id);
    if (held) return held;
    const file = workDir && fileOf(workDir, id);
    if (!file) return undefined;
    const bytes = await readFile(file).catch(() => undefined);
    // A damaged or foreign file is not that revision; the caller fetches the index again.
    if (!bytes || revisionIdOf(bytes) !== id) return undefined;
    this.remember(id, bytes);
    return bytes;
  }

  /**
   * Writes a revision's bytes into the work folder, atomically (temp file + rename, so a concurrent reader sees all
   * or nothing), unless it is there already, and keeps only the newest few. Only JSON is written: garbage a broken
   * proxy sent is not worth keeping, and core refuses it anyway.
   */
  async persist(id: string, bytes: Uint8Array, workDir: string | undefined): Promise<void> {
    const file = workDir && fileOf(workDir, id);
    if (!workDir || !file) return;
    try {
      JSON.parse(Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, ''));
    } catch {
      return;
    }
    try {
      if (await stat(file).then(() => true, () => false)) return;
      await mkdir(join(workDir, 'indexes'), { recursive: true });
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, file);
      await prune(join(workDir, 'indexes'));
    } catch {
      // The work folder is an optimisation for later processes; a full disk must not fail this call.
    }
  }

  /** The entries of a revision's index by their normalized `path` (as core hands it to `materialize`). */
  entriesByPath(id: string, bytes: Uint8Array): Map<string, IndexedEntry> {
    let map = this.#byPath.get(id);
    if (map) return map;
    map = new Map();
    for (const entry of parseRegistryIndex(bytes, { registry: this.registry }).entries) {
      // Two entries may share a folder (two ids packed from one path); their tarballs then hold the same files.
      if (!map.has(entry.path)) map.set(entry.path, { id: entry.id, version: entry.version, dist: entry.raw.dist });
    }
    if (this.#bytes.has(id)) this.#byPath.set(id, map);
    return map;
  }
}

function fileOf(workDir: string, id: string): string | undefined {
  if (!id.startsWith(PREFIX) || !/^[0-9a-f]{64}$/.test(id.slice(PREFIX.length))) return undefined;
  return join(workDir, 'indexes', `${id.slice(PREFIX.length)}.json`);
}

async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  if (names.length <= KEEP_ON_DISK) return;
  const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(dated.slice(KEEP_ON_DISK).map(({ name }) => rm(join(dir, name), { force: true })));
}
