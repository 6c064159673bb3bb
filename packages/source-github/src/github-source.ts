import {
  type ConfigProblem,
  createSourceHttpClient,
  defineSource,
  HTTP_SOURCE_OPTION_ROLES,
  type HttpClient,
  type HttpSourceOptions,
  isRegistryError,
  type OptionRole,
  RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceRevision,
  validateHttpSourceOptions,
} from '@agentos-registry/core';
import { GitHubApi, githubRetryable } from './github-api.js';
import { type ResolvedGitHubLocation, resolveGitHubLocation } from './location.js';
import { PerEntryReader } from './per-entry.js';

/** How entries are downloaded. */
export type GitHubFetchMode = 'tarball' | 'per-entry';

/** The config of a `github` registry: the page's fields plus the options below. */
export interface GitHubSourceConfig extends SourceConfig, HttpSourceOptions {
  type: 'github';
  /** `owner/repo`, `https://github.com/owner/repo`, or `…/tree/<branch>/<folder>` (the folder then holds the registry). */
  location: string;
  /** Branch, tag or commit sha. Default: the repository's default branch. */
  branch?: string;
  /** A personal access token or an app installation token; needed for private repositories. */
  token?: string;
  /** REST API base of GitHub Enterprise Server, e.g. `https://ghe.example.com/api/v3`. Default `https://api.github.com`. */
  baseUrl?: string;
  /** Folder of the repository that holds `registry.json` (default: the root). */
  subdir?: string;
  /** `tarball` (default): one archive per revision, shared by every entry. `per-entry`: trees and blobs API per entry. */
  mode?: GitHubFetchMode;
}

/** Settings of the adapter itself (not of one registry). */
export interface GitHubSourceOptions {
  /** Retries of one request (network, 5xx, 429, GitHub's secondary rate limit), 0 to 10. Default: core's (2); a registry's own wins. */
  retries?: number;
  /** The longest `retry-after` waited for, in ms; a longer one fails at once with `E_RATE_LIMIT`. Default 60 000. */
  maxRetryDelay?: number;
  /** `User-Agent` of every request (GitHub requires one). */
  userAgent?: string;
}

/** `mode` changes how files arrive, not which: a switch keeps the cache warm. */
const OPTIONS: Record<string, OptionRole> = { baseUrl: 'identity', subdir: 'identity', mode: 'transport', ...HTTP_SOURCE_OPTION_ROLES };
const MODES: readonly GitHubFetchMode[] = ['tarball', 'per-entry'];

/**
 * The `github` source: a registry that is a GitHub or GitHub Enterprise Server repository, read through the REST
 * API. The revision is the branch's commit sha, asked with the ETag of the previous answer so an unchanged branch
 * costs one free 304; the index and every entry of a revision come from one tarball, extracted once by core's safe
 * extractor. The token goes to the API origin only.
 *
 * @example
 * ```ts
 * const registry = await createRegistry(
 *   { registries: { custom: { type: 'github', location: 'your-org/private-repo', branch: 'main', token: process.env.GITHUB_TOKEN } } },
 *   { sources: [githubSource()] },
 * );
 * ```
 */
export function githubSource(options: GitHubSourceOptions = {}): SourceAdapter {
  return defineSource({
    type: 'github',
    options: OPTIONS,
    validate: validateGitHubConfig,
    // Core calls `validate` first, so a location that reaches `create` resolves; core words anything it throws as E_CONFIG.
    create: (config, ctx) => new GitHubRegistrySource(resolveGitHubLocation(config), config, ctx, options),
  });
}

function validateGitHubConfig(config: SourceConfig): ConfigProblem[] {
  // Core reports the first problem: the location's, then `mode`'s, then the transport options' (core checks `token`).
  const problems = validateHttpSourceOptions(config);
  if (config.mode !== undefined && !MODES.includes(config.mode as GitHubFetchMode)) {
    problems.unshift({ field: 'mode', message: `must be one of ${MODES.map((mode) => `'${mode}'`).join(', ')}` });
  }
  try {
    resolveGitHubLocation(config);
  } catch (error) {
    if (!isRegistryError(error, 'E_CONFIG')) throw error;
    problems.unshift({ field: String(error.details?.field), message: error.message });
  }
  return problems;
}

