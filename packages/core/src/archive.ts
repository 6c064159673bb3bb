/**
 * Extracting tarballs a registry sends, safely. Every source that downloads an archive (a GitHub tarball, an npm
 * package, a static `.tgz`) uses this, so the checks live in one place: nothing may be written outside the
 * destination, by any path, link or trick, and a hostile archive fails loudly instead of being half-trusted.
 *
 * tar's own extractor strips dangerous paths with a warning and carries on; a registry that serves such an archive
 * is broken or hostile, so we parse with tar and hand every entry to core's tree writer (`tree-writer.ts`), which
 * refuses instead of repairing. tar is fed plain tar bytes by `archive-input.ts`, which inflates gzip in bounded steps.
 * This file adds only what is particular to archives: strip/subdir, limits, entry types, where an archive ends.
 */
import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { tarModule } from './lazy-modules.js';
import { type InputLimit, TarInput } from './archive-input.js';
import { RegistryError } from './errors.js';
import { normalizeRelativePath } from './paths.js';
import { abortError, toRegistryError } from './source-errors.js';
import { TreeWriter } from './tree-writer.js';

/** Default limits of `extractTarball`: what one registry entry may reasonably hold. */
export const DEFAULT_ARCHIVE_LIMITS = { maxBytes: 1024 ** 3, maxEntries: 100_000, maxDecodedBytes: 4 * 1024 ** 3 } as const;

/** Most inflated bytes per compressed byte, as tar's own check had it: only a compression bomb gets there. */
const MAX_RATIO = 1000;

/**
 * Most bytes read after the end-of-archive marker. tar tools ignore what follows the end, and packers leave some:
 * GNU tar pads to 10 KiB records, and the gzip trailer comes last. Far more than that is no packer's doing (it can
 * hide a second archive that a tool reading on would see), and tar's parser gets quadratically slow on it.
 */
