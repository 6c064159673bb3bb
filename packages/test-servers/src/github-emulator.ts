import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { LOOPBACK } from './free-port.js';
import { BareRepo, isPlainRef, type TreeItem } from './github-emulator-git.js';
import { type RateLimitSettings, RateLimiter, type RateLimitState } from './github-emulator-rate-limit.js';
import * as shapes from './github-emulator-shapes.js';
import { listenOnLoopback } from './listen.js';
import { makeTempDir } from './temp-dir.js';

/** One repository the emulator serves. */
export interface GitHubEmulatorRepo {
  /** Absolute path of a bare repository, e.g. `GitRepo.path` from `createGitRepo`. */
  path: string;
  /** Private repositories answer 404 to callers without a valid token, as on GitHub. */
  private?: boolean;
  /** The `default_branch` reported. Default: the branch the bare repository's HEAD points at. */
  defaultBranch?: string;
}

/** Options for {@link startGitHubEmulator}. */
export interface GitHubEmulatorOptions {
  /** `owner/name` → repository. Names match case-insensitively, as on GitHub. */
  repos: Record<string, GitHubEmulatorRepo>;
  /** Tokens that authenticate (sent as `token X`, `Bearer X`, or Basic with the token as password). Any other is 401. */
  tokens?: string[];
  /** The primary rate limit of every caller. Default: GitHub's 60/h without a token, 5000/h per token. */
  rateLimit?: RateLimitSettings;
  /** Status of an exhausted primary rate limit; GitHub sends 403 or 429. Default 403. */
  rateLimitStatus?: 403 | 429;
  /** `''` serves the API at the origin's root like api.github.com; `'/api/v3'` like GitHub Enterprise Server. */
  apiPrefix?: '' | '/api/v3';
}

/** One request either origin saw. Credentials are never stored, not even the archive's one-time token. */
export interface GitHubRequestLog {
  /** `api` for the REST API, `archive` for the second origin that serves tarballs (GitHub's codeload). */
  origin: 'api' | 'archive';
  method: string;
  /** Path as requested, without the query. */
  path: string;
  /** Query string without `?`; a `token` parameter's value is replaced by `***`. */
  query: string;
  /** 0 while the response has not started. */
  status: number;
  /** Whether an Authorization header was present. */
  authorization: boolean;
  /** Whether the request was conditional (`If-None-Match`). */
  conditional: boolean;
  /** The Accept header, when sent. */
  accept?: string;
}

/** Options for {@link GitHubEmulator.injectSecondaryRateLimit}. */
export interface SecondaryRateLimitOptions {
  /** How many API requests in a row are refused. Default 1. */
  times?: number;
  /** 403 (GitHub's usual answer) or 429. Default 403. */
  status?: 403 | 429;
  /** Seconds sent in `retry-after`; `null` sends none (GitHub then means "wait at least a minute"). Default 1. */
  retryAfter?: number | null;
}

