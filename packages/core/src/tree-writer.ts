/**
 * The one writer of entry trees. Whatever hands core a tree as paths and contents — a tarball, a git tree, a GitHub
 * tree listing, a folder being copied — writes it through a `TreeWriter`, so the rules hold in one place:
 *
 * - a path is listed once (or, for tar, a file may be repeated and replaces the earlier copy), and never below a
 *   symlink or a file of the same tree, nor as a folder and something else at once;
 * - files are created with `O_CREAT|O_EXCL|O_NOFOLLOW`, every folder on the way is checked to be a real folder, so
 *   nothing is written through a link or over something already there;
 * - symlinks are created last, after every file, and only once following them through the finished tree (real paths,
 *   every link on the way followed, see `link-target.ts`) stays inside the root at every step.
 *
 * The claims are made synchronously when a path is handed over, before any await, so several writes may run at once
 * (a source downloading blobs in parallel) without one of them racing another's checks.
 */
import { constants, type Stats } from 'node:fs';
import { copyFile, type FileHandle, lstat, mkdir, open, readlink, symlink, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RegistryError } from './errors.js';
import { linkProblem, linkTextProblem, type TreeNode } from './link-target.js';

/** Options of a `TreeWriter`. */
export interface TreeWriterOptions {
  /** Registry name, for messages. */
  registry?: string;
  /** Builds the error for a refused path (`path` as the caller labels it). Default: `E_UNSAFE_PATH` naming the path. */
  unsafe?: (path: string, why: string) => RegistryError;
  /** A file handed over twice replaces the earlier copy, as tar does for appended archives. Default: refused. */
  replaceFiles?: boolean;
}

/** Options of one file. */
export interface TreeFileOptions {
  /** Written `0755` instead of `0644`; no other mode bit of a registry's files is ever kept. */
  executable?: boolean;
  /** The path as the caller names it in messages (an archive's raw entry name, say). */
  label?: string;
}

/** What a finished `TreeWriter` wrote. */
export interface TreeWriteResult {
  files: number;
  bytes: number;
  links: number;
}

type Claim = 'file' | 'link' | 'folder';

/**
 * A path as a case-insensitive, normalization-insensitive file system sees it (macOS's APFS, Windows' NTFS): `d/A`
 * and `d/a`, NFC `é` and NFD `é`, `a.` and `a` on Windows are one name there. Case folding by `toLowerCase` is an
 * approximation; it only has to catch the names a hostile tree uses to make the writer and the kernel disagree.
 */
