import { Readable } from 'node:stream';
import {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  httpClientOptionsOf,
  isLoopbackHost,
  isRegistryError,
  type Logger,
  RegistryError,
  type SourceConfig,
  type SourceCreateContext,
} from '@agentos-registry/core';
import { Octokit } from '@octokit/rest';
import { judgeFailure, type RequestScope } from './github-errors.js';
import type { ResolvedGitHubLocation } from './location.js';

/**
 * The few GitHub REST calls the source makes, through Octokit, with GitHub's failures mapped once (see
 * `github-errors.ts`). Retries, limits and deadlines are core's client's: it retries network failures, 5xx, 429 and
 * a 403 with `retry-after` (GitHub's secondary rate limit) within one budget, bounds every body and gives every
 * request a total deadline. Nothing here decides what to cache or when: the source asks, this answers.
 */

/** How patient to be with GitHub's "try again later" answers (the adapter's settings; a registry's `retries` wins). */
export interface RetryPolicy {
  /** Retries of one request. */
  retries: number;
  /** The longest `retry-after` waited for; a longer one fails at once with `E_RATE_LIMIT`. */
  maxDelayMs: number;
}

/**
 * Core's HTTP client for one GitHub registry: the registry's transport options (proxy, ca, timeouts, retries,
 * limits), and the token scoped to the API origin, so that it goes there and nowhere else, redirects included.
 */
export function createGitHubClient(
  config: SourceConfig,
  ctx: SourceCreateContext,
  location: ResolvedGitHubLocation,
  token: string | undefined,
  settings: { retry: RetryPolicy; userAgent: string },
): HttpClient {
  const transport: Partial<HttpClientOptions> = httpClientOptionsOf(config, { registry: ctx.registry, baseDir: ctx.baseDir });
  return createHttpClient({
    registry: ctx.registry,
    retries: settings.retry.retries,
    maxRetryAfterMs: settings.retry.maxDelayMs,
    ...transport,
    ...(token ? { credentials: { origin: new URL(location.apiBase).origin, headers: { authorization: `token ${token}` } } } : {}),
    userAgent: settings.userAgent,
    env: ctx.env,
    logger: ctx.logger,
  });
}

export interface GitHubApiOptions {
  location: ResolvedGitHubLocation;
  /** Whether a token is configured (the client holds it; this module never sees it). */
  authenticated: boolean;
  registry: string;
  logger: Logger;
  /**
   * Core's HTTP client for this registry. It holds the token and attaches it to requests for the API origin only,
   * dropping it on any redirect that leaves that origin; this module never sees the token.
   */
  client: HttpClient;
  userAgent: string;
}

/** The ETag and sha of a branch tip, or `not-modified` when the ETag sent still matches. */
export type CommitAnswer = { sha: string; etag: string | undefined } | 'not-modified';

/** One item of a git tree. */
export interface TreeEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
}

