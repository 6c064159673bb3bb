/**
 * Hostile review of core's HTTP client (issue 11 follow-up): a registry or a network that misbehaves on purpose.
 * Every server here is real and listens on 127.0.0.1 or ::1: redirect chains that leave the origin and come back,
 * other ports, schemes and spellings of this machine, userinfo and non-HTTP schemes in `Location`, stacked and
 * broken Content-Encodings, Content-Length lies, huge chunk-size lines, header floods and trickles, silences, retry
 * storms that try to outlast the deadline. Each case checks the code, that the token went nowhere it should not,
 * and that no error, cause or log line carries it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { brotliCompressSync, constants as zlibConstants, deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient, type HttpClientOptions, RegistryError, redact } from '../src/index.js';
import { makeCertificates, startForwardProxy, startServer, type Handler, type TestCertificates, type TestServer } from './support/http-servers.js';

const TOKEN = 'ghp_NETREVIEW_9f8e7d6c5b4a39281706';
const MiB = 1024 * 1024;

const servers: Array<{ close(): Promise<void> }> = [];
const clients: HttpClient[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function server(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const s = await startServer(handler, tls);
  servers.push(s);
  return s;
}

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ registry: 'acme', env: {}, sleep: async () => {}, ...options });
  clients.push(c);
  return c;
}

function withToken(origin: string, options: Partial<HttpClientOptions> = {}): HttpClient {
  return client({ credentials: { origin, headers: { authorization: `Bearer ${TOKEN}` } }, ...options });
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

/** The token appears nowhere in an error: message, stack, JSON, util.inspect, the whole cause chain. */
function expectNoToken(error: unknown): void {
  const texts: string[] = [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error)];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    const e = current as { message?: unknown; stack?: unknown; cause?: unknown };
    texts.push(String(e.message ?? ''), String(e.stack ?? ''), JSON.stringify(current, Object.getOwnPropertyNames(current as object)));
    current = e.cause;
  }
  for (const text of texts) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
  }
}

