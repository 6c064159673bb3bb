/**
 * Extracting tarballs a registry sends, safely. Every source that downloads an archive (a GitHub tarball, an npm
 * package, a static `.tgz`) uses this, so the checks live in one place: nothing may be written outside the
 * destination, by any path, link or trick, and a hostile archive fails loudly instead of being half-trusted.
 *
 * tar's own extractor strips dangerous paths with a warning and carries on; a registry that serves such an archive
 * is broken or hostile, so we parse with tar and hand every entry to core's tree writer (`tree-writer.ts`), which
 * refuses instead of repairing. This file adds only what is particular to archives: strip/subdir, limits, entry types.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { RegistryError } from './errors.js';
import { normalizeRelativePath } from './paths.js';
import { toRegistryError } from './source-errors.js';
import { TreeWriter } from './tree-writer.js';

/** Default limits of `extractTarball`: what one registry entry may reasonably hold. */
export const DEFAULT_ARCHIVE_LIMITS = { maxBytes: 1024 ** 3, maxEntries: 100_000 } as const;

/** Options of `extractTarball`. */
export interface ExtractOptions {
  /** Leading path segments to drop from every entry (1 for `package/…` or GitHub's `owner-repo-sha/…`). */
  strip?: number;
  /** Extract only entries under this folder (after `strip`), written relative to it. */
  subdir?: string;
  /** Aborting stops the extraction with `E_ABORTED`. */
  signal?: AbortSignal;
  /** Registry name, for messages. */
  registry?: string;
  /** Most bytes of file content written (default 1 GiB). */
  maxBytes?: number;
  /** Most entries read, extracted or not (default 100 000). */
  maxEntries?: number;
}

/** What `extractTarball` wrote. */
export interface ExtractResult {
  /** Regular files written (hard links are written as copies and counted). */
  files: number;
  /** Bytes of file content written. */
  bytes: number;
}

/**
 * The strict text rule `createDeterministicTarball` packs by (extraction judges links by their real path instead, in
 * the tree writer). Why a symlink at `linkPath` (relative to the root, `/`-separated) pointing at `target` is unsafe, or
 * `undefined` when it is fine. Accepted targets are relative, with `..` segments only at the start and no more of them
 * than the link is deep. The "only at the start" rule matters: in `a/../..` the `..` after `a` climbs from wherever
 * `a` points, and if `a` is itself a symlink that may be outside; leading `..` segments climb through real folders.
 */
export function symlinkTargetProblem(linkPath: string, target: string): string | undefined {
  if (target === '') return 'is a symlink with an empty target';
  if (target.includes('\0')) return 'is a symlink whose target contains a NUL byte';
  const slashed = target.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) return `is a symlink to the absolute path "${target}"`;
  let ups = 0;
  let named = false;
  for (const segment of slashed.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') named = true;
    else if (named) return `is a symlink to "${target}", which uses ".." after a folder name (it could leave the root through another link)`;
    else ups += 1;
  }
  const depth = linkPath.split('/').length - 1;
  if (ups > depth) return `is a symlink to "${target}", which points outside the extraction root`;
  return undefined;
}

/** The state of one extraction: limits, the mapping of archive paths, and the tree writer that applies the rules. */
class Extraction {
  entries = 0;
  current: ReadEntry | undefined;
  readonly #root: string;
  readonly #strip: number;
  readonly #subdir: string[];
  readonly #registry: string | undefined;
  readonly #maxBytes: number;
  readonly #maxEntries: number;
  readonly #writer: TreeWriter;

  constructor(root: string, options: ExtractOptions) {
    this.#root = root;
    this.#strip = options.strip ?? 0;
    this.#registry = options.registry;
    const subdir = options.subdir ? normalizeRelativePath(options.subdir, { registry: options.registry, field: 'subdir' }) : '';
    this.#subdir = subdir === '' ? [] : subdir.split('/');
    this.#maxBytes = options.maxBytes ?? DEFAULT_ARCHIVE_LIMITS.maxBytes;
    this.#maxEntries = options.maxEntries ?? DEFAULT_ARCHIVE_LIMITS.maxEntries;
    // replaceFiles: a later copy of the same file replaces the earlier one, as tar does for appended archives.
    this.#writer = new TreeWriter(root, { registry: options.registry, unsafe: (entry, why) => this.unsafe(entry, why), replaceFiles: true });
  }

  get files(): number {
    return this.#writer.files;
  }

  get bytes(): number {
    return this.#writer.bytes;
  }

  unsafe(entry: string, why: string): RegistryError {
    const where = this.#registry ? ` from registry "${this.#registry}"` : '';
    return new RegistryError('E_UNSAFE_PATH', `Archive entry "${entry}"${where} ${why}; the archive is unsafe and extraction stopped. Ask the registry owner to fix the archive.`, {
      registry: this.#registry,
      details: { entry },
    });
  }

