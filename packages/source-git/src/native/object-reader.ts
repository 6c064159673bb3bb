import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { GitCommandFailure } from './runner.js';

/** One object as `git cat-file --batch` returns it. */
export interface GitObject {
  type: string;
  data: Buffer;
}

/** A tree entry parsed from a tree object. */
export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

/** How long an idle reader process is kept before its stdin is closed (it then exits on its own). */
const IDLE_MS = 2_000;

interface Pending {
  resolve: (object: GitObject | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * A long-lived `git cat-file --batch` over the mirror: reading a tree or a blob is a line written to its stdin, not a
 * process started. Materializing hundreds of entries would otherwise start two or three git processes each.
 *
 * This is the one git process not run through simple-git, which cannot keep a process open for a conversation. It
 * gets the same environment as every other command (built by the runner), is only asked for objects the mirror
 * holds — missing blobs are fetched first, so it never triggers a partial-clone lazy fetch — and exits after a short
 * idle time or on `close()`.
 */
export class ObjectReader {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private idle: NodeJS.Timeout | undefined;
  private stderr = '';

  constructor(
    private readonly gitDir: string,
    private readonly environment: () => Record<string, string>,
  ) {}

  /** The object named by `spec` (an oid, or `<commit>^{tree}`), or `undefined` when the mirror lacks it. */
  read(spec: string): Promise<GitObject | undefined> {
    if (/[\r\n]/.test(spec)) return Promise.reject(new TypeError('object names cannot contain line breaks'));
    const child = this.process();
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    // Referenced while a read is pending, so the host process waits for the answer.
    if (this.pending.length === 0) setReferenced(child, true);
    return new Promise<GitObject | undefined>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.stdin.write(`${spec}\n`);
    });
  }

  /** Ends the process (pending reads fail). */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.stdin.end();
      child.kill('SIGTERM');
    }
    this.fail(new GitCommandFailure('the object reader was closed', false));
  }

  private process(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.gitDir, env: this.environment(), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.buffer = Buffer.alloc(0);
    this.stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.stdin.on('error', () => {
      // EPIPE when the process died; reported through 'exit'.
    });
    const gone = (reason: string) => {
      if (this.child === child) this.child = undefined;
      this.fail(new GitCommandFailure(this.stderr || `git cat-file --batch ${reason}`, false));
    };
    child.on('error', (error) => gone(error.message));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    return child;
  }

  private drain(): void {
    for (;;) {
      const next = this.pending[0];
      if (!next) return;
      const newline = this.buffer.indexOf(0x0a);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString('latin1');
      const [, type, sizeText] = header.split(' ');
      if (type === 'missing' || type === 'ambiguous' || sizeText === undefined) {
        this.buffer = this.buffer.subarray(newline + 1);
        this.pending.shift();
        next.resolve(undefined);
        this.scheduleIdleIfDone();
        continue;
      }
      const size = Number.parseInt(sizeText, 10);
      const end = newline + 1 + size;
      if (this.buffer.length < end + 1) return;
      const data = Buffer.from(this.buffer.subarray(newline + 1, end));
      this.buffer = this.buffer.subarray(end + 1);
      this.pending.shift();
      next.resolve({ type: type ?? 'unknown', data });
      this.scheduleIdleIfDone();
    }
  }

  private scheduleIdleIfDone(): void {
    if (this.pending.length === 0) this.scheduleIdle();
  }

  private scheduleIdle(): void {
    // Idle: it must not keep the host process alive, and it exits on its own after a while.
    if (this.child) setReferenced(this.child, false);
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.pending.length === 0) this.close();
    }, IDLE_MS);
    this.idle.unref();
  }

  private fail(error: unknown): void {
    const pending = this.pending.splice(0);
    for (const waiter of pending) waiter.reject(error);
  }
}

function setReferenced(child: ChildProcessWithoutNullStreams, referenced: boolean): void {
  for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
    if (referenced) handle.ref?.();
    else handle.unref?.();
  }
}

/** Parses a tree object: `<mode> <name>\0<raw oid>` records (20-byte SHA-1 or 32-byte SHA-256 ids). */
export function parseTree(data: Buffer, oidBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const nul = data.indexOf(0x00, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + oidBytes > data.length) throw new Error('malformed tree object');
    entries.push({
      mode: data.subarray(at, space).toString('latin1').padStart(6, '0'),
      name: data.subarray(space + 1, nul).toString('utf8'),
      oid: data.subarray(nul + 1, nul + 1 + oidBytes).toString('hex'),
    });
    at = nul + 1 + oidBytes;
  }
  return entries;
}