/** A running emulator: the REST API on one origin, archives on a second. */
export interface GitHubEmulator {
  /** The API base without a trailing slash (with `/api/v3` for GHES): what Octokit takes as `baseUrl`. */
  apiUrl: string;
  /** The web origin (`html_url`s, and URLs a user pastes: `${webUrl}/owner/repo`), no trailing slash. */
  webUrl: string;
  /** The second origin serving tarballs, no trailing slash. */
  archiveUrl: string;
  port: number;
  archivePort: number;
  /** Every request to both origins, in arrival order. */
  requests: GitHubRequestLog[];
  /** Adds or replaces a repository; `undefined` removes it. */
  setRepo(fullName: string, repo: GitHubEmulatorRepo | undefined): void;
  /** A snapshot of the rate-limit bucket of anonymous callers, or of `token`'s. */
  rateLimit(token?: string): RateLimitState;
  /** Changes the primary rate limit of every caller (e.g. `{ remaining: 0 }` to exhaust it). */
  setRateLimit(settings: RateLimitSettings): void;
  /** Makes the next API requests hit a secondary rate limit. */
  injectSecondaryRateLimit(options?: SecondaryRateLimitOptions): void;
  /** Makes the next API requests fail with a server error (e.g. 502), as GitHub does now and then. */
  injectServerError(options?: { times?: number; status?: number }): void;
  /** Forgets the request log. */
  clearRequests(): void;
  /**
   * Dies now, as GitHub out of reach looks: open connections are cut and new ones reset (API and archive host) until
   * `close()`. The ports stay held meanwhile, so no other server can answer in the emulator's place.
   */
  kill(): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const RATE_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';
const MEDIA_SHA = /application\/vnd\.github(?:\.v3)?\.sha/;
const MEDIA_RAW = /application\/vnd\.github(?:\.v3)?\.raw/;
const ARCHIVE_TOKEN_TTL_MS = 5 * 60_000;

/** What a route answers, before conditional handling and rate-limit headers. */
interface Reply {
  status: number;
  body: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send an ETag and honour If-None-Match (200 answers of GET endpoints). */
  conditional?: boolean;
}

interface RepoState extends GitHubEmulatorRepo {
  fullName: string;
  git: BareRepo;
}

/**
 * A GitHub REST API emulator backed by real bare git repositories, on 127.0.0.1. It serves the endpoints a registry
 * source needs with GitHub's documented JSON shapes (typed against `@octokit/openapi-types`): the repository, a
 * commit (also as a bare sha with `Accept: application/vnd.github.sha`), trees, blobs, contents, and tarballs, which
 * it answers with a 302 to a second origin, as GitHub sends clients to codeload.github.com. It sends ETags and
 * answers matching `If-None-Match` with a free 304, keeps and sends `x-ratelimit-*`, can run out or throttle, hides
 * private repositories from callers without a valid token (404) and answers 401 to an invalid one.
 */
export async function startGitHubEmulator(options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  const apiPrefix = options.apiPrefix ?? '';
  const scratch = await makeTempDir('agentos-github-emulator-');
  const home = path.join(scratch.path, 'home');
  await mkdir(home);
  const repos = new Map<string, RepoState>();
  const setRepo = (fullName: string, repo: GitHubEmulatorRepo | undefined) => {
    if (!/^[^/\s]+\/[^/\s]+$/.test(fullName)) throw new Error(`startGitHubEmulator: repo names are owner/name, got '${fullName}'`);
    if (repo === undefined) repos.delete(fullName.toLowerCase());
    else repos.set(fullName.toLowerCase(), { ...repo, fullName, git: new BareRepo(path.resolve(repo.path), home) });
  };
  for (const [fullName, repo] of Object.entries(options.repos)) setRepo(fullName, repo);
  const tokens = options.tokens ?? [];
  const limiter = new RateLimiter(options.rateLimit);
  const requests: GitHubRequestLog[] = [];
  const archiveTokens = new Map<string, { repo: string; expires: number }>();
  const children = new Set<ChildProcess>();
  let secondary: Required<SecondaryRateLimitOptions> | undefined;
  let serverError: { times: number; status: number } | undefined;
  // Filled in once both servers listen; routes only run after that.
  const urls: shapes.EmulatorUrls = { api: '', web: '' };
  let archiveUrl = '';

  const logEntry = (origin: GitHubRequestLog['origin'], req: http.IncomingMessage): GitHubRequestLog => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const entry: GitHubRequestLog = {
      origin,
      method: req.method ?? 'GET',
      path: q < 0 ? raw : raw.slice(0, q),
      query: q < 0 ? '' : raw.slice(q + 1).replace(/(^|&)token=[^&]*/g, '$1token=***'),
      status: 0,
      authorization: req.headers.authorization !== undefined,
      conditional: req.headers['if-none-match'] !== undefined,
      ...(req.headers.accept ? { accept: req.headers.accept } : {}),
    };
    requests.push(entry);
    return entry;
  };

