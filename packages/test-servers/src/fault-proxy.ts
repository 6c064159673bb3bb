import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { type Fault, type FaultRule, FaultTable, garbageBytes } from './fault-rules.js';
import { LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';
import { isLoopbackHost } from './loopback-guard.js';

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Origin (optionally with a base path) to forward to; must be on loopback. */
  target: string;
  /** Initial rules; change them later with `setFaults`. */
  faults?: FaultRule[];
  /**
   * Forward the client's `Host` header instead of the target's, for a target that builds absolute URLs from it
   * (Verdaccio's tarball URLs): they then name the proxy, so those requests come through it too.
   */
  preserveHost?: boolean;
  /**
   * Redirects to other origins to send through other proxies, by origin: `{ [emulator.archiveUrl]: archiveProxy.url }`
   * puts a second fault proxy in front of the origin a redirect leads to (GitHub's API sends tarballs to codeload).
   */
  redirectOrigins?: Record<string, string>;
}

/** One request the proxy handled. */
export interface FaultProxyRequestLog {
  method: string;
  /** Path and query as requested. */
  url: string;
  /** Status sent to the client (0 if nothing was sent). */
  status: number;
  /** Kind of the fault applied, if any. */
  fault?: Fault['kind'];
  /** Whether an Authorization header was present (it is forwarded, never logged). */
  authorization: boolean;
  /** Body bytes sent to the client. */
  bytesSent: number;
}

/** A running fault-injecting reverse proxy. */
export interface FaultProxy {
  /** Base URL with a trailing slash; use it in place of the target's URL. */
  url: string;
  port: number;
  requests: FaultProxyRequestLog[];
  /** Replaces every rule (their `times` counters start over). */
  setFaults(rules: FaultRule[]): void;
  /** Appends one rule. */
  addFault(rule: FaultRule): void;
  close(): Promise<void>;
}

// Hop-by-hop headers describe one connection, not the message, so a proxy must not pass them on.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Starts an HTTP reverse proxy on 127.0.0.1 in front of `target` that breaks responses on demand:
 * connection resets mid-body, truncated bodies, 503s (with Retry-After), garbage bodies and slow
 * headers, chosen per path and for the next N requests, changeable while tests run.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:' || !isLoopbackHost(target.hostname)) {
    throw new Error(`startFaultProxy: target must be http:// on loopback, got ${options.target}`);
  }
  const basePath = target.pathname.replace(/\/+$/, '');
  const table = new FaultTable(options.faults);
  const requests: FaultProxyRequestLog[] = [];
  // No keep-alive upstream: close() must not leave sockets to the target behind.
  const agent = new http.Agent({ keepAlive: false });
  // Aborted by close(): ends every answer the proxy is holding back.
  const closing = new AbortController();
  let proxyOrigin = '';

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const fault = table.take(url.split('?')[0] ?? '/');
    const entry: FaultProxyRequestLog = {
      method: req.method ?? 'GET',
      url,
      status: 0,
      ...(fault ? { fault: fault.kind } : {}),
      authorization: req.headers.authorization !== undefined,
      bytesSent: 0,
    };
    requests.push(entry);

    if (fault?.kind === 'silent') {
      // Accepted and never answered; close() destroys the socket.
      req.resume();
      return;
    }

    if (fault?.kind === 'status') {
      req.resume();
      const status = fault.status ?? 503;
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      const body = Buffer.from(fault.body ?? `${status} injected by fault proxy\n`);
      entry.status = status;
      entry.bytesSent = body.length;
      res.writeHead(status, { ...headers, 'content-length': body.length }).end(body);
      return;
    }

    const upstream = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port || 80,
        method: req.method,
        path: `${basePath}${url}`,
        headers: { ...forwardHeaders(req.headers), host: options.preserveHost && req.headers.host ? req.headers.host : target.host },
      },
      (upstreamRes) => {
        void respond(upstreamRes, res, fault, entry).catch(() => res.destroy());
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) return void res.destroy();
      entry.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: upstream failed: ${error.message}\n`);
    });
    req.pipe(upstream);
  });

  /** Sends the upstream response to the client, broken the way `fault` says. */
  async function respond(upstreamRes: http.IncomingMessage, res: http.ServerResponse, fault: Fault | undefined, entry: FaultProxyRequestLog): Promise<void> {
    const status = upstreamRes.statusCode ?? 502;
    const headers = forwardHeaders(upstreamRes.headers);
    const location = upstreamRes.headers.location;
    // Keep redirects to the target's own origin going through the proxy.
    if (location?.startsWith(target.origin)) headers.location = proxyOrigin + location.slice(target.origin.length);
    for (const [origin, replacement] of Object.entries(options.redirectOrigins ?? {})) {
      if (location?.startsWith(origin)) headers.location = replacement.replace(/\/$/, '') + location.slice(origin.replace(/\/$/, '').length);
    }
    entry.status = status;

    // A held answer never keeps the process alive, and ends (with the connection) when the proxy closes.
    if (fault?.kind === 'delay') await sleep(fault.ms, undefined, { ref: false, signal: closing.signal });

    if (fault?.kind === 'truncate' || fault?.kind === 'garbage') {
      const body = await readAll(upstreamRes);
      if (fault.kind === 'garbage') {
        const garbage = garbageBytes(fault.length ?? body.length);
        res.writeHead(status, { ...headers, 'content-length': garbage.length });
        entry.bytesSent = garbage.length;
        res.end(garbage);
        return;
      }
      const keep = Math.min(body.length, fault.bytes ?? Math.floor(body.length / 2));
      // The full length is promised, fewer bytes are sent, then a clean FIN: the client sees a short body.
      res.writeHead(status, { ...headers, 'content-length': body.length });
      res.flushHeaders();
      entry.bytesSent = keep;
      const socket = res.socket;
      if (!socket) return;
      // end() on the socket, not the response: a graceful FIN after the short body, nothing padded.
      socket.write(body.subarray(0, keep), () => socket.end());
      return;
    }

    if (fault?.kind === 'stall' || fault?.kind === 'trickle' || fault?.kind === 'flood' || fault?.kind === 'gzip-bomb') {
      hostileBody(upstreamRes, res, headers, status, fault, entry, closing.signal);
      return;
    }

    res.writeHead(status, headers);
    if (fault?.kind === 'reset') {
      res.flushHeaders();
      // Stop reading the target too, so nothing keeps streaming into a dead connection.
      const cut = () => {
        upstreamRes.destroy();
        resetSocket(res);
      };
      if (fault.afterBytes <= 0) {
        res.socket?.write('', cut);
        return;
      }
      let sent = 0;
      upstreamRes.on('data', (chunk: Buffer) => {
        if (sent >= fault.afterBytes) return;
        const part = chunk.subarray(0, fault.afterBytes - sent);
        sent += part.length;
        entry.bytesSent = sent;
        const reached = sent >= fault.afterBytes;
        res.write(part, () => {
          if (reached) cut();
        });
      });
      upstreamRes.on('end', () => {
        // The body was shorter than afterBytes: reset anyway, the fault is about the connection dying.
        if (sent < fault.afterBytes) res.socket?.write('', cut);
      });
      return;
    }
    upstreamRes.on('data', (chunk: Buffer) => {
      entry.bytesSent += chunk.length;
    });
    upstreamRes.pipe(res);
  }

  const listening = await listenOnLoopback(server);
  proxyOrigin = `http://${LOOPBACK}:${listening.port}`;
  return {
    url: `${proxyOrigin}/`,
    port: listening.port,
    requests,
    setFaults: (rules) => table.set(rules),
    addFault: (rule) => table.add(rule),
    async close() {
      closing.abort();
      await listening.shutdown();
      agent.destroy();
    },
  };
}

