import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { checkAuthorization } from './auth.js';
import { LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';
import { isLoopbackHost } from './loopback-guard.js';

/** Options for {@link startForwardProxy}. */
export interface ForwardProxyOptions {
  /** Demand `Proxy-Authorization: Basic …` with these credentials (407 otherwise). */
  auth?: { username: string; password: string };
  /**
   * Names the proxy resolves itself, as a proxy with its own DNS view does: `{ 'nowhere.invalid': '127.0.0.1' }`. A
   * client that uses the proxy reaches a name its own resolver does not know; without the proxy the name fails, as
   * a name that stopped resolving does. Each value must be a loopback address.
   */
  hosts?: Record<string, string>;
}

/** One request a client sent to the forward proxy. */
export interface ForwardProxyRequestLog {
  /** `CONNECT` for tunnels, otherwise the forwarded method. */
  method: string;
  /** Absolute URL for plain HTTP, `host:port` for CONNECT. */
  target: string;
  /** 200 for an established tunnel; 403 when the target is not on loopback; 407 without credentials. */
  status: number;
  /** Whether a Proxy-Authorization header was present (its value is never kept). */
  proxyAuthorization: boolean;
}

/** A running forward proxy. */
export interface ForwardProxy {
  /** `http://127.0.0.1:<port>`, the value for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  port: number;
  requests: ForwardProxyRequestLog[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Starts a minimal forward proxy on 127.0.0.1 that handles absolute-URI requests (plain HTTP) and
 * CONNECT tunnels (HTTPS), logging every target, so tests can prove a client honoured
 * HTTP(S)_PROXY. Targets off loopback are refused with 403 before any connection is attempted.
 */
export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const requests: ForwardProxyRequestLog[] = [];
  const upstreamSockets = new Set<net.Socket>();
  const agent = new http.Agent({ keepAlive: false });
  const hosts = new Map(Object.entries(options.hosts ?? {}).map(([name, address]) => [name.toLowerCase(), address]));
  for (const [name, address] of hosts) {
    if (!isLoopbackHost(address)) throw new Error(`startForwardProxy: hosts.${name} must be a loopback address, got ${address}`);
  }
  const resolveName = (name: string) => hosts.get(name.toLowerCase()) ?? name;
  const authOk = (header: string | undefined) => !options.auth || checkAuthorization(header, { type: 'basic', ...options.auth }) !== undefined;

  const server = http.createServer((req, res) => {
    const entry: ForwardProxyRequestLog = {
      method: req.method ?? 'GET',
      target: req.url ?? '',
      status: 0,
      proxyAuthorization: req.headers['proxy-authorization'] !== undefined,
    };
    requests.push(entry);
    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      req.resume();
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`${message}\n`);
    };
    if (!authOk(req.headers['proxy-authorization'])) {
      return fail(407, 'proxy authentication required', { 'proxy-authenticate': 'Basic realm="proxy"' });
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      return fail(400, 'a forward proxy needs an absolute URI');
    }
    if (target.protocol !== 'http:') return fail(400, `unsupported scheme ${target.protocol}`);
    const address = resolveName(target.hostname);
    if (!isLoopbackHost(address)) return fail(403, `refusing non-loopback target ${target.host}`);

    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstream = http.request(
      { agent, host: address, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers },
      (upstreamRes) => {
        entry.status = upstreamRes.statusCode ?? 502;
        const responseHeaders: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
        }
        res.writeHead(entry.status, responseHeaders);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (error) => (res.headersSent ? res.destroy() : fail(502, `upstream failed: ${error.message}`)));
    req.pipe(upstream);
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const entry: ForwardProxyRequestLog = {
      method: 'CONNECT',
      target: req.url ?? '',
      status: 0,
      proxyAuthorization: req.headers['proxy-authorization'] !== undefined,
    };
    requests.push(entry);
    client.on('error', () => {});
    const refuse = (status: number, reason: string, extra = '') => {
      entry.status = status;
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (!authOk(req.headers['proxy-authorization'])) {
      return refuse(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="proxy"\r\n');
    }
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    if (!match?.[1] || !match[2]) return refuse(400, 'Bad Request');
    const address = resolveName(match[1]);
    if (!isLoopbackHost(address)) return refuse(403, 'Forbidden');

    const upstream = net.connect({ host: address, port: Number(match[2]) });
    upstreamSockets.add(upstream);
    upstream.once('close', () => upstreamSockets.delete(upstream));
    upstream.once('connect', () => {
      entry.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => (entry.status === 0 ? refuse(502, 'Bad Gateway') : client.destroy()));
    client.once('close', () => upstream.destroy());
  });

  const listening = await listenOnLoopback(server);
  return {
    url: `http://${LOOPBACK}:${listening.port}`,
    port: listening.port,
    requests,
    async close() {
      for (const socket of upstreamSockets) socket.destroy();
      await listening.shutdown();
      agent.destroy();
    },
  };
}