function folded(path: string): string {
  return path
    .normalize('NFC')
    .toLowerCase()
    .replace(/[. ]+(?=\/|$)/g, '');
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Writes one tree into `root` (an empty folder, or one the writer creates). Call `finish()` after the last path. */
export class TreeWriter {
  files = 0;
  bytes = 0;
  readonly root: string;
  readonly #unsafe: (path: string, why: string) => RegistryError;
  readonly #replaceFiles: boolean;
  readonly #claims = new Map<string, Claim>();
  /** Paths that must be folders because something was handed over below them. */
  readonly #parents = new Set<string>();
  readonly #links = new Map<string, { target: string; label: string }>();
  /** Every path the tree names (claimed or parent), by its folded form: see `#lookup`. */
  readonly #folded = new Map<string, string>();
  /** Folders checked (or being made) as real folders, by path; shared by concurrent writes. */
  readonly #folders = new Map<string, Promise<void>>();
  /** Files this writer wrote: the only things a tar hard link may copy. */
  readonly #written = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  #failure: unknown;
  #finished = false;

  constructor(root: string, options: TreeWriterOptions = {}) {
    this.root = resolve(root);
    this.#replaceFiles = options.replaceFiles ?? false;
    const where = options.registry ? ` from registry "${options.registry}"` : '';
    this.#unsafe =
      options.unsafe ??
      ((path, why) =>
        new RegistryError('E_UNSAFE_PATH', `"${path}"${where} ${why}; the tree is unsafe and writing it stopped. Ask the registry owner to fix the entry.`, {
          registry: options.registry,
          details: { path },
        }));
  }

  /** Makes `path` a folder (and its parents). */
  async folder(path: string, label = path): Promise<void> {
    const rel = this.#begin(path, label, true);
    if (rel !== '') this.#claim(rel, 'folder', label);
    // The root's own path is the caller's, not the tree's: only a folder of the tree is refused for its length.
    await this.#track(this.#folder(rel, label), rel === '' ? undefined : label);
  }

  /** Writes the regular file `path` from bytes or a stream of chunks; resolves to the bytes written. */
  async file(path: string, content: Uint8Array | AsyncIterable<Uint8Array>, options: TreeFileOptions = {}): Promise<number> {
    const label = options.label ?? path;
    const rel = this.#begin(path, label);
    this.#claim(rel, 'file', label);
    return this.#track(this.#writeFile(rel, label, content, options.executable === true), label);
  }

  /** Writes `path` as a copy of `from`, a file this writer already wrote (a tar hard link; never a second name). */
  async copyOf(path: string, from: string, label = path): Promise<number> {
    const rel = this.#begin(path, label);
    const fromRel = this.#begin(from, label);
    // Replacing the file by a copy of itself would remove it before copying it.
    if (fromRel === rel) throw this.#fail(this.#unsafe(label, 'is a hard link to itself'));
    if (!this.#written.has(fromRel)) throw this.#fail(this.#unsafe(label, `is a hard link to "${from}", which is not a file written earlier from this tree`));
    this.#claim(rel, 'file', label);
    return this.#track(
      (async () => {
        const source = join(this.root, ...fromRel.split('/'));
        const stat = await lstat(source);
        if (!stat.isFile()) throw this.#unsafe(label, `is a hard link to "${from}", which is not a regular file`);
        const abs = await this.#place(rel, label);
        // A copy, not a link: two names for one inode would let a later write to one change the other.
        await copyFile(source, abs, constants.COPYFILE_EXCL);
        this.files += 1;
        this.bytes += stat.size;
        this.#written.add(rel);
        return stat.size;
      })(),
      label,
    );
  }

  /**
   * Records the symlink `path` → `target`; `finish()` creates it after every file, once it is known to stay inside.
   * Backslashes in the target are separators (a tree made on Windows) and are written as `/`.
   */
  symlink(path: string, target: string, label = path): void {
    const rel = this.#begin(path, label);
    const slashed = target.replace(/\\/g, '/');
    const problem = linkTextProblem(rel, slashed);
    if (problem) throw this.#fail(this.#unsafe(label, problem));
    this.#claim(rel, 'link', label);
    this.#written.delete(rel);
    this.#links.set(rel, { target: slashed, label });
  }

  /** Waits for the writes in flight, then judges and creates the symlinks. The tree is complete once it resolves. */
  async finish(): Promise<TreeWriteResult> {
    this.#guard();
    await Promise.allSettled([...this.#pending]);
    this.#guard();
    this.#finished = true;
    try {
      await this.#folder('', '.');
      // Every link is judged before any is created: none lies below another (claims refuse that), so creating one
      // cannot change where another leads, and the tree they are judged against is the tree they will be in.
      for (const [rel, link] of this.#links) {
        const problem = await linkProblem(rel, link.target, (path) => this.#lookup(path)).catch((error: unknown) => {
          throw this.#refusedByFs(error, link.label);
        });
        if (problem) throw this.#unsafe(link.label, problem);
      }
      for (const [rel, link] of this.#links) {
        try {
          await symlink(link.target, await this.#place(rel, link.label));
        } catch (error) {
          throw this.#refusedByFs(error, link.label);
        }
      }
    } catch (error) {
      throw this.#fail(error);
    }
    return { files: this.files, bytes: this.bytes, links: this.#links.size };
  }

  /**
   * A name the file system cannot hold (a segment past NAME_MAX, a path or link target past PATH_MAX) is the tree's
   * fault, not ours: `E_UNSAFE_PATH` naming it, like every other tree the writer refuses.
   */
  #refusedByFs(error: unknown, label: string | undefined): unknown {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'ENAMETOOLONG' || label === undefined) return error;
    return this.#unsafe(label, 'has a name, path or symlink target too long for the file system');
  }

  #guard(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#finished) throw new Error('TreeWriter: a path was handed over after finish()');
  }

  #fail(error: unknown): unknown {
    this.#failure ??= error;
    return error;
  }

  #track<T>(work: Promise<T>, label?: string): Promise<T> {
    const tracked = work.catch((error: unknown) => {
      throw this.#fail(this.#refusedByFs(error, label));
    });
    this.#pending.add(tracked);
    void tracked.then(
      () => this.#pending.delete(tracked),
      () => this.#pending.delete(tracked),
    );
    return tracked;
  }

  /** Checks the writer may go on and returns the clean `/`-separated path (refusing traversal of any kind). */
  #begin(path: string, label: string, rootAllowed = false): string {
    this.#guard();
    const refuse = (why: string) => this.#fail(this.#unsafe(label, why));
    if (path.includes('\0')) throw refuse('contains a NUL byte');
    // Backslashes are separators on Windows, so `a\..\..\x` is judged as `a/../../x` everywhere.
    const slashed = path.replace(/\\/g, '/');
    if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) throw refuse('has an absolute path');
    const parts = slashed.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.includes('..')) throw refuse('has a ".." path segment');
    if (process.platform === 'win32' && parts.some((part) => part.includes(':'))) {
      throw refuse('has a ":" in a path segment (a drive or an alternate data stream on Windows)');
    }
    if (parts.length === 0 && !rootAllowed) throw refuse('names the root of the tree itself');
    return parts.join('/');
  }

  /** Records what `rel` is, refusing anything that contradicts what the tree said before. */
  #claim(rel: string, kind: Claim, label: string): void {
    const refuse = (why: string) => this.#fail(this.#unsafe(label, why));
    const parts = rel.split('/');
    for (let end = 1; end < parts.length; end++) {
      const parent = parts.slice(0, end).join('/');
      const claimed = this.#claims.get(parent);
      if (claimed === 'link') throw refuse(`is below the symlink "${parent}" of the same tree; nothing is written through a link`);
      if (claimed === 'file') throw refuse(`needs "${parent}" to be a folder, but the tree has a file there`);
    }
    const listed = this.#claims.get(rel);
    // Git and GitHub trees never list a path twice, so a second listing is refused whatever the two are; tar may
    // repeat a file (the later copy wins) or a folder.
    if (listed !== undefined && !this.#replaceFiles && !(listed === 'folder' && kind === 'folder')) {
      throw refuse(`is listed twice in the tree${listed === kind ? '' : ` (as a ${listed} and as a ${kind})`}`);
    }
    const existing = listed ?? (this.#parents.has(rel) ? 'folder' : undefined);
    if (existing === 'link') throw refuse('would replace a symlink of the same name listed earlier (a write-through-symlink attack)');
    if (existing === 'folder' && kind !== 'folder') throw refuse('would replace a folder of the same name');
    if (existing === 'file' && kind === 'folder') throw refuse('needs to be a folder, but the tree has a file there');
    this.#claims.set(rel, kind);
    // Of several names that fold alike, a link is the one kept: following it is what could lead out.
    if (kind === 'link' || !this.#folded.has(folded(rel))) this.#folded.set(folded(rel), rel);
    for (let end = 1; end < parts.length; end++) {
      const parent = parts.slice(0, end).join('/');
      this.#parents.add(parent);
      if (!this.#folded.has(folded(parent))) this.#folded.set(folded(parent), parent);
    }
  }

  /** Makes sure `rel` exists as a real folder (not a link, not a file), its parents first; once per folder. */
  #folder(rel: string, label: string): Promise<void> {
    let made = this.#folders.get(rel);
    if (!made) {
      made = this.#makeFolder(rel, label);
      this.#folders.set(rel, made);
      // Whoever awaits it sees the failure; the map must not turn it into an unhandled rejection.
      made.catch(() => undefined);
    }
    return made;
  }

  async #makeFolder(rel: string, label: string): Promise<void> {
    if (rel === '') {
      await mkdir(this.root, { recursive: true });
      return;
    }
    const slash = rel.lastIndexOf('/');
    await this.#folder(slash < 0 ? '' : rel.slice(0, slash), label);
    const abs = join(this.root, ...rel.split('/'));
    // mkdir first: it never follows a link in the last place (EEXIST), so only a name already taken costs an lstat.
    try {
      await mkdir(abs, { mode: 0o755 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = await lstat(abs);
    if (stat.isSymbolicLink()) throw this.#unsafe(label, `would be written through the symlink "${rel}" (a write-through-symlink attack)`);
    if (!stat.isDirectory()) throw this.#unsafe(label, `needs "${rel}" to be a folder, but it is a file`);
  }

  /** The absolute path of a new file or link at `rel`: its folders are real, and nothing but an earlier file is there. */
  async #place(rel: string, label: string): Promise<string> {
    const slash = rel.lastIndexOf('/');
    await this.#folder(slash < 0 ? '' : rel.slice(0, slash), label);
    const abs = join(this.root, ...rel.split('/'));
    await this.#clear(abs, await lstatOrNull(abs), label);
    return abs;
  }

  /** Judges what is already at `abs` (a link or a folder is refused; a file goes when files may be replaced). */
  async #clear(abs: string, existing: Stats | null, label: string): Promise<void> {
    if (existing?.isSymbolicLink()) throw this.#unsafe(label, 'would replace a symlink of the same name (a write-through-symlink attack)');
    if (existing?.isDirectory()) throw this.#unsafe(label, 'would replace a folder of the same name');
    if (existing && !this.#replaceFiles) throw this.#unsafe(label, 'would replace a file that was already in the destination');
    if (existing) await unlink(abs);
  }

  /** Opens a new file at `rel`. O_EXCL|O_NOFOLLOW refuses anything already there, so only a taken name costs an lstat. */
  async #create(rel: string, label: string, mode: number): Promise<FileHandle> {
    const slash = rel.lastIndexOf('/');
    await this.#folder(slash < 0 ? '' : rel.slice(0, slash), label);
    const abs = join(this.root, ...rel.split('/'));
    try {
      return await open(abs, CREATE_FLAGS, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ELOOP: O_NOFOLLOW met a link in the last place (some kernels answer so instead of EEXIST).
      if (code !== 'EEXIST' && code !== 'ELOOP') throw error;
    }
    await this.#clear(abs, await lstatOrNull(abs), label);
    return open(abs, CREATE_FLAGS, mode);
  }

  async #writeFile(rel: string, label: string, content: Uint8Array | AsyncIterable<Uint8Array>, executable: boolean): Promise<number> {
    const mode = executable ? 0o755 : 0o644;
    const handle = await this.#create(rel, label, mode);
    let written = 0;
    try {
      if (content instanceof Uint8Array) {
        await handle.writeFile(content);
        written = content.byteLength;
      } else {
        for await (const chunk of content) {
          // writeFile writes all of the chunk at the current position, where a single write() may write part of it.
          await handle.writeFile(chunk);
          written += chunk.byteLength;
        }
      }
      // The umask may have taken the executable bits away, and they are part of an entry's integrity. A plain file
      // keeps what the umask leaves, as git and tar leave it: no umask adds an executable bit.
      if (executable) await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    this.files += 1;
    this.bytes += written;
    this.#written.add(rel);
    return written;
  }

  /** What `path` is in the tree as written so far (links not created yet count as links), for judging links. */
  async #lookup(path: string): Promise<TreeNode> {
    const exact = this.#describe(path);
    if (exact) return exact;
    // A name the tree does not hold as written, but holds in another case or normalization, is that name on macOS and
    // Windows (`d/A` is the link `d/a` there): judged as it, so a link is refused wherever some kernel follows it out.
    const variant = this.#folded.get(folded(path));
    if (variant !== undefined) return this.#describe(variant)!;
    // Not from this tree: whatever was in the destination before, as it is on disk.
    const abs = join(this.root, ...path.split('/'));
    const stat = await lstatOrNull(abs);
    if (!stat) return { type: 'missing' };
    if (stat.isSymbolicLink()) return { type: 'link', target: await readlink(abs) };
    if (stat.isDirectory()) return { type: 'folder' };
    return { type: 'file' };
  }

  /** What `path` is as this tree names it, or `undefined` when the tree does not name it. */
  #describe(path: string): TreeNode | undefined {
    const link = this.#links.get(path);
    if (link) return { type: 'link', target: link.target };
    const claimed = this.#claims.get(path);
    if (claimed === 'folder' || this.#parents.has(path)) return { type: 'folder' };
    if (claimed === 'file') return { type: 'file' };
    return undefined;
  }
}
