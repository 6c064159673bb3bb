import type { SourceCallContext, SourceCreateContext } from '@agentos-registry/core';
import type { RemoteContext } from './errors.js';
import type { GitLocation } from './location.js';
import type { RemoteRef, ResolvedRef } from './refs.js';
import type { GitTransport } from './transport.js';

/** The two implementations behind the `git` source. */
export type GitEngineName = 'native' | 'isomorphic';

/**
 * What an engine gets on each call: core's call context. Its `workDir` (in the cache, or a temp folder core removes on
 * close) holds each engine's bare mirror — `native.git/` (shallow, partial: blob:none; `refs/agentos/rev/<sha>` per
 * fetched revision), `isomorphic.git/` — and `mirror.lock`, held (core's `withWorkLock`) while a fetch writes to one.
 */
export type EngineCall = Pick<SourceCallContext, 'registry' | 'signal' | 'logger' | 'workDir'>;

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
  /** Where downloads report their progress (core's `SourceCreateContext.onProgress`), when someone listens. */
  onProgress?: SourceCreateContext['onProgress'];
}

/**
 * What the source needs from git: the refs (one round trip), one file at a commit, one folder at a commit. Both
 * engines keep a bare mirror in the registry's work folder (see {@link EngineCall.workDir}) and fetch depth 1 of
 * the one commit asked for.
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