/** The shape of Octokit's RequestError that this module reads (duck-typed: it is not a direct dependency). */
interface OctokitFailure {
  status: number;
  response?: { headers: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
  name?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class GitHubApi {
  private readonly octokit: Octokit;
  /** For the archive: an entry download, streamed (its limit and deadline are the entry ones). */
  private readonly archiveFetch: typeof globalThis.fetch;
  /** For blobs: an entry's file, read whole before Octokit sees it. */
  private readonly blobFetch: typeof globalThis.fetch;
  private readonly owner: string;
  private readonly repo: string;
  /** `owner/repo`, with the host on GHES: what messages call the repository. */
  readonly repository: string;

  constructor(private readonly options: GitHubApiOptions) {
    const { location, logger } = options;
    this.owner = location.owner;
    this.repo = location.repo;
    this.repository = location.webOrigin === 'https://github.com' ? `${location.owner}/${location.repo}` : `${new URL(location.webOrigin).host}/${location.owner}/${location.repo}`;
    this.archiveFetch = options.client.fetchWith({ purpose: 'entry' });
    this.blobFetch = options.client.fetchWith({ purpose: 'entry', buffer: true });
    this.octokit = new Octokit({
      baseUrl: location.apiBase,
      userAgent: options.userAgent,
      // No `auth` here on purpose: the client adds the token to requests for the API origin and nowhere else.
      // API answers are index requests (32 MiB, a short deadline), read whole before Octokit parses them: Octokit
      // reads a body with `.catch(() => '')`, so a reset or stall mid-body would otherwise become an empty answer
      // ("not a commit sha") instead of the network error it is, which core serves a cached copy for.
      request: { fetch: options.client.fetchWith({ purpose: 'index', buffer: true }) },
      // Octokit's own log lines (deprecation notices) go to the registry's logger, never to the console.
      log: { debug: () => {}, info: () => {}, warn: (message: string) => logger.warn(message), error: (message: string) => logger.error(message) },
    });
  }

  private scope(action: string): RequestScope {
    return { registry: this.options.registry, repository: this.repository, authenticated: this.options.authenticated, action };
  }

  /**
   * Runs one API call. A failure becomes a RegistryError at once (core's client has retried what can heal), except the
   * statuses `accept` lets through, which come back as the failure for the caller to read.
   */
  private async send<T>(action: string, signal: AbortSignal, call: () => Promise<T>, accept?: (status: number) => boolean): Promise<T | OctokitFailure> {
    throwIfAborted(signal, this.options.registry, action);
    try {
      return await call();
    } catch (thrown) {
      const failure = this.failure(thrown, action, signal);
      if (accept?.(failure.status)) return failure;
      throw judgeFailure({ status: failure.status, headers: stringHeaders(failure.response?.headers), message: messageOf(failure.response?.data) }, this.scope(action));
    }
  }

  /** An Octokit failure with an HTTP status, or a thrown RegistryError for aborts and network failures. */
  private failure(thrown: unknown, action: string, signal: AbortSignal): OctokitFailure {
    if (isRegistryError(thrown)) throw thrown;
    const error = thrown as OctokitFailure;
    if (signal.aborted || error?.name === 'AbortError') throw abortError(this.options.registry, action, signal.reason);
    // Core's HTTP client throws RegistryErrors (E_UNREACHABLE with a useful hint); Octokit wraps them as a cause.
    if (isRegistryError(error?.cause)) throw error.cause;
    if (typeof error?.status === 'number' && error.response) return error;
    const code = (error?.cause as NodeJS.ErrnoException | undefined)?.code ?? (error?.cause as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code;
    throw new RegistryError(
      'E_UNREACHABLE',
      `GitHub (${new URL(this.options.location.apiBase).host}) could not be reached by registry '${this.options.registry}' while ${action}${code ? ` (${code})` : ''}. Check the network, a proxy (HTTPS_PROXY), and \`baseUrl\` for GitHub Enterprise. Cached indexes are served meanwhile.`,
      { registry: this.options.registry, cause: { code, message: (error?.cause as Error | undefined)?.message } },
    );
  }

  /** The repository's default branch. */
  async defaultBranch(signal: AbortSignal): Promise<string> {
    const response = await this.send('reading the repository', signal, () =>
      this.octokit.rest.repos.get({ owner: this.owner, repo: this.repo, request: { signal } }),
    );
    const branch = (response as { data?: { default_branch?: unknown } }).data?.default_branch;
    if (typeof branch !== 'string' || branch === '') throw this.malformed('reading the repository', 'names no default branch');
    return branch;
  }

  /**
   * A 200 whose body is not what the API sends (an HTML maintenance page, a proxy's error, garbage): the server's or a
   * proxy's fault, like a reset. `E_UNREACHABLE`, so core serves a cached index; never `E_INTERNAL`, which would skip
   * that. The body is described, never quoted.
   */
  private malformed(action: string, what: string): RegistryError {
    return new RegistryError(
      'E_UNREACHABLE',
      `GitHub (${new URL(this.options.location.apiBase).host}) answered registry '${this.options.registry}' with something that ${what} while ${action}; the server, or a proxy in front of it, is failing. Cached indexes are served meanwhile.`,
      { registry: this.options.registry, details: { action } },
    );
  }

  /**
   * The sha `ref` points at, asked conditionally: with the ETag of an earlier answer GitHub replies 304 (free) when it
   * has not moved. `undefined` means the ref does not exist (GitHub's 422 "No commit found").
   */
  async commitSha(ref: string, etag: string | undefined, signal: AbortSignal): Promise<CommitAnswer | undefined> {
    const answer = await this.send(
      `checking '${ref}'`,
      signal,
      () =>
        this.octokit.rest.repos.getCommit({
          owner: this.owner,
          repo: this.repo,
          ref,
          mediaType: { format: 'sha' },
          headers: etag ? { 'if-none-match': etag } : {},
          request: { signal },
        }),
      (status) => status === 304 || status === 422,
    );
    const { status, headers, data } = answer as { status: number; headers: Record<string, string | number | undefined>; data?: unknown };
    if (status === 304) return 'not-modified';
    if (status === 422) return undefined;
    const sha = String(data ?? '').trim();
    if (!/^[0-9a-f]{40}$/.test(sha)) throw this.malformed(`checking '${ref}'`, 'is not a commit sha');
    return { sha, etag: typeof headers.etag === 'string' ? headers.etag : undefined };
  }

  /**
   * The gzip tarball of `sha` as a stream. The API answers with a redirect to the archive host (codeload.github.com,
   * or GHES's own); it is followed here, by hand, so that the token goes to the API origin only: a redirect to any
   * other origin is fetched without credentials (GitHub puts a short-lived token of its own in the URL instead).
   */
  async tarball(sha: string, signal: AbortSignal): Promise<Readable> {
    const action = `downloading the tarball of ${sha.slice(0, 12)}`;
    const response = (await this.send(action, signal, () =>
      this.octokit.rest.repos.downloadTarballArchive({
        owner: this.owner,
        repo: this.repo,
        ref: sha,
        request: { signal, redirect: 'manual', parseSuccessResponseBody: false, fetch: this.archiveFetch },
      }),
    )) as { status: number; headers: Record<string, string | number | undefined>; data: unknown };
    if (!REDIRECTS.has(response.status)) {
      // A server that sends the archive itself (no redirect) is fine: it came from the API origin.
      if (response.status === 200 && response.data instanceof ReadableStream) return Readable.fromWeb(response.data as never);
      throw new RegistryError('E_UNREACHABLE', `GitHub answered ${response.status} without an archive while ${action} for registry '${this.options.registry}'.`, {
        registry: this.options.registry,
      });
    }
    await cancel(response.data);
    const location = typeof response.headers.location === 'string' ? response.headers.location : undefined;
    if (!location) {
      throw new RegistryError('E_UNREACHABLE', `GitHub redirected registry '${this.options.registry}' to nowhere while ${action}.`, { registry: this.options.registry });
    }
    const url = new URL(location, this.options.location.apiBase);
    // The server chose this URL: a password in it is its fault, not the host's configuration (core's client, which
    // cannot tell where a first URL came from, would say E_CONFIG). Refused like any redirect to such a URL.
    if (url.username || url.password) {
      throw new RegistryError('E_POLICY', `GitHub redirected registry '${this.options.registry}' to a URL that carries a user name or password (for ${url.host}) while ${action}; such redirects are not followed.`, {
        registry: this.options.registry,
        details: { host: url.host },
      });
    }
    // An API elsewhere may not send the client to this machine's own services (core's client refuses the same for the
    // redirects it follows; this first hop is followed here).
    if (isLoopbackHost(url.hostname) && !isLoopbackHost(new URL(this.options.location.apiBase).hostname)) {
      throw new RegistryError('E_POLICY', `GitHub redirected registry '${this.options.registry}' to ${url.host}, on this machine, while ${action}; an API elsewhere may not send the client to local services.`, {
        registry: this.options.registry,
        details: { host: url.host },
      });
    }
    // The client follows further redirects itself and sends the token only if a hop is on the API origin (GHES can
    // serve archives under its own /_codeload); codeload.github.com gets no credential, only GitHub's one-time token in
    // the URL. The URL is never shown in a message for that reason.
    const archive = await this.options.client.request(url.href, { signal, redirect: 'follow', purpose: 'entry' });
    if (archive.status === 200) return archive.body;
    await archive.discard();
    throw new RegistryError(
      archive.status === 404 ? 'E_NOT_FOUND' : 'E_UNREACHABLE',
      `The archive host ${url.host} answered ${archive.status} while ${action} for registry '${this.options.registry}'. Try again; an archive link is valid for a few minutes only.`,
      { registry: this.options.registry, details: { status: archive.status } },
    );
  }

  /** The raw bytes of a file at `ref`, or undefined when there is no such file. */
  async fileAt(path: string, ref: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const answer = await this.send(
      `reading ${path} at ${ref.slice(0, 12)}`,
      signal,
      () =>
        this.octokit.rest.repos.getContent({
          owner: this.owner,
          repo: this.repo,
          path,
          ref,
          mediaType: { format: 'raw' },
          request: { signal, parseSuccessResponseBody: false },
        }),
      (status) => status === 404,
    );
    const { status, data } = answer as { status: number; data?: unknown };
    if (status === 404) return undefined;
    return readAll(data, signal);
  }

  /** A tree (a commit sha gives its root tree); recursive lists every descendant. */
  async tree(sha: string, recursive: boolean, signal: AbortSignal): Promise<{ sha: string; truncated: boolean; entries: TreeEntry[] }> {
    const response = await this.send(`listing tree ${sha.slice(0, 12)}`, signal, () =>
      this.octokit.rest.git.getTree({ owner: this.owner, repo: this.repo, tree_sha: sha, ...(recursive ? { recursive: '1' } : {}), request: { signal } }),
    );
    const data = (response as { data?: { sha: string; truncated: boolean; tree: Array<Partial<TreeEntry>> } }).data;
    if (typeof data !== 'object' || data === null || !Array.isArray(data.tree) || data.tree.some((item) => typeof item !== 'object' || item === null)) {
      throw this.malformed(`listing tree ${sha.slice(0, 12)}`, 'is not a git tree');
    }
    return {
      sha: data.sha,
      truncated: data.truncated,
      entries: data.tree.map((item) => ({ path: item.path ?? '', mode: item.mode ?? '', type: item.type ?? '', sha: item.sha ?? '' })),
    };
  }

  /** The raw bytes of a blob. */
  async blob(sha: string, signal: AbortSignal): Promise<Uint8Array> {
    const response = await this.send(`reading blob ${sha.slice(0, 12)}`, signal, () =>
      this.octokit.rest.git.getBlob({
        owner: this.owner,
        repo: this.repo,
        file_sha: sha,
        mediaType: { format: 'raw' },
        request: { signal, parseSuccessResponseBody: false, fetch: this.blobFetch },
      }),
    );
    return readAll((response as { data: unknown }).data, signal);
  }
}

function stringHeaders(headers: Record<string, string | number | undefined> | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value === undefined ? undefined : String(value);
  return out;
}

function messageOf(data: unknown): string | undefined {
  if (data && typeof data === 'object' && 'message' in data && typeof (data as { message: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return undefined;
}

async function cancel(body: unknown): Promise<void> {
  if (body instanceof ReadableStream) await body.cancel().catch(() => {});
}

/** Reads a body Octokit handed over unparsed (a stream), or one it parsed anyway (text or bytes). */
async function readAll(data: unknown, signal: AbortSignal): Promise<Uint8Array> {
  if (data instanceof ReadableStream) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of data as ReadableStream<Uint8Array>) {
      if (signal.aborted) {
        await cancel(data);
        throw new DOMException('This operation was aborted', 'AbortError');
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === 'string') return Buffer.from(data);
  return new Uint8Array();
}

export function abortError(registry: string, action: string, reason: unknown): RegistryError {
  return new RegistryError('E_ABORTED', `Registry '${registry}': ${action} was aborted.`, { registry, cause: reason });
}

export function throwIfAborted(signal: AbortSignal, registry: string, action: string): void {
  if (signal.aborted) throw abortError(registry, action, signal.reason);
}
