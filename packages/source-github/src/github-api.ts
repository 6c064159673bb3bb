import {
  type HttpClient,
  type HttpResponse,
  isRetryableResponse,
  malformedAnswerError,
  type RegistryError,
  type RetryCandidate,
  type StatusWording,
  statusError,
} from '@agentos-registry/core';
import type { ResolvedGitHubLocation } from './location.js';

/** The ETag and sha of a branch tip, or `not-modified` when the ETag sent still matches. */
export type CommitAnswer = { sha: string; etag: string | undefined } | 'not-modified';

/** One item of a git tree. */
export type TreeEntry = { path: string; mode: string; type: string; sha: string };

/** One GET's media type (default JSON), extra headers, `entry` budget instead of the index one, statuses besides 200 it hands back. */
type GetOptions = { accept?: string; headers?: Record<string, string>; entry?: boolean; ok?: number[] };

const RAW_MEDIA = 'application/vnd.github.raw';

/**
 * The six GitHub REST calls the source makes, as plain GETs through core's HTTP client, which holds the token for the
 * API origin only, retries, bounds, times out and words failed statuses; GitHub adds only what its answers mean (the
 * hooks at the end). Nothing here decides what to cache or when.
 */
export class GitHubApi {
  /** `owner/repo`, with the host on GHES: what messages call the repository. */
  readonly repository: string;
  private readonly repoUrl: string;

