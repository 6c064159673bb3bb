/**
 * Small real servers on 127.0.0.1 for the HTTP client tests: a scriptable origin (HTTP or HTTPS), a forward proxy
 * (absolute-URI requests and CONNECT tunnels), and a throwaway CA (test-servers' openssl helper).
 */
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import { makeTestCertificates, type TestCertificates } from '@agentos-registry/test-servers';

export interface LoggedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface TestServer {
  readonly origin: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: LoggedRequest[];
  url(path: string): string;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, count: number) => void;

function track(server: Server, origin: string, requests: LoggedRequest[]): TestServer {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    origin,
    port,
    requests,
    url: (path) => `${origin}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** An origin server; `handler` gets the request count (1 for the first request). */
export async function startServer(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const requests: LoggedRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, requests.length);
  };
  const server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
  const port = await listen(server);
  return track(server, `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, requests);
}

/**
 * A forward proxy. Absolute-URI requests are forwarded; CONNECT opens a tunnel. Host names are mapped through `hosts`
 * first, so a test can use names that do not resolve (`registry.internal.test`). `requests` logs both kinds
 * (`CONNECT host:port` has method CONNECT).
 */
export async function startForwardProxy(hosts: Record<string, string> = {}): Promise<TestServer> {
  const requests: LoggedRequest[] = [];
  const mapHost = (host: string) => hosts[host] ?? host;
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    const upstream = httpRequest(
      { host: mapHost(target.hostname), port: target.port || 80, path: `${target.pathname}${target.search}`, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    requests.push({ method: 'CONNECT', url: req.url ?? '', headers: req.headers });
    const [host = '', port = '443'] = (req.url ?? '').split(':');
    const upstream = netConnect(Number(port), mapHost(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  return track(server, `http://127.0.0.1:${port}`, requests);
}

export type { TestCertificates } from '@agentos-registry/test-servers';

/** A throwaway CA and a server certificate in `dir` (the test-servers helper, written into the caller's folder). */
export function makeCertificates(dir: string): Promise<TestCertificates> {
  return makeTestCertificates(dir);
}