/** A raw TCP server on loopback whose handler writes whatever bytes it likes. */
async function rawServer(
  onConnection: (socket: Socket, request: string) => void,
  host = '127.0.0.1',
): Promise<{ origin: string; port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { connections: 0 };
  const net: NetServer = createNetServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    let started = false;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      if (!started && buffered.includes('\r\n\r\n')) {
        started = true;
        onConnection(socket, buffered);
      }
    });
  });
  await new Promise<void>((resolve) => net.listen(0, host, resolve));
  const port = (net.address() as AddressInfo).port;
  const handle = {
    origin: host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`,
    port,
    get connections() {
      return state.connections;
    },
    timers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearInterval(timer);
        for (const socket of sockets) socket.destroy();
        net.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

/** Writes `text` one byte every `ms`, `limit` bytes at most (bounded, so a client that never gives up still ends). */
function trickle(socket: Socket, text: string, ms: number, limit = 10_000): NodeJS.Timeout {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= limit) return clearInterval(timer);
    socket.write(text[at % text.length]!);
    at += 1;
  }, ms);
  timer.unref();
  socket.on('close', () => clearInterval(timer));
  return timer;
}

const authorizationOf = (s: TestServer) => s.requests.map((r) => r.headers.authorization);

describe('redirects and the credential origin', () => {
  it('A → B → A: the token neither reaches B nor comes back to A on the hop B chose', async () => {
    let a!: TestServer;
    const b = await server((_req, res) => res.writeHead(302, { location: `${a.origin}/back` }).end());
    a = await server((req, res) => (req.url === '/start' ? res.writeHead(302, { location: `${b.origin}/away` }).end() : res.end('a')));
    const c = withToken(a.origin);
    expect(await (await c.request(a.url('/start'))).text()).toBe('a');
    expect(authorizationOf(a)).toEqual([`Bearer ${TOKEN}`, undefined]);
    expect(authorizationOf(b)).toEqual([undefined]);
  });

  it('a redirect to another port of the same host gets no token', async () => {
    const other = await server((_req, res) => res.end('other'));
    const a = await server((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${other.port}/x` }).end());
    await (await withToken(a.origin).request(a.url('/'))).discard();
    expect(authorizationOf(other)).toEqual([undefined]);
  });

  it('localhost, 127.0.0.1, 127.1 and [::1] are different origins, even on the same port', async () => {
    const a = await server((req, res) => {
      // localhost and 127.1 (which URL parsing turns into 127.0.0.1) reach the same socket.
      if (req.url === '/0') return res.writeHead(302, { location: `http://localhost:${a.port}/1` }).end();
      if (req.url === '/1') return res.writeHead(302, { location: `http://127.1:${a.port}/2` }).end();
      if (req.url === '/2') return res.writeHead(302, { location: `http://LOCALHOST:${a.port}/3` }).end();
      res.end('end');
    });
    const v6 = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nv6'), '::1');
    // Credentials for 127.0.0.1: once localhost took over, not even 127.1 (= 127.0.0.1) gets them back.
    await (await withToken(a.origin).request(a.url('/0'))).discard();
    expect(authorizationOf(a)).toEqual([`Bearer ${TOKEN}`, undefined, undefined, undefined]);
    // Credentials for localhost: a request to 127.0.0.1 of the same port gets none.
    a.requests.length = 0;
    await (await withToken(`http://localhost:${a.port}`).request(a.url('/3'))).discard();
    expect(authorizationOf(a)).toEqual([undefined]);
    // Credentials for [::1] reach [::1] only: a redirect from there to 127.0.0.1 drops them.
    let seen = '';
    const v6b = await rawServer((socket, request) => {
      seen = request;
      socket.end(`HTTP/1.1 302 Found\r\nlocation: ${a.origin}/3\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    }, '::1');
    a.requests.length = 0;
    await (await withToken(v6b.origin).request(`${v6b.origin}/x`)).discard();
    expect(seen.toLowerCase()).toContain(`authorization: bearer ${TOKEN.toLowerCase()}`);
    expect(authorizationOf(a)).toEqual([undefined]);
    expect(v6.port).toBeGreaterThan(0);
  });

  describe('http: and https: on one host and port', () => {
    let certs: TestCertificates;
    let certDir: string;
    beforeAll(async () => {
      certDir = await mkdtemp(join(tmpdir(), 'net-review-certs-'));
      certs = await makeCertificates(certDir);
    });
    afterAll(() => rm(certDir, { recursive: true, force: true }));

    /** One port that speaks TLS or plain HTTP, by the first byte of each connection (0x16: a TLS handshake). */
    async function dualServer(handler: (scheme: 'http' | 'https', req: IncomingMessage, res: ServerResponse) => void) {
      const log: Array<{ scheme: string; url: string; authorization: string | undefined }> = [];
      const plain = createHttpServer((req, res) => {
        log.push({ scheme: 'http', url: req.url ?? '', authorization: req.headers.authorization });
        handler('http', req, res);
      });
      const secure = createHttpsServer({ key: certs.key, cert: certs.cert }, (req, res) => {
        log.push({ scheme: 'https', url: req.url ?? '', authorization: req.headers.authorization });
        handler('https', req, res);
      });
      const sockets = new Set<Socket>();
      const front = createNetServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.once('readable', () => {
          const first = socket.read(1) as Buffer | null;
          if (!first) return socket.destroy();
          socket.unshift(first);
          (first[0] === 0x16 ? secure : plain).emit('connection', socket);
        });
      });
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      const port = (front.address() as AddressInfo).port;
      const handle = {
        port,
        log,
        close: () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            front.close(() => resolve());
          }),
      };
      servers.push(handle);
      return handle;
    }

    it('https → http on the same host and port drops the token (and a downgrade off loopback is refused anyway)', async () => {
      const dual = await dualServer((scheme, _req, res) => {
        if (scheme === 'https') return void res.writeHead(302, { location: `http://127.0.0.1:${dual.port}/plain` }).end();
        res.end('plain');
      });
      const c = withToken(`https://127.0.0.1:${dual.port}`, { ca: certs.ca });
      expect(await (await c.request(`https://127.0.0.1:${dual.port}/start`)).text()).toBe('plain');
      expect(dual.log).toEqual([
        { scheme: 'https', url: '/start', authorization: `Bearer ${TOKEN}` },
        { scheme: 'http', url: '/plain', authorization: undefined },
      ]);
    });

    it('http → https on the same host and port drops the token too (the origin is scheme + host + port)', async () => {
      const dual = await dualServer((scheme, _req, res) => {
        if (scheme === 'http') return void res.writeHead(301, { location: `https://127.0.0.1:${dual.port}/secure` }).end();
        res.end('secure');
      });
      const c = withToken(`http://127.0.0.1:${dual.port}`, { ca: certs.ca });
      expect(await (await c.request(`http://127.0.0.1:${dual.port}/start`)).text()).toBe('secure');
      expect(dual.log.map((entry) => entry.authorization)).toEqual([`Bearer ${TOKEN}`, undefined]);
    });
  });

  it('a 307 keeps POST and its body but not the token when it leaves the origin', async () => {
    const bodies: string[] = [];
    const b = await server((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        bodies.push(`${req.method} ${body}`);
        res.end('b');
      });
    });
    const a = await server((req, res) => {
      req.resume();
      res.writeHead(307, { location: `${b.origin}/b` }).end();
    });
    await (await withToken(a.origin).request(a.url('/a'), { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } })).discard();
    expect(bodies).toEqual(['POST payload']);
    expect(authorizationOf(b)).toEqual([undefined]);
  });

  it('redirects to file:, data:, ftp: and javascript: URLs are refused (E_POLICY) before anything is read', async () => {
    for (const location of ['file:///etc/passwd', 'data:application/json,{"a":1}', 'ftp://127.0.0.1/x', 'javascript:alert(1)']) {
      const a = await server((_req, res) => res.writeHead(302, { location }).end());
      const error = await failure(withToken(a.origin).request(a.url('/')));
      expect(error.code).toBe('E_POLICY');
      expect(error.message).not.toContain('root:');
      expectNoToken(error);
    }
  });

  it('a Location with userinfo is refused, names no password, and is not sent anywhere', async () => {
    const b = await server((_req, res) => res.end('b'));
    const a = await server((_req, res) => res.writeHead(302, { location: `http://someone:hunter2-very-secret@127.0.0.1:${b.port}/x` }).end());
    const error = await failure(withToken(a.origin).request(a.url('/')));
    expect(b.requests).toHaveLength(0);
    expect(error.message).not.toContain('hunter2-very-secret');
    expectNoToken(error);
    // The server picked that URL: it is not the host's configuration to fix.
    expect(error.code).not.toBe('E_CONFIG');
    expect(error.message).not.toContain('configure the registry');
  });

  it('a hostile Location cannot register words with the redactor (every later message would lose them)', async () => {
    // The server picks the "password" of a URL it redirects to. Registering it as a secret lets any registry erase
    // chosen words (its own host name, "Registry", "token") from every later message and log line of the process.
    const a = await server((_req, res) => res.writeHead(302, { location: `http://x:Registry@127.0.0.1:${a.port}/x` }).end());
    await failure(client().request(a.url('/')));
    expect(redact('Registry "acme": something happened')).toBe('Registry "acme": something happened');
    expect(new RegistryError('E_INTERNAL', 'Registry "acme" failed').message).toBe('Registry "acme" failed');
  });

  it('a registry off this machine cannot redirect the client to a service on this machine (loopback)', async () => {
    // `registry.example.com` is "elsewhere" (the proxy maps it to 127.0.0.1, as DNS would map it anywhere); the
    // local service is what a host runs on loopback: a Docker socket proxy, a database's HTTP port, a dev server.
    const local = await server((_req, res) => res.end('local secrets'));
    const remote = await server((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${local.port}/containers/json` }).end());
    const proxy = await startForwardProxy({ 'registry.example.com': '127.0.0.1' });
    servers.push(proxy);
    const c = client({ env: { HTTP_PROXY: proxy.origin, NO_PROXY: '127.0.0.1' }, allowInsecure: true });
    const error = await failure(c.request(`http://registry.example.com:${remote.port}/registry.json`));
    expect(error.code).toBe('E_POLICY');
    expect(local.requests).toHaveLength(0);
    // A registry on this machine may still redirect within it.
    const near = await server((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${local.port}/x` }).end());
    expect(await (await c.request(near.url('/'))).text()).toBe('local secrets');
  });

  it('an endless redirect loop through ever-new URLs ends after 5 redirects with E_UNREACHABLE', async () => {
    const a = await server((req, res) => res.writeHead(302, { location: `${req.url}x` }).end());
    const error = await failure(withToken(a.origin).request(a.url('/loop')));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(a.requests).toHaveLength(6);
  });

  it('a redirect to an invalid URL is E_UNREACHABLE', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 302 Found\r\nlocation: http://[::1\r\ncontent-length: 0\r\n\r\n'));
    expect((await failure(client().request(`${raw.origin}/`))).code).toBe('E_UNREACHABLE');
  });
});

describe('Content-Encoding', () => {
  it('a stacked "gzip, gzip" is passed through undecoded, so nothing is inflated past the limit', async () => {
    const inner = gzipSync(gzipSync(Buffer.alloc(64 * MiB)));
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip, gzip' }).end(inner));
    const bytes = await (await client().request(s.url('/'), { purpose: 'index' })).bytes();
    expect(bytes.length).toBe(inner.length);
  });

  it('a brotli bomb (256 MiB in a few hundred bytes) is E_TOO_LARGE at limits.index', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(256 * MiB), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } });
    expect(bomb.length).toBeLessThan(MiB);
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'br' }).end(bomb));
    const error = await failure((await client({ limits: { index: 4 * MiB } }).request(s.url('/'), { purpose: 'index' })).bytes());
    expect(error.code).toBe('E_TOO_LARGE');
  });

  it('a gzip member stream of gzip members (gzip inside one gzip) is counted once decoded, not twice', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(8 * MiB))));
    const error = await failure((await client({ limits: { index: MiB } }).request(s.url('/'), { purpose: 'index' })).bytes());
    expect(error.code).toBe('E_TOO_LARGE');
  });

  it('a body that is not what its Content-Encoding says (corrupt gzip, raw deflate, corrupt br) is a RegistryError, never a raw zlib error', async () => {
    const bodies: Array<[string, Buffer]> = [
      ['gzip', Buffer.from('this is not gzip at all, just text that a broken proxy sent')],
      ['deflate', deflateRawSync(Buffer.from('{"a":1}'))],
      ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
      ['gzip', Buffer.alloc(0)],
    ];
    for (const [encoding, body] of bodies) {
      const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': encoding }).end(body));
      const outcome = await (await client().request(s.url('/'), { purpose: 'index' })).bytes().then(
        (b) => b,
        (e: unknown) => e,
      );
      if (outcome instanceof Uint8Array) continue; // decoded after all (a lenient decoder)
      expect(outcome, `${encoding}: ${String(outcome)}`).toBeInstanceOf(RegistryError);
      expect((outcome as RegistryError).code, encoding).toBe('E_UNREACHABLE');
    }
  });
});

describe('framing lies', () => {
  it('a Content-Length shorter than the body: the extra bytes never become the answer to the next request', async () => {
    const smuggled = 'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nSMUGGLED';
    const raw = await rawServer((socket, request) => {
      if (request.startsWith('GET /first')) socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok${smuggled}`);
      else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nreal');
    });
    const c = client();
    expect(await (await c.request(`${raw.origin}/first`)).text()).toBe('ok');
    const second = await c.request(`${raw.origin}/second`).then(
      async (r) => r.text(),
      (e: unknown) => e,
    );
    expect(second).not.toBe('SMUGGLED');
  });

  it('a Content-Length longer than the body, then close: E_UNREACHABLE (after retries), not a short answer', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"short":'));
    const error = await failure((await client().request(`${raw.origin}/`, { purpose: 'index' })).bytes());
    expect(error.code).toBe('E_UNREACHABLE');
    expectNoToken(error);
  });

  it('a 304 that carries a body: the status is returned and the body never pollutes the next answer', async () => {
    const raw = await rawServer((socket, request) => {
      if (request.startsWith('GET /cond')) socket.write('HTTP/1.1 304 Not Modified\r\netag: "1"\r\ncontent-length: 10\r\n\r\nGARBAGE!!!');
      else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nreal');
    });
    const c = client();
    const first = await c.request(`${raw.origin}/cond`, { headers: { 'if-none-match': '"1"' } });
    expect(first.status).toBe(304);
    await first.discard();
    const second = await c.request(`${raw.origin}/next`).then(
      async (r) => r.text(),
      (e: unknown) => e,
    );
    expect(second === 'real' || second instanceof RegistryError).toBe(true);
  });

  it('a chunk-size line of 64 hex digits is E_UNREACHABLE', async () => {
    const raw = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${'f'.repeat(64)}\r\nxx\r\n0\r\n\r\n`));
    expect(
      (
        await failure(
          client({ retries: 0 })
            .request(`${raw.origin}/`)
            .then((r) => r.bytes()),
        )
      ).code,
    ).toBe('E_UNREACHABLE');
  });

  it('an endless chunk extension (bytes always flowing, no data) ends at the total deadline, in bounded memory', async () => {
    const raw = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;');
      const pump = () => {
        while (!socket.destroyed && socket.write('a'.repeat(64 * 1024)));
      };
      socket.on('drain', pump);
      pump();
    });
    const started = Date.now();
    const error = await failure(
      client({ timeouts: { index: 2_000 } })
        .request(`${raw.origin}/`, { purpose: 'index' })
        .then((r) => r.bytes()),
    );
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('a header flood (20 000 headers) is E_UNREACHABLE; 1 500 small headers are read as usual', async () => {
    // undici counts the bytes of names and values (16 KiB), not the separators: 20 000 × 4 bytes is over it.
    const flood = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\n${'x-a: b\r\n'.repeat(20_000)}content-length: 2\r\n\r\nok`));
    const error = await failure(client({ retries: 0 }).request(`${flood.origin}/`));
    expect(error.code).toBe('E_UNREACHABLE');
    const many = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\n${'x-a: b\r\n'.repeat(1_500)}content-length: 2\r\nconnection: close\r\n\r\nok`));
    expect(await (await client().request(`${many.origin}/`)).text()).toBe('ok');
  });

  it('one huge header line (1 MiB) is E_UNREACHABLE, quickly', async () => {
    const raw = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(MiB)}\r\ncontent-length: 2\r\n\r\nok`));
    expect((await failure(client({ retries: 0 }).request(`${raw.origin}/`))).code).toBe('E_UNREACHABLE');
  });
});

