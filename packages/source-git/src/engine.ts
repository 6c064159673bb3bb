import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@agentos-registry/core';
import type { RemoteContext } from './errors.js';
import type { GitLocation } from './location.js';
import type { RemoteRef, ResolvedRef } from './refs.js';
import type { GitTransport } from './transport.js';

/** The two implementations behind the `git` source. */
export type GitEngineName = 'native' | 'isomorphic';

/** What an engine gets on each call (a slice of core's `SourceCallContext`). */
export interface EngineCall {
  registry: string;
  signal: AbortSignal;
  logger: Logger;
  /** Core's private folder for this registry, when caching is on. */
  workDir?: string;
}

/** One repository, as every engine sees it. */
export interface GitRemote {
  location: GitLocation;
  /** The environment the config was expanded with: proxies (`HTTPS_PROXY`, `NO_PROXY`…) and CAs come from it. */
  env?: Readonly<Record<string, string | undefined>>;
  /** `Authorization` header value, for `http` locations with a token. Never logged or written. */
  authorization?: string;
  context: RemoteContext;
  /** Deadlines, proxy, CAs, retries and limits from the registry's transport options. */
  transport: GitTransport;
}

/**
 * What the source needs from git: the refs (one round trip), one file at a commit, one folder at a commit. Both
 * engines keep a bare mirror per registry (see {@link MirrorHome}) and fetch depth 1 of the one commit asked for.
 */
export interface GitEngine {
  readonly name: GitEngineName;
  /** `materialize` downloads only the requested entry (native engine with partial clone). */
  readonly partial: boolean;
  /** The refs the server advertises, like `git ls-remote --symref`. Never downloads objects. */
  listRefs(call: EngineCall): Promise<RemoteRef[]>;
  /** The bytes of the file `path` at `commit`, or `undefined` when the commit has no such file. */
  readFile(commit: ResolvedRef, path: string, call: EngineCall): Promise<Uint8Array | undefined>;
  /** Writes the folder `path` at `commit` into `destination`; `E_NOT_FOUND` when there is no such folder. */
  materialize(commit: ResolvedRef, path: string, destination: string, call: EngineCall): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where an engine keeps its bare mirror: `<workDir>/<engine>.git`, in the folder core gives this registry when
 * caching is on (so the mirror survives restarts and is updated incrementally), else in a temp folder of this source
 * instance that `close()` removes. A `mirror.lock` file next to it serializes writers across processes.
 *
 * ```
 * <workDir>/
 *   native.git/        bare, shallow, partial (blob:none) mirror; refs/agentos/rev/<sha> per fetched revision
 *   isomorphic.git/    bare, shallow mirror of the isomorphic engine
 *   mirror.lock        held while a fetch writes to a mirror
 * ```
 */
export class MirrorHome {
  private temp: Promise<string> | undefined;

  /** The folder holding the mirror of `engine`, created if needed. */
  async folder(call: EngineCall): Promise<string> {
    if (call.workDir !== undefined) {
      await mkdir(call.workDir, { recursive: true });
      return call.workDir;
    }
    this.temp ??= mkdtemp(join(tmpdir(), 'agentos-git-'));
    return this.temp;
  }

  async close(): Promise<void> {
    const temp = this.temp;
    this.temp = undefined;
    if (temp) await rm(await temp, { recursive: true, force: true, maxRetries: 3 });
  }
}
