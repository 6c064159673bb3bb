import { type HttpClient, type HttpResponse, RegistryError, statusError, throwIfAborted } from '@agentos-registry/core';
import { githubWording } from './github-errors.js';
import type { ResolvedGitHubLocation } from './location.js';

/**
 * The six GitHub REST calls the source makes, as plain GETs through core's HTTP client: it holds the token and sends
 * it to the API origin only (the tarball's redirect to the archive host goes without it), retries what can heal
 * (GitHub's secondary rate limit included, through the source's `retryable` hook), bounds every body, gives every
 * request a deadline and maps a failed status to a RegistryError with GitHub's hints. Nothing here decides what to
 * cache or when: the source asks, this answers.
 */

/** The ETag and sha of a branch tip, or `not-modified` when the ETag sent still matches. */
export type CommitAnswer = { sha: string; etag: string | undefined } | 'not-modified';

/** One item of a git tree. */
export interface TreeEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
}

const JSON_MEDIA = 'application/vnd.github+json';
const RAW_MEDIA = 'application/vnd.github.raw';

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
  private async get(
    path: string,
    action: string,
    signal: AbortSignal,
    options: { accept?: string; headers?: Record<string, string>; entry?: boolean; ok?: number[] } = {},
  ): Promise<HttpResponse> {
    throwIfAborted(signal, action, this.client.registry);
    const response = await this.client.request(`${this.repoUrl}${path}`, {
      signal,
      purpose: options.entry ? 'entry' : 'index',
      headers: { accept: options.accept ?? JSON_MEDIA, 'x-github-api-version': '2022-11-28', ...options.headers },
    });
    if (response.status === 200 || options.ok?.includes(response.status)) return response;
    const text = await response.text().catch(() => '');
    let message: string | undefined;
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed?.message === 'string') message = parsed.message;
    } catch {
      // Not GitHub's JSON error (a proxy's page): nothing of it is quoted.
    }
    throw statusError(
      response,
      githubWording({ registry: this.client.registry, repository: this.repository, action, authenticated: this.authenticated }, message),
    );
  }

  /** A 200 whose body is not what the API sends (an HTML page, garbage): the server's fault, like a reset. */
  private malformed(action: string, what: string): RegistryError {
    return new RegistryError(
      'E_UNREACHABLE',
      `GitHub (${new URL(this.location.apiBase).host}) answered registry '${this.client.registry}' with something that ${what} while ${action}; the server, or a proxy in front of it, is failing. Cached indexes are served meanwhile.`,
      { registry: this.client.registry, details: { action } },
    );
  }

  private async json<T>(response: HttpResponse, action: string, what: string): Promise<T> {
    try {
      return await response.json<T>();
    } catch (error) {
      if (error instanceof SyntaxError) throw this.malformed(action, what);
      throw error;
    }
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
    if (typeof data !== 'object' || data === null || !Array.isArray(data.tree) || data.tree.some((item) => typeof item !== 'object' || item === null)) {
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