/**
 * One configured GitHub registry. In `tarball` mode it answers with a snapshot (one archive per commit, which core
 * extracts once and serves the index and every entry from); in `per-entry` mode with the contents, trees and blobs APIs.
 */
class GitHubRegistrySource implements RegistrySource {
  readonly displayLocation: string;
  readonly snapshot?: RegistrySource['snapshot'];
  readonly readIndex?: RegistrySource['readIndex'];
  readonly materialize?: RegistrySource['materialize'];
  private readonly api: GitHubApi;
  private readonly client: HttpClient;
  /** The default branch once asked in this process (only when no `branch` is configured). */
  private defaultBranch: string | undefined;

  constructor(
    private readonly location: ResolvedGitHubLocation,
    config: SourceConfig,
    ctx: SourceCreateContext,
    options: GitHubSourceOptions,
  ) {
    const token = typeof config.token === 'string' && config.token.trim() !== '' ? config.token.trim() : undefined;
    const { owner, repo, webOrigin, subdir } = location;
    this.displayLocation = `${webOrigin}/${owner}/${repo}${subdir ? `/${subdir}` : ''}`;
    // The token is scoped to the API origin: the client sends it there and nowhere else, redirects included. The
    // adapter's retry settings are defaults; a registry's own `retries` wins.
    this.client = createSourceHttpClient(config, ctx, {
      retries: options.retries,
      maxRetryAfterMs: options.maxRetryDelay,
      retryable: githubRetryable,
      userAgent: options.userAgent ?? 'agentos-registry-source-github',
      ...(token ? { credentials: { origin: new URL(location.apiBase).origin, headers: { authorization: `token ${token}` } } } : {}),
    });
    this.api = new GitHubApi(location, this.client, token !== undefined);
    if ((config.mode as GitHubFetchMode | undefined) === 'per-entry') {
      const perEntry = new PerEntryReader(this.api, ctx.registry, subdir, this.displayLocation);
      this.readIndex = (revision, call) => perEntry.readIndex(revision.id, call.signal);
      this.materialize = ({ path, revision, destination }, call) => perEntry.materialize(revision.id, path, destination, call.signal, call.logger);
    } else {
      // strip 1: GitHub's tarballs hold one top folder, `<owner>-<repo>-<short sha>/`.
      this.snapshot = async (revision, call) => ({
        archive: await this.api.tarball(revision.id, call.signal),
        strip: 1,
        ...(subdir ? { subdir } : {}),
        label: `The tarball of ${this.api.repository} at ${revision.id.slice(0, 12)}`,
      });
    }
  }

  async revision(ctx: SourceCallContext): Promise<SourceRevision | 'unchanged'> {
    const previous = ctx.previous?.validators;
    const configured = this.location.ref;
    // Without a configured branch the default branch is asked once, then remembered (in memory, and in the
    // validators core keeps on disk), so that revalidating from a new process is still one conditional request.
    let ref = configured ?? this.defaultBranch ?? previous?.defaultBranch;
    const remembered = configured === undefined && ref !== undefined;
    ref ??= await this.api.defaultBranch(ctx.signal);
    let answer = await this.api.commitSha(ref, previous?.ref === ref ? previous.etag : undefined, ctx.signal);
    if (answer === undefined && remembered) {
      // The remembered default branch is gone (renamed or deleted): ask the repository again, once.
      ref = await this.api.defaultBranch(ctx.signal);
      answer = await this.api.commitSha(ref, undefined, ctx.signal);
    }
    if (answer === undefined) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `${this.api.repository} has no branch, tag or commit '${ref}' (registry '${ctx.registry}'). Check \`branch\`${configured ? '' : " (or the repository's default branch)"}.`,
        { registry: ctx.registry, details: { branch: ref } },
      );
    }
    // Only the previous revision's ETag can be "not modified": commitSha refuses a 304 to a request without one.
    if (answer === 'not-modified') return 'unchanged';
    if (configured === undefined) this.defaultBranch = ref;
    return {
      id: answer.sha,
      validators: { ref, ...(answer.etag ? { etag: answer.etag } : {}), ...(configured === undefined ? { defaultBranch: ref } : {}) },
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
