import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { checkAuthorization, type ServerAuth } from './auth.js';
import { runCgi } from './cgi.js';
import { LOOPBACK } from './free-port.js';
import { gitConfigEnv, gitEnv, runGit } from './git-env.js';
import { listenOnLoopback } from './listen.js';
import { makeTempDir } from './temp-dir.js';

/** Options for {@link startGitHttpServer}. */
export interface GitHttpServerOptions {
  /** Folder holding the bare repositories; `<root>/x.git` is served at `/x.git`. */
  root: string;
  /** Credentials to demand: from every repo, or only from `privateRepos` when that is given. */
  auth?: ServerAuth;
  /** Repo names (`x` or `x.git`) that need `auth`; the others stay public. */
  privateRepos?: string[];
  /** Accept pushes (`git-receive-pack`). Default false, as for an anonymous mirror. */
  allowPush?: boolean;
}

/** One request the git HTTP server saw. The Authorization value is never stored. */
export interface GitHttpRequestLog {
  method: string;
  /** Path and query as requested. */
  url: string;
  /** Repository name with `.git`, when the path names one. */
  repo?: string;
  /** `upload-pack` or `receive-pack` for smart-HTTP requests. */
  service?: string;
  /** 0 while the response has not started. */
  status: number;
  /** Whether an Authorization header was present. */
  authorization: boolean;
  /** The request's Content-Encoding (git gzips larger POST bodies). */
  contentEncoding?: string;
  /** Response body bytes written so far. */
  bytesSent: number;
  /** The connection ended before the response completed (fault, kill, or client abort). */
  aborted: boolean;
}

/** A running git smart-HTTP server. */
export interface GitHttpServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:4321/`. */
  url: string;
  port: number;
  /** Every request, in arrival order; entries are updated as responses progress. */
  requests: GitHttpRequestLog[];
  /** URL of one repository, e.g. `repoUrl('registry')` → `http://127.0.0.1:4321/registry.git`. */
  repoUrl(name: string): string;
  /**
   * Arms a one-shot fault: the next `git-upload-pack` POST response that grows beyond `afterBytes`
   * body bytes is cut there (socket destroyed), as if the server died mid-fetch. Shorter responses
   * (e.g. protocol v2 `ls-refs`) pass untouched and leave the fault armed.
   */
  failNext(options?: { afterBytes?: number }): void;
  /** Whether a `failNext` fault is still waiting for its response. */
  readonly faultArmed: boolean;
  /**
   * Dies now: destroys every connection mid-transfer, kills the CGI processes, and resets every new connection until
   * `close()`. The port stays held meanwhile, so no other test's server can take it and answer instead.
   */
  kill(): Promise<void>;
  /** `kill()` plus removal of the server's scratch folder. Safe to call twice. */
  close(): Promise<void>;
}

// Partial clone and fetch-by-sha are refused by upload-pack unless the serving side opts in.
const UPLOAD_PACK_CONFIG = {
  'uploadpack.allowFilter': 'true',
  'uploadpack.allowAnySHA1InWant': 'true',
};

const REPO_PATH = /^\/(.+?)\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*|info\/.*)$/;

