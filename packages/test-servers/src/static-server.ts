import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { checkAuthorization, withoutSecrets } from './auth.js';
import { contentTypeFor } from './content-type.js';
import { LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';

/** Options for {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Folder whose files are served; `<root>/a/b.json` is `/a/b.json`. */
  root: string;
  /** When set, every request needs `Authorization: Bearer <token>` (401 otherwise). */
  auth?: { token: string };
  /** Request path → absolute URL answered with 302, e.g. to send a client to another origin. */
  redirects?: Record<string, string>;
}

/** One request the static server saw. Secrets are never stored. */
export interface StaticRequestLog {
  method: string;
  /** Path without the query, as requested (not decoded). */
  path: string;
  status: number;
  /** Whether an Authorization header was present. */
  authorization: boolean;
  /** Request headers without `authorization`, `proxy-authorization` and `cookie`. */
  headers: Record<string, string | string[]>;
}

/** A running static file server. */
export interface StaticServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:4321/`. */
  url: string;
  port: number;
  requests: StaticRequestLog[];
  /** Adds, changes or (with `undefined`) removes a redirect at runtime. */
  setRedirect(requestPath: string, location: string | undefined): void;
  /** Stops the server and destroys open connections. */
  close(): Promise<void>;
}

/**
 * Serves files from `root` on 127.0.0.1 the way a CDN or object store would for a static registry:
 * strong content-hash ETags, Last-Modified, 304 for matching conditional requests, 404 for missing
 * files (and folders: there are no listings), 403 for paths that try to leave `root`.
 */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = await realpath(path.resolve(options.root));
  const redirects = new Map(Object.entries(options.redirects ?? {}));
  const requests: StaticRequestLog[] = [];

  const server = http.createServer((req, res) => {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const entry: StaticRequestLog = {
      method: req.method ?? 'GET',
      path: rawPath,
      status: 0,
      authorization: req.headers.authorization !== undefined,
      headers: withoutSecrets(req.headers),
    };
    requests.push(entry);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: string | Buffer) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    serve(req, rawPath, send).catch((error: unknown) => {
      if (!res.headersSent) send(500, { 'content-type': 'text/plain' }, `${String(error)}\n`);
      else res.destroy();
    });
  });

  type Send = (status: number, headers?: Record<string, string | number>, body?: string | Buffer) => void;

  async function serve(req: http.IncomingMessage, rawPath: string, send: Send): Promise<void> {
    const text = { 'content-type': 'text/plain; charset=utf-8' };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { ...text, allow: 'GET, HEAD' }, 'method not allowed\n');
    if (options.auth && !checkAuthorization(req.headers.authorization, { type: 'bearer', token: options.auth.token })) {
      return send(401, { ...text, 'www-authenticate': 'Bearer realm="registry"' }, 'authentication required\n');
    }
    const redirect = redirects.get(rawPath);
    if (redirect !== undefined) return send(302, { ...text, location: redirect }, `see ${redirect}\n`);

    const file = await resolveInside(root, rawPath);
    if (file === 'forbidden') return send(403, text, 'path leaves the served folder\n');
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !info?.isFile()) return send(404, text, 'not found\n');

    const body = await readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
    const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
    const validators = { etag, 'last-modified': lastModified.toUTCString() };
    if (notModified(req.headers, etag, lastModified)) return send(304, validators);
    return send(200, { ...validators, 'content-type': contentTypeFor(file), 'content-length': body.length }, body);
  }

  const listening = await listenOnLoopback(server);
  return {
    url: `http://${LOOPBACK}:${listening.port}/`,
    port: listening.port,
    requests,
    setRedirect(requestPath, location) {
      if (location === undefined) redirects.delete(requestPath);
      else redirects.set(requestPath, location);
    },
    close: () => listening.shutdown(),
  };
}

/**
 * Maps a request path to a file under `root`: `undefined` when it cannot exist, `'forbidden'` when
 * it tries to escape, via `..` (also percent-encoded), backslashes, NUL or a symlink pointing out.
 */
async function resolveInside(root: string, rawPath: string): Promise<string | undefined | 'forbidden'> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return 'forbidden';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'forbidden';
  if (decoded.split('/').some((segment) => segment === '..')) return 'forbidden';
  const candidate = path.join(root, decoded);
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return 'forbidden';
  const real = await realpath(candidate).catch(() => undefined);
  if (real === undefined) return undefined;
  if (real !== root && !real.startsWith(root + path.sep)) return 'forbidden';
  return real;
}

/** RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since; ETag comparison is weak for GET/HEAD. */
function notModified(headers: http.IncomingHttpHeaders, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(etag);
  }
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && lastModified.getTime() <= since;
}