type HostileFault = Extract<Fault, { kind: 'stall' | 'trickle' | 'flood' | 'gzip-bomb' }>;

/**
 * The faults that answer with a hostile body: a stall after the headers, a trickle, an endless (or huge) body and a
 * gzip bomb. Each stops when the client goes away or the proxy closes, and writes only as fast as the client reads.
 */
function hostileBody(
  upstreamRes: http.IncomingMessage,
  res: http.ServerResponse,
  upstreamHeaders: Record<string, string | string[]>,
  status: number,
  fault: HostileFault,
  entry: FaultProxyRequestLog,
  closing: AbortSignal,
): void {
  const headers = { ...upstreamHeaders };
  // The length of the real body no longer applies; these bodies are chunked.
  delete headers['content-length'];
  if (fault.kind === 'stall') {
    upstreamRes.resume();
    res.writeHead(status, upstreamHeaders);
    res.flushHeaders();
    // Held until the client gives up or the proxy closes (close() destroys the socket).
    return;
  }
  if (fault.kind === 'trickle') {
    res.writeHead(status, headers);
    res.flushHeaders();
    void (async () => {
      const body = await readAll(upstreamRes);
      for (let i = 0; i < body.length && !res.destroyed && !closing.aborted; i++) {
        await sleep(fault.intervalMs, undefined, { ref: false, signal: closing }).catch(() => {});
        if (res.destroyed || closing.aborted) return;
        res.write(body.subarray(i, i + 1));
        entry.bytesSent += 1;
      }
      res.end();
    })().catch(() => res.destroy());
    return;
  }
  upstreamRes.resume();
  if (fault.kind === 'gzip-bomb') {
    delete headers['content-encoding'];
    res.writeHead(status, { ...headers, 'content-encoding': 'gzip' });
    // Concatenated gzip members, each inflating to 1 MiB of zeros: a valid gzip stream, and cheap to make.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const last = fault.inflatedBytes % (1024 * 1024);
    const members = Math.floor(fault.inflatedBytes / (1024 * 1024));
    pump(res, entry, closing, members, () => member, last > 0 ? gzipSync(Buffer.alloc(last), { level: 9 }) : undefined);
    return;
  }
  // The new body is not the upstream's: sent under its Content-Encoding it would be a decoding error, not a flood.
  delete headers['content-encoding'];
  res.writeHead(status, headers);
  const chunk = Buffer.alloc(64 * 1024, fault.fill ?? 'a');
  const total = fault.bytes ?? Number.POSITIVE_INFINITY;
  const whole = Math.floor(total / chunk.length);
  const rest = total === Number.POSITIVE_INFINITY ? 0 : total % chunk.length;
  pump(res, entry, closing, whole, () => chunk, rest > 0 ? chunk.subarray(0, rest) : undefined);
}

/** Writes `count` chunks (then `tail`) with backpressure, and ends; stops when the client or the proxy goes away. */
function pump(res: http.ServerResponse, entry: FaultProxyRequestLog, closing: AbortSignal, count: number, chunk: () => Buffer, tail: Buffer | undefined): void {
  let written = 0;
  const next = (): void => {
    while (written < count) {
      if (res.destroyed || closing.aborted) return;
      const part = chunk();
      written += 1;
      entry.bytesSent += part.length;
      if (!res.write(part)) {
        res.once('drain', next);
        return;
      }
    }
    if (res.destroyed || closing.aborted) return;
    if (tail) entry.bytesSent += tail.length;
    res.end(tail);
  };
  next();
}

function forwardHeaders(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const copy: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) copy[name] = value;
  }
  return copy;
}

async function readAll(stream: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Ends the connection with a TCP RST, which clients report as "connection reset" rather than EOF. */
function resetSocket(res: http.ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