/**
 * Starts `git http-backend` behind a node:http server on 127.0.0.1: real smart HTTP (protocol v0
 * and v2), optional Basic or Bearer auth, a request log and a fault switch.
 */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  if (options.privateRepos && !options.auth) throw new Error('startGitHttpServer: privateRepos needs auth');
  const root = path.resolve(options.root);
  const scratch = await makeTempDir('agentos-git-http-');
  const home = path.join(scratch.path, 'home');
  await mkdir(home);
  const execPath = (await runGit(['--exec-path'], { home })).stdout.trim();
  const backend = path.join(execPath, 'git-http-backend');
  const privateRepos = options.privateRepos ? new Set(options.privateRepos.map(normalizeRepo)) : undefined;
  const configEnv = gitConfigEnv({
    ...UPLOAD_PACK_CONFIG,
    ...(options.allowPush ? { 'http.receivepack': 'true' } : {}),
  });

  const requests: GitHttpRequestLog[] = [];
  const children = new Set<ChildProcess>();
  let fault: { afterBytes: number } | undefined;

  const server = http.createServer((req, res) => {
    const rawUrl = req.url ?? '/';
    const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(rawUrl.split('?')[0] ?? '/');
    } catch {
      pathInfo = '';
    }
    const repo = REPO_PATH.exec(pathInfo)?.[1];
    const service = /\/git-(upload-pack|receive-pack)$/.exec(pathInfo)?.[1] ?? /service=git-([a-z-]+)/.exec(query)?.[1];
    const contentEncoding = req.headers['content-encoding'];
    const entry: GitHttpRequestLog = {
      method: req.method ?? 'GET',
      url: rawUrl,
      ...(repo ? { repo: `${normalizeRepo(repo)}.git` } : {}),
      ...(service ? { service } : {}),
      status: 0,
      authorization: req.headers.authorization !== undefined,
      ...(contentEncoding ? { contentEncoding } : {}),
      bytesSent: 0,
      aborted: false,
    };
    requests.push(entry);

    if (!pathInfo || pathInfo.split('/').includes('..')) {
      entry.status = 400;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad path\n');
      return;
    }

    const needsAuth = options.auth && (!privateRepos || (repo !== undefined && privateRepos.has(normalizeRepo(repo))));
    let remoteUser: string | undefined;
    if (options.auth && needsAuth) {
      remoteUser = checkAuthorization(req.headers.authorization, options.auth);
      if (!remoteUser) {
        entry.status = 401;
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
    }

    const isFetchPack = req.method === 'POST' && pathInfo.endsWith('/git-upload-pack');
    const env = gitEnv(home, {
      ...configEnv,
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      SERVER_SOFTWARE: 'agentos-registry-test-servers',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      CONTENT_LENGTH: req.headers['content-length'],
      // http-backend inflates gzip bodies itself when told the encoding.
      HTTP_CONTENT_ENCODING: contentEncoding,
      // Without this header passed on, every client silently falls back to protocol v0.
      HTTP_GIT_PROTOCOL: headerValue(req.headers['git-protocol']),
      REMOTE_ADDR: req.socket.remoteAddress ?? LOOPBACK,
      REMOTE_USER: remoteUser,
    });

    void runCgi({
      command: backend,
      env,
      req,
      res,
      onSpawn: (child) => {
        children.add(child);
        child.once('exit', () => children.delete(child));
      },
      onBytes: (bytes) => {
        entry.bytesSent = bytes;
        entry.status = res.statusCode;
      },
      cutAt: (chunk, sentBefore) => {
        if (!isFetchPack || !fault || sentBefore + chunk.length <= fault.afterBytes) return undefined;
        const keep = fault.afterBytes - sentBefore;
        fault = undefined;
        return keep;
      },
    }).then((outcome) => {
      entry.status = outcome.status;
      entry.bytesSent = outcome.bytesSent;
      entry.aborted = outcome.aborted;
    });
  });

  const listening = await listenOnLoopback(server);
  const url = `http://${LOOPBACK}:${listening.port}/`;

  const kill = async () => {
    const exits = [...children].map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve()))));
    // SIGTERM, not SIGKILL: http-backend then takes its upload-pack children down with it.
    // The port stays ours (every connection reset) until close(): see Listening.kill.
    listening.kill();
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(exits);
  };

  let closed: Promise<void> | undefined;
  return {
    url,
    port: listening.port,
    requests,
    repoUrl: (name) => `${url}${normalizeRepo(name)}.git`,
    failNext: (faultOptions = {}) => {
      fault = { afterBytes: faultOptions.afterBytes ?? 0 };
    },
    get faultArmed() {
      return fault !== undefined;
    },
    kill,
    close() {
      closed ??= kill()
        .then(() => listening.shutdown())
        .then(() => scratch.close());
      return closed;
    },
  };
}

function normalizeRepo(name: string): string {
  return name
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