  constructor(
    private readonly location: ResolvedGitHubLocation,
    private readonly client: HttpClient,
    private readonly authenticated: boolean,
  ) {
    const { owner, repo, webOrigin, apiBase } = location;
    this.repository = webOrigin === 'https://github.com' ? `${owner}/${repo}` : `${new URL(webOrigin).host}/${owner}/${repo}`;
    this.repoUrl = `${apiBase}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  /**
   * One GET below the repository. A status other than 200 and `accept`ed ones becomes the RegistryError core words,
   * with GitHub's own `message` and hints.
   */
  private async get(path: string, action: string, signal: AbortSignal, options: GetOptions = {}): Promise<HttpResponse> {
    const response = await this.client.request(`${this.repoUrl}${path}`, {
      signal,
      purpose: options.entry ? 'entry' : 'index',
      headers: { accept: options.accept ?? 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', ...options.headers },
    });
    if (response.status === 200 || options.ok?.includes(response.status)) return response;
    // GitHub's JSON error names what went wrong; anything else (a proxy's page) is not quoted.
    const body = await response.json<{ message?: unknown } | null>().catch(() => undefined);
    const message = typeof body?.message === 'string' ? body.message : undefined;
    throw statusError(
      response,
      githubWording({ registry: this.client.registry, repository: this.repository, action, authenticated: this.authenticated }, message),
    );
  }

  /** A 200 whose body is not what the API sends (an HTML page, garbage): the server's fault, like a reset. */
  private malformed(action: string, problem: string): RegistryError {
    return malformedAnswerError({ registry: this.client.registry, service: `GitHub (${new URL(this.location.apiBase).host})`, action, problem });
  }

  /** The JSON body of a 200, or {@link malformed} when it does not parse. */
  private json<T>(response: HttpResponse, action: string, what: string): Promise<T> {
    return response.json<T>().catch((error: unknown) => {
      throw error instanceof SyntaxError ? this.malformed(action, what) : error;
    });
  }

  /** The repository's default branch. */
  async defaultBranch(signal: AbortSignal): Promise<string> {
    const action = 'reading the repository';
    const data = await this.json<{ default_branch?: unknown } | null>(await this.get('', action, signal), action, 'is not a repository');
    if (typeof data?.default_branch !== 'string' || data.default_branch === '') throw this.malformed(action, 'names no default branch');
    return data.default_branch;
  }

  /**
   * The sha `ref` points at, asked conditionally: with the ETag of an earlier answer GitHub replies 304 (free) when it
   * has not moved. `undefined` means the ref does not exist (GitHub's 422 "No commit found").
   */
  async commitSha(ref: string, etag: string | undefined, signal: AbortSignal): Promise<CommitAnswer | undefined> {
    const action = `checking '${ref}'`;
    const response = await this.get(`/commits/${encodeURIComponent(ref)}`, action, signal, {
      accept: 'application/vnd.github.sha',
      headers: etag ? { 'if-none-match': etag } : {},
      ok: [304, 422],
    });
    if (response.status !== 200) {
      await response.discard();
      // "Not modified" since no ETag: a fault of the server or of a cache in front of it, never an unchanged branch.
      if (response.status === 304 && !etag) throw this.malformed(action, 'is a 304 to a request that sent no ETag');
      return response.status === 304 ? 'not-modified' : undefined;
    }
    const sha = (await response.text()).trim();
    if (!/^[0-9a-f]{40}$/.test(sha)) throw this.malformed(action, 'is not a commit sha');
    return { sha, etag: response.headers.etag };
  }

  /**
   * The gzip tarball of `sha`, as core's client answers it (core reads it, starting over if the connection drops). The
   * API redirects to the archive host; the client follows, with the token for the API origin only.
   */
  tarball(sha: string, signal: AbortSignal): Promise<HttpResponse> {
    return this.get(`/tarball/${encodeURIComponent(sha)}`, `downloading the tarball of ${sha.slice(0, 12)}`, signal, { entry: true });
  }

  /** The raw bytes of a file at `ref`, or undefined when there is no such file. */
  async fileAt(path: string, ref: string, signal: AbortSignal): Promise<Uint8Array | undefined> {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const response = await this.get(`/contents/${encoded}?ref=${encodeURIComponent(ref)}`, `reading ${path} at ${ref.slice(0, 12)}`, signal, {
      accept: RAW_MEDIA,
      ok: [404],
    });
    if (response.status === 200) return response.bytes();
    await response.discard();
    return undefined;
  }

  /** A tree (a commit sha gives its root tree); recursive lists every descendant. */
  async tree(sha: string, recursive: boolean, signal: AbortSignal): Promise<{ sha: string; truncated: boolean; entries: TreeEntry[] }> {
    const action = `listing tree ${sha.slice(0, 12)}`;
    const response = await this.get(`/git/trees/${encodeURIComponent(sha)}${recursive ? '?recursive=1' : ''}`, action, signal);
    const data = await this.json<{ sha: string; truncated: boolean; tree: Array<Partial<TreeEntry>> } | null>(response, action, 'is not a git tree');
    if (!Array.isArray(data?.tree) || data.tree.some((item) => typeof item !== 'object' || item === null)) {
      throw this.malformed(action, 'is not a git tree');
    }
    const entries = data.tree.map((item) => ({ path: item.path ?? '', mode: item.mode ?? '', type: item.type ?? '', sha: item.sha ?? '' }));
    return { sha: data.sha, truncated: data.truncated, entries };
  }

  /** The raw bytes of a blob (an entry's file: the entry limit and deadline). */
  async blob(sha: string, signal: AbortSignal): Promise<Uint8Array> {
    return (await this.get(`/git/blobs/${encodeURIComponent(sha)}`, `reading blob ${sha.slice(0, 12)}`, signal, { accept: RAW_MEDIA, entry: true })).bytes();
  }
}

/** GitHub's secondary rate limit is a 403 that names a wait: retried like a 429, on top of core's default. */
export function githubRetryable(response: RetryCandidate): boolean {
  return isRetryableResponse(response) || (response.status === 403 && response.headers['retry-after'] !== undefined);
}

const SCOPES = 'a classic token needs the `repo` scope for private repositories, a fine-grained or app token needs "Contents: read" on';

/** How core words a failed GitHub answer; `message` is GitHub's own explanation from the JSON body. */
export function githubWording(scope: { registry: string; repository: string; action: string; authenticated: boolean }, message?: string): StatusWording {
  const { registry, repository, action, authenticated } = scope;
  return {
    registry,
    what: `the repository ${repository} (${action})`,
    service: 'GitHub',
    authenticated,
    ...(message ? { serverMessage: message } : {}),
    hints: {
      auth: 'Check that the token is valid and has not expired or been revoked; a public repository also works with no token at all.',
      forbidden: authenticated
        ? `The token lacks a permission: ${SCOPES} this repository, and an organization with SAML SSO must have authorized the token.`
        : 'The repository may need a `token`.',
      notFound: authenticated
        ? `Check the owner and name, and that the token can see it (${SCOPES} ${repository}).`
        : 'Check the owner and name. If the repository is private: GitHub answers 404 to requests without credentials, and private repositories need a `token` (e.g. token: process.env.GITHUB_TOKEN).',
      quota: authenticated
        ? 'The limit belongs to the token: wait for the reset, or use a token with its own quota (a GitHub App installation token gets up to 15,000/h).'
        : 'Configure a `token` (a personal access token, even one with no scopes, or an app token): it raises the limit from 60 to 5,000 requests per hour.',
      throttled: "This is GitHub's secondary rate limit, for too many requests in a short time: fetch fewer entries at once or raise cacheDuration.",
    },
  };
}