  #limit(what: string, limit: number, option: string): RegistryError {
    const where = this.#registry ? ` from registry "${this.#registry}"` : '';
    return new RegistryError('E_UNSAFE_PATH', `The archive${where} holds more than ${limit} ${what}, the limit (${option}); extraction stopped. Raise ${option} if an archive this large is expected.`, {
      registry: this.#registry,
      details: { limit: option, value: limit },
    });
  }

  /** Counts an entry read from the archive, extracted or not. */
  count(): void {
    this.entries += 1;
    if (this.entries > this.#maxEntries) throw this.#limit('entries', this.#maxEntries, 'maxEntries');
  }

  /**
   * The destination-relative path of an archive path, or `null` when it is not extracted (removed by `strip`,
   * outside `subdir`, or the root itself). Traversal is refused wherever the entry is, extracted or not: an archive
   * that contains one is hostile as a whole.
   */
  map(raw: string): string | null {
    if (raw.includes('\0')) throw this.unsafe(raw, 'contains a NUL byte');
    // Backslashes are separators on Windows, so `a\..\..\x` must be judged as `a/../../x` everywhere.
    const slashed = raw.replace(/\\/g, '/');
    if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) throw this.unsafe(raw, 'has an absolute path');
    const parts = slashed.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) throw this.unsafe(raw, 'has a ".." path segment');
    if (process.platform === 'win32' && parts.some((part) => part.includes(':'))) {
      throw this.unsafe(raw, 'has a ":" in a path segment (a drive or an alternate data stream on Windows)');
    }
    const kept = parts.slice(this.#strip);
    if (this.#subdir.some((part, i) => kept[i] !== part)) return null;
    const rel = kept.slice(this.#subdir.length);
    return rel.length === 0 ? null : rel.join('/');
  }

  async handle(entry: ReadEntry): Promise<void> {
    this.count();
    const rel = this.map(entry.path);
    if (rel === null) {
      entry.resume();
      return;
    }
    switch (entry.type) {
      case 'Directory':
      case 'GNUDumpDir':
        await this.#writer.folder(rel, entry.path);
        entry.resume();
        return;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        if (this.bytes + (entry.size ?? 0) > this.#maxBytes) throw this.#limit('bytes', this.#maxBytes, 'maxBytes');
        // Only the executable bit survives: setuid, sticky and group-write bits from an archive are never wanted.
        await this.#writer.file(rel, this.#counted(entry), { executable: ((entry.mode ?? 0) & 0o111) !== 0, label: entry.path });
        return;
      case 'SymbolicLink':
        // Created by finish(), after every file, once it is known to stay inside the root.
        this.#writer.symlink(rel, entry.linkpath ?? '', entry.path);
        entry.resume();
        return;
      case 'Link':
        await this.#hardLink(rel, entry.path, entry.linkpath ?? '');
        entry.resume();
        return;
      case 'CharacterDevice':
      case 'BlockDevice':
      case 'FIFO':
        throw this.unsafe(entry.path, `is a ${entry.type === 'FIFO' ? 'FIFO' : 'device file'}, which a registry entry never needs`);
      default:
        throw this.unsafe(entry.path, `has the unsupported entry type "${entry.type}"`);
    }
  }

  /** The entry's bytes, stopped with the `maxBytes` error as soon as the total passes it. */
  async *#counted(entry: ReadEntry): AsyncIterable<Buffer> {
    let written = 0;
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (this.bytes + written > this.#maxBytes) throw this.#limit('bytes', this.#maxBytes, 'maxBytes');
      yield chunk;
    }
  }

  /** Hard links are written as copies of a file this extraction already wrote; anything else is refused. */
  async #hardLink(rel: string, entry: string, target: string): Promise<void> {
    let targetRel: string | null;
    try {
      targetRel = this.map(target);
    } catch {
      throw this.unsafe(entry, `is a hard link to "${target}", outside the extraction root`);
    }
    if (targetRel === null) throw this.unsafe(entry, `is a hard link to "${target}", which is not a file extracted earlier from this archive`);
    const size = (await lstat(join(this.#root, ...targetRel.split('/'))).catch(() => undefined))?.size ?? 0;
    if (this.bytes + size > this.#maxBytes) throw this.#limit('bytes', this.#maxBytes, 'maxBytes');
    await this.#writer.copyOf(rel, targetRel, entry);
  }

  /** Creates the links, last. */
  finish(): Promise<unknown> {
    return this.#writer.finish();
  }
}

function abortError(registry: string | undefined, reason: unknown): RegistryError {
  const where = registry ? ` from registry "${registry}"` : '';
  return new RegistryError('E_ABORTED', `Extracting an archive${where} was aborted.`, { registry, cause: reason });
}

/** An error of tar's parser or of decompression: the bytes are not a sound archive. */
function damagedError(registry: string | undefined, error: unknown): RegistryError {
  const where = registry ? ` from registry "${registry}"` : '';
  const reason = error instanceof Error ? error.message : String(error);
  return new RegistryError('E_INTEGRITY', `The archive${where} is damaged or is not a tar archive (${reason}). Download it again; if this persists, the registry serves a broken archive.`, {
    registry,
    cause: error,
  });
}

/** An error met while writing files: the disk, permissions, or a check of ours. */
function writeError(registry: string | undefined, destination: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new RegistryError('E_INTERNAL', `Writing an archive into ${destination} failed: ${reason}`, { registry, cause: error });
}

/**
 * Extracts a tar archive (gzip-compressed or not, detected from its first bytes) into `destination`, refusing with
 * `E_UNSAFE_PATH` anything that could write outside it: absolute or drive paths, `..` segments, symlinks that are
 * absolute or leave the root, hard links to anything but a file this archive already wrote, device and FIFO entries,
 * and entries that would be written through a symlink (`a` → `/tmp`, then `a/x`). Ownership and timestamps are not
 * restored; file modes keep only the executable bit. On failure it throws and leaves what it wrote in place: give it
 * a temporary folder and remove that folder (core does, and checks the result with `scanTree` anyway).
 */
export async function extractTarball(input: Readable | Uint8Array, destination: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const { signal, registry } = options;
  const root = resolve(destination);
  if (signal?.aborted) throw abortError(registry, signal.reason);
  const job = new Extraction(root, options);
  await mkdir(root, { recursive: true });
  // strict: tar's recoverable warnings (bad checksums, truncation) become errors; a damaged archive is not extracted.
  const parser = new Parser({ strict: true });
  const source = input instanceof Uint8Array ? undefined : input;

  return new Promise<ExtractResult>((resolvePromise, reject) => {
    let chain: Promise<void> = Promise.resolve();
    let failure: RegistryError | undefined;
    const onAbort = () => fail(abortError(registry, signal?.reason));
    const fail = (error: RegistryError) => {
      if (failure) return;
      failure = error;
      signal?.removeEventListener('abort', onAbort);
      if (source) {
        source.unpipe(parser as unknown as NodeJS.WritableStream);
        source.destroy();
      }
      // Unblocks the entry being written, so that its file handle is closed before we report.
      job.current?.destroy();
      parser.abort(new Error('extraction stopped'));
      // Reject only once the entry in progress has let go of its files, so that the caller can remove the folder.
      void chain.finally(() => reject(failure));
    };

    parser.on('entry', (entry: ReadEntry) => {
      chain = chain
        .then(async () => {
          if (failure) {
            entry.resume();
            return;
          }
          if (signal?.aborted) throw abortError(registry, signal.reason);
          job.current = entry;
          await job.handle(entry);
          job.current = undefined;
        })
        .catch((error: unknown) => fail(writeError(registry, root, error)));
    });
    // Entries tar skips (unknown types, oversized metadata) still count against maxEntries.
    parser.on('ignoredEntry', () => {
      try {
        job.count();
      } catch (error) {
        fail(error as RegistryError);
      }
    });
    parser.on('error', (error: unknown) => {
      // tar stops inflating past 1000 bytes out per byte in, which only a compression bomb reaches.
      if (error instanceof Error && /decompression ratio/.test(error.message)) {
        const where = registry ? ` from registry "${registry}"` : '';
        fail(
          new RegistryError('E_UNSAFE_PATH', `The archive${where} inflates to more than 1000 bytes per compressed byte (${error.message}), as a compression bomb does; the archive is unsafe and extraction stopped.`, {
            registry,
            details: { limit: 'decompressionRatio' },
          }),
        );
      } else {
        fail(damagedError(registry, error));
      }
    });
    parser.on('end', () => {
      chain = chain
        .then(async () => {
          if (failure) return;
          if (signal?.aborted) throw abortError(registry, signal.reason);
          await job.finish();
          signal?.removeEventListener('abort', onAbort);
          resolvePromise({ files: job.files, bytes: job.bytes });
        })
        .catch((error: unknown) => fail(writeError(registry, root, error)));
    });
    signal?.addEventListener('abort', onAbort, { once: true });

    if (!source) {
      const bytes = input as Uint8Array;
      parser.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    source.on('error', (error: unknown) => {
      if (signal?.aborted) fail(abortError(registry, signal.reason));
      else fail(error instanceof RegistryError ? error : toRegistryError(error, registry ?? 'unknown', 'reading an archive'));
    });
    source.pipe(parser as unknown as NodeJS.WritableStream);
  });
}