  /** The token a request presents: undefined for none, `null` for a header that names no valid token. */
  const callerOf = (header: string | undefined): string | undefined | null => {
    if (header === undefined) return undefined;
    const match = /^(\S+)\s+(.+)$/.exec(header.trim());
    if (!match) return null;
    const scheme = match[1]!.toLowerCase();
    let token = match[2]!;
    if (scheme === 'basic') token = Buffer.from(token, 'base64').toString('utf8').split(':').slice(1).join(':');
    else if (scheme !== 'token' && scheme !== 'bearer') return null;
    const index = tokens.indexOf(token);
    return index < 0 ? null : `token-${index}`;
  };

  // ── API origin ──────────────────────────────────────────────────────────────────────────────────────────────────

  const api = http.createServer((req, res) => {
    const entry = logEntry('api', req);
    const send = (status: number, headers: Record<string, string>, body?: Buffer | string) => {
      entry.status = status;
      res.writeHead(status, {
        'x-github-api-version-selected': '2022-11-28',
        'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
        ...headers,
      });
      res.end(req.method === 'HEAD' || status === 304 ? undefined : body);
    };
    handleApi(req, entry, send).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else send(500, jsonType(), JSON.stringify(shapes.basicError(`emulator error: ${String(error)}`, DOCS, 500)));
    });
  });

  type Send = (status: number, headers: Record<string, string>, body?: Buffer | string) => void;

  async function handleApi(req: http.IncomingMessage, entry: GitHubRequestLog, send: Send): Promise<void> {
    if (apiPrefix && !(entry.path === apiPrefix || entry.path.startsWith(`${apiPrefix}/`))) {
      return send(404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not Found\n');
    }
    const caller = callerOf(req.headers.authorization);
    const bucket = limiter.bucket(caller ?? 'anonymous');
    const rateHeaders = () => RateLimiter.headers(bucket);
    const error = (status: number, message: string, docs = DOCS, extra: Record<string, string> = {}) =>
      send(status, { ...jsonType(), ...rateHeaders(), ...extra }, JSON.stringify(shapes.basicError(message, docs, status)));

    if (caller === null) return error(401, 'Bad credentials');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      limiter.consume(bucket);
      return error(404, 'Not Found');
    }
    const route = entry.path.slice(apiPrefix.length) || '/';
    if (route === '/rate_limit') {
      // Asking for the rate limit is free on GitHub.
      return send(200, { ...jsonType(), ...rateHeaders() }, JSON.stringify(shapes.rateLimitOverview(bucket)));
    }
    if (bucket.remaining <= 0) {
      const who = caller ? 'user ID 1' : LOOPBACK;
      const hint = caller
        ? ' If you reach out to GitHub Support for help, please include the request ID.'
        : " (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
      return error(options.rateLimitStatus ?? 403, `API rate limit exceeded for ${who}.${hint}`, RATE_DOCS);
    }
    if (secondary) {
      const { status, retryAfter } = secondary;
      secondary.times -= 1;
      if (secondary.times <= 0) secondary = undefined;
      return error(
        status,
        'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
        `${RATE_DOCS}#about-secondary-rate-limits`,
        retryAfter === null ? {} : { 'retry-after': String(retryAfter) },
      );
    }
    if (serverError) {
      const { status } = serverError;
      serverError.times -= 1;
      if (serverError.times <= 0) serverError = undefined;
      return send(status, { 'content-type': 'text/plain; charset=utf-8' }, 'Server Error\n');
    }

    const reply = await routeApi(route, entry.query, req.headers.accept ?? '', caller !== undefined);
    const headers: Record<string, string> = { vary: 'Accept, Authorization, Cookie, X-GitHub-OTP', ...reply.headers };
    if (reply.contentType) headers['content-type'] = reply.contentType;
    if (reply.status === 200 && reply.conditional) {
      const etag = `W/"${createHash('sha256')
        .update(`${req.headers.accept ?? ''}\0`)
        .update(reply.body)
        .digest('hex')}"`;
      headers.etag = etag;
      headers['cache-control'] = caller ? 'private, max-age=60, s-maxage=60' : 'public, max-age=60, s-maxage=60';
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        // A 304 does not count against the primary rate limit.
        return send(304, { ...headers, ...rateHeaders() });
      }
    }
    limiter.consume(bucket);
    return send(reply.status, { ...headers, ...rateHeaders() }, reply.body);
  }

  /** Routes an API path (after the prefix) to its handler; anything unknown is GitHub's JSON 404. */
  async function routeApi(route: string, query: string, accept: string, authenticated: boolean): Promise<Reply> {
    const notFound = (docs = DOCS): Reply => json(404, shapes.basicError('Not Found', docs, 404));
    let segments: string[];
    try {
      segments = route.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return notFound();
    }
    if (segments[0] !== 'repos' || segments.length < 3) return notFound();
    const repo = repos.get(`${segments[1]}/${segments[2]}`.toLowerCase());
    // A private repository is indistinguishable from a missing one for a caller who may not see it.
    if (!repo || (repo.private && !authenticated)) return notFound(`${DOCS}/repos/repos#get-a-repository`);
    const [, , , resource, ...rest] = segments;
    const params = new URLSearchParams(query);
    switch (resource) {
      case undefined:
        return getRepository(repo);
      case 'commits':
        return rest.length === 0 ? notFound() : getCommit(repo, rest.join('/'), accept);
      case 'tarball':
        return getTarball(repo, rest.join('/'));
      case 'git':
        if (rest[0] === 'trees' && rest.length >= 2) return getTree(repo, rest.slice(1).join('/'), params.has('recursive'));
        if (rest[0] === 'blobs' && rest.length === 2) return getBlob(repo, rest[1]!, accept);
        return notFound();
      case 'contents':
        return getContents(repo, rest.filter(Boolean).join('/'), params.get('ref') ?? undefined, accept);
      default:
        return notFound();
    }
  }

  async function defaultBranchOf(repo: RepoState): Promise<string> {
    return repo.defaultBranch ?? (await repo.git.headBranch());
  }

  async function getRepository(repo: RepoState): Promise<Reply> {
    const defaultBranch = await defaultBranchOf(repo);
    const tip = await repo.git.resolve(`refs/heads/${defaultBranch}`, 'commit');
    const pushed = tip ? (await repo.git.commit(tip)).committer.date.replace(/\+00:00$/, 'Z') : '2024-01-01T00:00:00Z';
    const body = shapes.fullRepository(repo.fullName, { private: repo.private ?? false, defaultBranch, created: '2024-01-01T00:00:00Z', pushed }, urls);
    return { ...json(200, body), conditional: true };
  }

  async function getCommit(repo: RepoState, ref: string, accept: string): Promise<Reply> {
    const sha = await repo.git.resolve(ref, 'commit');
    if (!sha) return json(422, shapes.basicError(`No commit found for SHA: ${ref}`, `${DOCS}/commits/commits#get-a-commit`, 422));
    if (MEDIA_SHA.test(accept)) {
      return { status: 200, body: sha, contentType: 'application/vnd.github.sha; charset=utf-8', conditional: true, headers: mediaType('sha') };
    }
    return { ...json(200, shapes.commit(repo.fullName, await repo.git.commit(sha), urls)), conditional: true };
  }

  async function getTarball(repo: RepoState, ref: string): Promise<Reply> {
    const wanted = ref === '' ? await defaultBranchOf(repo) : ref;
    const sha = await repo.git.resolve(wanted, 'commit');
    if (!sha) return json(404, shapes.basicError('Not Found', `${DOCS}/repos/contents#download-a-repository-archive-tar`, 404));
    let location = `${archiveUrl}/${repo.fullName}/legacy.tar.gz/${wanted.split('/').map(encodeURIComponent).join('/')}`;
    if (repo.private) {
      // Like codeload: the archive origin never sees the caller's credential, only a short-lived token of its own.
      const token = randomBytes(20).toString('base64url');
      archiveTokens.set(token, { repo: repo.fullName.toLowerCase(), expires: Date.now() + ARCHIVE_TOKEN_TTL_MS });
      location += `?token=${token}`;
    }
    return { status: 302, body: '', contentType: 'text/html;charset=utf-8', headers: { location } };
  }

  async function getTree(repo: RepoState, treeIsh: string, recursive: boolean): Promise<Reply> {
    const sha = await repo.git.resolve(treeIsh, 'tree');
    if (!sha) return json(404, shapes.basicError('Not Found', `${DOCS}/git/trees#get-a-tree`, 404));
    const items = await repo.git.lsTree(sha, { recursive });
    return { ...json(200, shapes.gitTree(repo.fullName, sha, items, urls)), conditional: true };
  }

  async function getBlob(repo: RepoState, sha: string, accept: string): Promise<Reply> {
    if ((await repo.git.objectType(sha)) !== 'blob') return json(404, shapes.basicError('Not Found', `${DOCS}/git/blobs#get-a-blob`, 404));
    const bytes = await repo.git.blob(sha);
    if (MEDIA_RAW.test(accept)) return { status: 200, body: bytes, contentType: 'application/vnd.github.raw', conditional: true, headers: mediaType('raw') };
    return { ...json(200, shapes.blob(repo.fullName, sha, bytes, urls)), conditional: true };
  }

  async function getContents(repo: RepoState, filePath: string, ref: string | undefined, accept: string): Promise<Reply> {
    const docs = `${DOCS}/repos/contents#get-repository-content`;
    const wanted = ref ?? (await defaultBranchOf(repo));
    const commit = await repo.git.resolve(wanted, 'commit');
    if (!commit) return json(404, shapes.basicError(`No commit found for the ref ${wanted}`, docs, 404));
    let item: TreeItem | undefined;
    if (filePath !== '') {
      if (filePath.split('/').some((segment) => segment === '' || segment === '.' || segment === '..'))
        return json(404, shapes.basicError('Not Found', docs, 404));
      item = (await repo.git.lsTree(commit, { path: filePath })).find((candidate) => candidate.path === filePath);
      if (!item) return json(404, shapes.basicError('Not Found', docs, 404));
    }
    if (!item || item.type === 'tree') {
      const listed = await repo.git.lsTree(item ? item.sha : commit);
      const children = listed.map((child) => ({ ...child, path: item ? `${item.path}/${child.path}` : child.path }));
      return { ...json(200, shapes.contentDirectory(repo.fullName, children, wanted, urls)), conditional: true };
    }
    if (item.type === 'commit') return json(404, shapes.basicError('Not Found', docs, 404));
    const bytes = await repo.git.blob(item.sha);
    if (MEDIA_RAW.test(accept)) return { status: 200, body: bytes, contentType: 'application/vnd.github.raw', conditional: true, headers: mediaType('raw') };
    const body =
      item.mode === '120000'
        ? shapes.contentSymlink(repo.fullName, item, bytes.toString('utf8'), wanted, urls)
        : shapes.contentFile(repo.fullName, item, bytes, wanted, urls);
    return { ...json(200, body), conditional: true };
  }

  // ── archive origin (codeload) ───────────────────────────────────────────────────────────────────────────────────

  const archive = http.createServer((req, res) => {
    const entry = logEntry('archive', req);
    const fail = (status: number, text: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
    };
    serveArchive(req, entry, res, fail).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else fail(500, `emulator error: ${String(error)}`);
    });
  });

  async function serveArchive(
    req: http.IncomingMessage,
    entry: GitHubRequestLog,
    res: http.ServerResponse,
    fail: (status: number, text: string) => void,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, '405: Method Not Allowed');
    let segments: string[];
    try {
      segments = entry.path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return fail(404, '404: Not Found');
    }
    const [owner, name, format, ...refParts] = segments;
    const repo = repos.get(`${owner}/${name}`.toLowerCase());
    if (!repo || format !== 'legacy.tar.gz' || refParts.length === 0) return fail(404, '404: Not Found');
    if (repo.private) {
      const token = new URLSearchParams(req.url?.split('?')[1] ?? '').get('token') ?? '';
      const grant = archiveTokens.get(token);
      if (!grant || grant.repo !== repo.fullName.toLowerCase() || grant.expires < Date.now()) return fail(404, '404: Not Found');
    }
    const ref = refParts.join('/');
    const sha = isPlainRef(ref) ? await repo.git.resolve(ref, 'commit') : undefined;
    if (!sha) return fail(404, '404: Not Found');
    // GitHub's prefix: <owner>-<repo>-<7-char sha>/
    const base = `${repo.fullName.replace('/', '-')}-${sha.slice(0, 7)}`;
    const headers = {
      'content-type': 'application/x-gzip',
      'content-disposition': `attachment; filename=${base}.tar.gz`,
      etag: `"${sha}"`,
    };
    if (req.method === 'HEAD') {
      entry.status = 200;
      res.writeHead(200, headers).end();
      return;
    }
    const child = repo.git.archive(sha, `${base}/`);
    children.add(child);
    child.once('close', () => children.delete(child));
    res.once('close', () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    entry.status = 200;
    res.writeHead(200, headers);
    child.stdout?.pipe(res);
    child.once('close', (code) => {
      // A failed archive must not look like a complete one: cut the connection instead of ending cleanly.
      if (code !== 0) res.destroy();
    });
  }

  const apiListening = await listenOnLoopback(api);
  const archiveListening = await listenOnLoopback(archive);
  urls.web = `http://${LOOPBACK}:${apiListening.port}`;
  urls.api = `${urls.web}${apiPrefix}`;
  archiveUrl = `http://${LOOPBACK}:${archiveListening.port}`;

  let closed: Promise<void> | undefined;
  return {
    apiUrl: urls.api,
    webUrl: urls.web,
    archiveUrl,
    port: apiListening.port,
    archivePort: archiveListening.port,
    requests,
    setRepo,
    rateLimit: (token) => ({ ...limiter.bucket(token === undefined ? 'anonymous' : (callerOf(`token ${token}`) ?? 'anonymous')) }),
    setRateLimit: (settings) => limiter.set(settings),
    injectSecondaryRateLimit: (throttle = {}) => {
      secondary = { times: throttle.times ?? 1, status: throttle.status ?? 403, retryAfter: throttle.retryAfter === undefined ? 1 : throttle.retryAfter };
    },
    injectServerError: (fault = {}) => {
      serverError = { times: fault.times ?? 1, status: fault.status ?? 502 };
    },
    clearRequests: () => {
      requests.length = 0;
    },
    kill() {
      apiListening.kill();
      archiveListening.kill();
    },
    close() {
      closed ??= (async () => {
        for (const child of children) child.kill('SIGTERM');
        await Promise.all([apiListening.shutdown(), archiveListening.shutdown()]);
        await scratch.close();
      })();
      return closed;
    },
  };
}

function jsonType(): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' };
}

function mediaType(param: 'sha' | 'raw'): Record<string, string> {
  return { 'x-github-media-type': `github.v3; param=${param}` };
}

function json(status: number, body: unknown): Reply {
  return { status, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8', headers: { 'x-github-media-type': 'github.v3; format=json' } };
}

/** Weak comparison, as GitHub does for GET: `W/"x"` matches `"x"`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => strip(tag) === '*' || strip(tag) === strip(etag));
}