describe('more framing tricks', () => {
  it('endless 1xx informational answers (103 Early Hints) end at the deadline', async () => {
    const raw = await rawServer((socket) => {
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        socket.write('HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n');
      }, 20);
      timer.unref();
      socket.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await failure(client({ timeouts: { index: 1_500 } }).request(`${raw.origin}/`, { purpose: 'index' }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('Transfer-Encoding: chunked together with a Content-Length is refused or read as chunked, never smuggled', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n4\r\nreal\r\n0\r\n\r\n'));
    const outcome = await client({ retries: 0 })
      .request(`${raw.origin}/`)
      .then((r) => r.text())
      .then(
        (text) => text,
        (e: unknown) => e,
      );
    expect(outcome === 'real' || (outcome instanceof RegistryError && outcome.code === 'E_UNREACHABLE'), String(outcome)).toBe(true);
  });

  it('two Content-Length headers that disagree are refused (E_UNREACHABLE)', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 4\r\n\r\nreal'));
    const error = await failure(
      client({ retries: 0 })
        .request(`${raw.origin}/`)
        .then((r) => r.text()),
    );
    expect(error.code).toBe('E_UNREACHABLE');
  });

  it('a status line that is not HTTP, and an HTTP/0.9-style bare body, are E_UNREACHABLE', async () => {
    for (const answer of ['SSH-2.0-OpenSSH_9.6\r\n', '{"extensions":{}}', 'HTTP/1.1 999 Weird\r\ncontent-length: 0\r\n\r\n']) {
      const raw = await rawServer((socket) => socket.end(answer));
      const outcome = await client({ retries: 0 })
        .request(`${raw.origin}/`)
        .then(
          (r) => r.status,
          (e: unknown) => e,
        );
      if (typeof outcome === 'number') expect(outcome, answer).toBe(999);
      else expect((outcome as RegistryError).code, answer).toBe('E_UNREACHABLE');
    }
  });
});

describe('slow servers and the total deadline', () => {
  it('headers trickled one byte every 200 ms end at timeouts.headers or the deadline, whichever is first', async () => {
    const raw = await rawServer((socket) => trickle(socket, `HTTP/1.1 200 OK\r\n${'x-slow: 1\r\n'.repeat(1_000)}`, 200));
    const started = Date.now();
    const error = await failure(client({ timeouts: { headers: 1_500, index: 4_000 } }).request(`${raw.origin}/`, { purpose: 'index' }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('a server that accepts and never answers ends at the deadline, retries included', async () => {
    const raw = await rawServer(() => {});
    const started = Date.now();
    const error = await failure(client({ timeouts: { headers: 60_000, index: 1_500 } }).request(`${raw.origin}/`, { purpose: 'index' }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('timeouts.index');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('Retry-After: 59 on every answer does not outlast the deadline (the waits are inside it)', async () => {
    const s = await server((_req, res) => res.writeHead(503, { 'retry-after': '59' }).end());
    // The real sleep, so the waits would take two minutes.
    const c = createHttpClient({ registry: 'acme', env: {}, timeouts: { index: 1_500 }, retries: 10 });
    clients.push(c);
    const started = Date.now();
    const error = await failure(c.request(s.url('/'), { purpose: 'index' }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(s.requests).toHaveLength(1);
  });

  it('resets mid-body with retries cannot restart the deadline', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x'.repeat(10));
      setTimeout(() => res.socket?.destroy(), 400).unref();
    });
    const c = createHttpClient({ registry: 'acme', env: {}, timeouts: { index: 1_000 }, retries: 10, backoff: { baseMs: 1, maxMs: 1 } });
    clients.push(c);
    const started = Date.now();
    const error = await failure((await c.request(s.url('/'), { purpose: 'index' })).bytes());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('no token in what a failure leaves behind', () => {
  it('resets, timeouts, TLS-less garbage, E_TOO_LARGE and redirects: the token is in no message, cause, JSON or inspect output', async () => {
    const lines: string[] = [];
    const logger = {
      debug: (m: string) => lines.push(m),
      info: (m: string) => lines.push(m),
      warn: (m: string) => lines.push(m),
      error: (m: string) => lines.push(m),
    };
    const garbage = await rawServer((socket) => socket.end(`NOT HTTP ${TOKEN}\r\n\r\n`));
    const echo = await rawServer((socket, request) =>
      socket.end(`HTTP/1.1 200 OK\r\ncontent-length: 100000000\r\nx-echo: ${request.split('\r\n').join(' | ')}\r\n\r\n`),
    );
    const reset = await rawServer((socket) => socket.resetAndDestroy());
    const silent = await rawServer(() => {});
    const errors: unknown[] = [];
    for (const origin of [garbage.origin, echo.origin, reset.origin, silent.origin]) {
      const c = withToken(origin, { logger, timeouts: { index: 800 }, limits: { index: 1000 } });
      errors.push(
        await c
          .request(`${origin}/x`, { purpose: 'index' })
          .then((r) => r.bytes())
          .then(
            () => undefined,
            (e: unknown) => e,
          ),
      );
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(RegistryError);
      expectNoToken(error);
    }
    for (const line of lines) expect(line).not.toContain(TOKEN);
  });
});