const MAX_TRAILING_BYTES = 1024 ** 2;

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
  /**
   * Most bytes of the tar stream once decompressed, everything counted: headers, padding, and entries not extracted
   * (outside `subdir`), which `maxBytes` does not see (default 4 GiB).
   */
  maxDecodedBytes?: number;
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
    return new RegistryError(
      'E_UNSAFE_PATH',
      `Archive entry "${entry}"${where} ${why}; the archive is unsafe and extraction stopped. Ask the registry owner to fix the archive.`,
      {
        registry: this.#registry,
        details: { entry },
      },
    );
  }

  #limit(what: string, limit: number, option: string): RegistryError {
    return limitError(this.#registry, what, limit, option);
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
    const chunks = (entry as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let written = 0;
    for (;;) {
      // A failure destroys the entry, maybe while the writer is busy between two reads (opening the file, writing a
      // chunk); minipass never settles a read begun after that, so the writer would wait forever, and so would the
      // extraction's rejection.
      if (entry.destroyed) throw new Error('extraction stopped');
      const next = await chunks.next();
      if (next.done) return;
      written += next.value.length;
      if (this.bytes + written > this.#maxBytes) throw this.#limit('bytes', this.#maxBytes, 'maxBytes');
      yield next.value;
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

function limitError(registry: string | undefined, what: string, limit: number, option: string): RegistryError {
  const where = registry ? ` from registry "${registry}"` : '';
  return new RegistryError(
    'E_UNSAFE_PATH',
    `The archive${where} holds more than ${limit} ${what}, the limit (${option}); extraction stopped. Raise ${option} if an archive this large is expected.`,
    {
      registry,
      details: { limit: option, value: limit },
    },
  );
}

/** An error of tar's parser or of decompression: the bytes are not a sound archive. */
function damagedError(registry: string | undefined, error: unknown): RegistryError {
  const where = registry ? ` from registry "${registry}"` : '';
  const reason = error instanceof Error ? error.message : String(error);
  return new RegistryError(
    'E_INTEGRITY',
    `The archive${where} is damaged or is not a tar archive (${reason}). Download it again; if this persists, the registry serves a broken archive.`,
    {
      registry,
      cause: error,
    },
  );
}

/** The error for a limit of the archive's input (decompression and what follows the end) that was passed. */
function inputLimitError(registry: string | undefined, limit: InputLimit, value: number, maxDecodedBytes: number): RegistryError {
  const where = registry ? ` from registry "${registry}"` : '';
  switch (limit) {
    case 'maxDecodedBytes':
      return limitError(registry, 'bytes once decompressed', maxDecodedBytes, 'maxDecodedBytes');
    case 'decompressionRatio':
      return new RegistryError(
        'E_UNSAFE_PATH',
        `The archive${where} inflates to more than ${MAX_RATIO} bytes per compressed byte (${value.toFixed(1)} so far), as a compression bomb does; the archive is unsafe and extraction stopped.`,
        { registry, details: { limit: 'decompressionRatio' } },
      );
    case 'trailingBytes':
      return new RegistryError(
        'E_INTEGRITY',
        `The archive${where} goes on for more than ${MAX_TRAILING_BYTES / 1024 ** 2} MiB after its end-of-archive marker, which no packer writes (it can hide a second archive); extraction stopped. Ask the registry owner to publish a single, plain tar or tar.gz archive.`,
        { registry, details: { limit: 'trailingBytes' } },
      );
    case 'compressedTwice':
      return damagedError(registry, new Error('it is gzip-compressed twice'));
  }
}

/** An error met while writing files: the disk, permissions, or a check of ours. */
function writeError(registry: string | undefined, destination: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new RegistryError('E_INTERNAL', `Writing an archive into ${destination} failed: ${reason}`, { registry, cause: error });
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Extracts a tar archive (gzip-compressed or not, detected from its first bytes) into `destination`, refusing with
 * `E_UNSAFE_PATH` anything that could write outside it: absolute or drive paths, `..` segments, symlinks that are
 * absolute or leave the root, hard links to anything but a file this archive already wrote, device and FIFO entries,
 * and entries that would be written through a symlink (`a` → `/tmp`, then `a/x`). Ownership and timestamps are not
 * restored; file modes keep only the executable bit.
 *
 * The archive is parsed as it arrives and never held whole: gzip is inflated in 64 KiB steps, each checked against
 * `maxDecodedBytes` and the ratio of a compression bomb. It ends at its end-of-archive marker; up to 1 MiB after it
 * (record padding, the gzip trailer, whose checksum is still checked) is read and ignored, more is refused. Damaged
 * or non-tar bytes are `E_INTEGRITY`. On failure it destroys the input stream, throws, and leaves what it wrote in
 * place: give it a temporary folder and remove that folder (core does, and checks the result with `scanTree` anyway).
 */
export function extractTarball(input: Readable | Uint8Array, destination: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const { signal, registry } = options;
  const root = resolve(destination);
  const source = input instanceof Uint8Array ? undefined : input;
  let job: Extraction;
  try {
    if (signal?.aborted) throw abortError(signal, 'Extracting an archive', registry);
    job = new Extraction(root, options);
  } catch (error) {
    // Refused before reading: the input is still ours to stop, as it is on every other failure.
    source?.destroy();
    return Promise.reject(error);
  }
  const maxDecodedBytes = options.maxDecodedBytes ?? DEFAULT_ARCHIVE_LIMITS.maxDecodedBytes;
  // Not an async function, and nothing awaited before this: the input is being read (and its errors heard) from here.
  const tarInput = new TarInput(source ?? oneChunk(input as Uint8Array), {
    maxDecodedBytes,
    maxRatio: MAX_RATIO,
    maxTrailingBytes: MAX_TRAILING_BYTES,
    refuse: (limit, value) => inputLimitError(registry, limit, value, maxDecodedBytes),
    sourceError: (error) => (error instanceof RegistryError ? error : toRegistryError(error, registry ?? 'unknown', 'reading an archive')),
  });
  // strict: tar's recoverable warnings (bad checksums, truncation) become errors; a damaged archive is not extracted.
  // TarInput inflates gzip itself; tar is told not to look for zstd or brotli either, so it never inflates anything.
  const parser = new (tarModule().Parser)({ strict: true, zstd: false, brotli: false });

  return new Promise<ExtractResult>((resolvePromise, reject) => {
    let failure: RegistryError | undefined;
    // Called when the parser drains, or when the extraction fails while waiting for that.
    let wake: (() => void) | undefined;
    const onAbort = () => fail(abortError(signal, 'Extracting an archive', registry));
    const fail = (error: RegistryError) => {
      if (failure) return;
      failure = error;
      signal?.removeEventListener('abort', onAbort);
      // Ends a read waiting for a stalled source, and lets the connection go.
      source?.destroy();
      wake?.();
      // Unblocks the entry being written, so that its file handle is closed before we report.
      job.current?.destroy();
      parser.abort(new Error('extraction stopped'));
      // Reject only once the entry in progress has let go of its files, so that the caller can remove the folder.
      void chain.finally(() => reject(failure));
    };
    let chain: Promise<void> = mkdir(root, { recursive: true }).then(
      () => {},
      (error: unknown) => fail(writeError(registry, root, error)),
    );

    parser.on('entry', (entry: ReadEntry) => {
      chain = chain
        .then(async () => {
          if (failure) {
            entry.resume();
            return;
          }
          if (signal?.aborted) throw abortError(signal, 'Extracting an archive', registry);
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
    parser.on('error', (error: unknown) => fail(damagedError(registry, error)));
    let sawEnd = false;
    parser.on('eof', () => {
      sawEnd = true;
    });

    /** Hands the tar bytes to the parser as fast as it takes them, and reads what follows the end without parsing. */
    const feed = async (): Promise<void> => {
      let ended = false;
      for await (const chunk of tarInput.chunks()) {
        if (failure) return;
        if (ended) continue;
        const flowing = parser.write(chunk);
        if (!sawEnd && !flowing) {
          await new Promise<void>((resolveWait) => {
            wake = resolveWait;
            parser.once('drain', resolveWait);
          });
          wake = undefined;
          if (failure) return;
        }
        if (sawEnd) {
          // Nothing after the end is parsed: tar would only buffer it, ever more slowly.
          ended = true;
          tarInput.archiveEnded();
          parser.end();
        }
      }
      if (!ended && !failure) parser.end();
    };
    const fed = feed().catch((error: unknown) =>
      fail(signal?.aborted ? abortError(signal, 'Extracting an archive', registry) : error instanceof RegistryError ? error : damagedError(registry, error)),
    );

    parser.on('end', () => {
      chain = chain
        .then(async () => {
          // The input is read to its end (or refused) before the archive counts as extracted.
          await fed;
          if (failure) return;
          if (signal?.aborted) throw abortError(signal, 'Extracting an archive', registry);
          await job.finish();
          signal?.removeEventListener('abort', onAbort);
          resolvePromise({ files: job.files, bytes: job.bytes });
        })
        .catch((error: unknown) => fail(writeError(registry, root, error)));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
