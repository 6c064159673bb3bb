import http from 'node:http';
import { LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';
import { isLoopbackHost } from './loopback-guard.js';

/**
 * What the hostile server does with one request. Everything a registry client must survive without hanging,
 * leaking a credential or buffering without end.
 */
export type HostileBehaviour =
  /**
   * Forward to the target (the server's `target` option); `headers` are added to (or replace those of) its answer.
   * `host` replaces the Host header sent on, so the target builds URLs that point at another server. `body` replaces
   * the answer's body (its status, ETag and other headers kept, Content-Length fixed; conditional request headers are
   * dropped so the target answers in full): garbage a cache would store under the real validators.
   */
  | { kind: 'forward'; headers?: Record<string, string>; host?: string; body?: string | Uint8Array }
  /** Reset the connection (TCP RST) as soon as the request arrives. */
  | { kind: 'reset' }
  /** Answer `status` (default 302) with `Location: location`. */
  | { kind: 'redirect'; location: string; status?: number }
  /** Answer with these bytes (default status 200, `content-type: application/json`). */
  | { kind: 'reply'; status?: number; headers?: Record<string, string>; body: string | Uint8Array }
  /**
   * Send the status line and headers at once, then one byte of `body` (default endless `{`) every `intervalMs`:
   * never idle for long, never done.
   */
  | { kind: 'trickle'; intervalMs: number; headers?: Record<string, string>; body?: string }
  /** Accept the connection and read the request, then say nothing at all until the client gives up. */
  | { kind: 'silent' }
  /** 200 and a chunked body of `chunk` repeated as fast as the client reads, forever. */
  | { kind: 'endless'; headers?: Record<string, string>; chunk?: string; prefix?: Uint8Array };

/** Options for {@link startHostileServer}. */
export interface HostileServerOptions {
  /** Where `forward` sends requests: a loopback http origin. Requests keep their Host header, so the target builds URLs that point back here. */
  target?: string;
  /** Picks the behaviour for each request; default `forward`. */
  respond?: (request: { method: string; url: string }) => HostileBehaviour;
  /**
   * Strings (tokens) to watch for: each log entry says whether any of them appeared in the request line or any header
   * value, without storing them.
   */
  watch?: readonly string[];
}

/** One request the hostile server received. */
export interface HostileRequestLog {
  method: string;
  /** Path and query as requested, with any watched string replaced by `[watched]`. */
  url: string;
  /** Whether an Authorization header was present (its value is never kept). */
  authorization: boolean;
  /** Whether a watched string appeared in the URL or in any header value. */
  leaked: boolean;
  /** The behaviour applied. */
  behaviour: HostileBehaviour['kind'];
}

/** A running hostile server. */
export interface HostileServer {
  /** Base URL with a trailing slash. */
  url: string;
  port: number;
  /** The origin (`http://127.0.0.1:<port>`), for building redirect targets. */
  origin: string;
  requests: HostileRequestLog[];
  /** Replaces the behaviour picker. */
  setRespond(respond: HostileServerOptions['respond']): void;
  /** Ends every held answer (trickles, silences, endless bodies) and stops the server. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/**
 * Starts an HTTP server on 127.0.0.1 that misbehaves on purpose, per request: redirects (to another port of the same
 * host, to test credential scoping), garbage answers, trickled or endless bodies, or no answer at all; anything else
 * is forwarded to a real server (Verdaccio) behind it. Held answers never keep the process alive and end on `close()`.
 */
export async function startHostileServer(options: HostileServerOptions = {}): Promise<HostileServer> {
  const target = options.target ? new URL(options.target) : undefined;
  if (target && (target.protocol !== 'http:' || !isLoopbackHost(target.hostname))) {
    throw new Error(`startHostileServer: target must be http:// on loopback, got ${options.target}`);
  }
  const forwardAll = (): HostileBehaviour => ({ kind: 'forward' });
  let respond = options.respond ?? forwardAll;
  const watch = (options.watch ?? []).filter((value) => value !== '');
  const requests: HostileRequestLog[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const agent = new http.Agent({ keepAlive: false });

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const behaviour = respond({ method: req.method ?? 'GET', url });
    const seen = [url, ...Object.values(req.headers).flat()].join('\n');
    requests.push({
      method: req.method ?? 'GET',
      url: watch.reduce((text, value) => text.split(value).join('[watched]'), url),
      authorization: req.headers.authorization !== undefined,
      leaked: watch.some((value) => seen.includes(value)),
      behaviour: behaviour.kind,
    });
    switch (behaviour.kind) {
      case 'redirect':
        req.resume();
        res.writeHead(behaviour.status ?? 302, { location: behaviour.location, 'content-length': 0 }).end();
        return;
      case 'reply': {
        req.resume();
        const body = typeof behaviour.body === 'string' ? Buffer.from(behaviour.body) : Buffer.from(behaviour.body);
        res.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json', ...behaviour.headers, 'content-length': body.length }).end(body);
        return;
      }
      case 'trickle': {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', ...behaviour.headers });
        res.flushHeaders();
        const body = behaviour.body;
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || res.writableEnded) return stop();
          if (body !== undefined && sent >= body.length) {
            res.end();
            return stop();
          }
          res.write(body === undefined ? '{' : body[sent]!);
          sent += 1;
        }, behaviour.intervalMs);
        timer.unref();
        timers.add(timer);
        const stop = () => {
          clearInterval(timer);
          timers.delete(timer);
        };
        res.once('close', stop);
        return;
      }
      case 'silent':
        req.resume();
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'endless': {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/octet-stream', ...behaviour.headers });
        const chunk = Buffer.from(behaviour.chunk ?? 'x'.repeat(64 * 1024));
        // A valid start (a tar header, say), so a reader that parses as it goes reads on into the endless part.
        if (behaviour.prefix) res.write(behaviour.prefix);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {
            // Keep writing until the socket pushes back.
          }
        };
        res.on('drain', pump);
        pump();
        return;
      }
      default:
        forward(req, res, behaviour);
    }
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, how: Extract<HostileBehaviour, { kind: 'forward' }>): void {
    const { headers: extra = {}, host, body } = how;
    if (!target) {
      req.resume();
      res.writeHead(502, { 'content-type': 'text/plain' }).end('hostile server: no target to forward to\n');
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    if (host) headers.host = host;
    if (body !== undefined) {
      // A full answer (not a 304) is what gets the garbage stored under the target's real validators.
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
    }
    const upstream = http.request({ agent, host: target.hostname, port: target.port || 80, method: req.method, path: req.url, headers }, (upstreamRes) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      for (const [name, value] of Object.entries(extra)) out[name.toLowerCase()] = value;
      if (body === undefined) {
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
        return;
      }
      upstreamRes.resume();
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
      delete out['content-encoding'];
      res.writeHead(upstreamRes.statusCode ?? 502, { ...out, 'content-length': bytes.length }).end(bytes);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`hostile server: upstream failed: ${error.message}\n`);
    });
    req.pipe(upstream);
  }

  const listening = await listenOnLoopback(server);
  const origin = `http://${LOOPBACK}:${listening.port}`;
  return {
    url: `${origin}/`,
    port: listening.port,
    origin,
    requests,
    setRespond(next) {
      respond = next ?? forwardAll;
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
      await listening.shutdown();
      agent.destroy();
    },
  };
}
