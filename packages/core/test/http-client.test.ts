import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient, type HttpClientOptions, RegistryError } from '../src/index.js';
import { makeCertificates, startForwardProxy, startServer, type Handler, type TestCertificates, type TestServer } from './support/http-servers.js';

const TOKEN = 'ghp_TESTTOKEN_0123456789abcdef';
const servers: TestServer[] = [];
const clients: HttpClient[] = [];
let sleeps: number[] = [];

afterEach(async () => {
  // Servers first: closing them cuts held connections, so closing the clients never waits.
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  sleeps = [];
});

async function server(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const s = await startServer(handler, tls);
  servers.push(s);
  return s;
}

/** A client with an empty environment (the machine's proxies must not leak in) and a sleep that only records. */
function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({
    registry: 'acme',
    env: {},
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  clients.push(c);
  return c;
}

const ok: Handler = (_req, res) => res.end('ok');

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

function expectNoToken(error: RegistryError): void {
  const cause = error.cause as Error | undefined;
  for (const text of [error.message, error.stack ?? '', JSON.stringify(error), String(cause?.message ?? ''), String(cause?.stack ?? '')]) {
    expect(text).not.toContain(TOKEN);
  }
}

describe('credential scoping', () => {
  it('sends credentials to their origin and not to another origin after a 302', async () => {
    const other = await server((_req, res) => res.end('landed'));
    const origin = await server((_req, res) => res.writeHead(302, { location: other.url('/landing') }).end());
    const c = client({ credentials: { origin: origin.origin, headers: { Authorization: `Bearer ${TOKEN}`, 'X-Api-Key': 'key-0123456789' } } });

    const res = await c.request(origin.url('/start'), { headers: { Cookie: 'session=s3cr3t', 'X-Trace': 'abc' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('landed');
    expect(res.url).toBe(other.url('/landing'));
    expect(res.redirected).toBe(true);

    expect(origin.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(origin.requests[0]!.headers['x-api-key']).toBe('key-0123456789');
    expect(origin.requests[0]!.headers.cookie).toBe('session=s3cr3t');
    const landed = other.requests[0]!.headers;
    expect(landed.authorization).toBeUndefined();
    expect(landed['x-api-key']).toBeUndefined();
    expect(landed.cookie).toBeUndefined();
    expect(landed['x-trace']).toBe('abc');
  });

  it('keeps credentials on a same-origin redirect', async () => {
    const origin = await server((req, res) => (req.url === '/start' ? res.writeHead(301, { location: '/next' }).end() : res.end('here')));
    const c = client({ credentials: { origin: origin.origin, headers: { authorization: `Bearer ${TOKEN}` } } });
    const res = await c.request(origin.url('/start'), { headers: { cookie: 'a=b' } });
    expect(await res.text()).toBe('here');
    expect(origin.requests.map((r) => [r.url, r.headers.authorization, r.headers.cookie])).toEqual([
      ['/start', `Bearer ${TOKEN}`, 'a=b'],
      ['/next', `Bearer ${TOKEN}`, 'a=b'],
    ]);
  });

  it('never sends credentials to another origin, nor to their origin once a redirect has left it', async () => {
    const origin = await server((req, res) => (req.url === '/start' ? res.writeHead(307, { location: `${away.origin}/bounce` }).end() : res.end('back')));
    const away = await server((_req, res) => res.writeHead(302, { location: origin.url('/back') }).end());
    const c = client({ credentials: { origin: origin.origin, headers: { authorization: `Bearer ${TOKEN}` } } });

    // Starting at another origin: no credentials there, nor at their origin after the redirect from it.
    await (await c.request(away.url('/direct'))).discard();
    expect(away.requests[0]!.headers.authorization).toBeUndefined();
    expect(origin.requests.splice(0).map((r) => [r.url, r.headers.authorization])).toEqual([['/back', undefined]]);

    expect(await (await c.request(origin.url('/start'))).text()).toBe('back');
    expect(origin.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/start', `Bearer ${TOKEN}`],
      ['/back', undefined],
    ]);
  });

  it('client.fetch applies the same scoping and returns a WHATWG Response', async () => {
    const other = await server((req, res) => (req.url === '/missing' ? res.writeHead(404).end('nope') : res.end('landed')));
    const origin = await server((req, res) => {
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ got: body })));
        return;
      }
      res.writeHead(302, { location: other.url('/landing') }).end();
    });
    const c = client({ credentials: { origin: origin.origin, headers: { authorization: `token ${TOKEN}` } } });

    const res = await c.fetch(origin.url('/start'), { headers: { 'x-caller': '1' } });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(200);
    expect(res.url).toBe(other.url('/landing'));
    expect(res.redirected).toBe(true);
    expect(await res.text()).toBe('landed');
    expect(origin.requests[0]!.headers.authorization).toBe(`token ${TOKEN}`);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
    expect(other.requests[0]!.headers['x-caller']).toBe('1');

    const posted = await c.fetch(new Request(origin.url('/api'), { method: 'POST', body: 'hello' }));
    expect(posted.status).toBe(201);
    expect(posted.headers.get('content-type')).toBe('application/json');
    expect(await posted.json()).toEqual({ got: 'hello' });

    const missing = await c.fetch(other.url('/missing'));
    expect([missing.status, missing.ok, await missing.text()]).toEqual([404, false, 'nope']);

    const manual = await c.fetch(origin.url('/start'), { redirect: 'manual' });
    expect([manual.status, manual.headers.get('location')]).toEqual([302, other.url('/landing')]);
  });

  it('refuses credentials with a malformed origin, and URLs that carry a password', async () => {
    expect(() => createHttpClient({ registry: 'acme', env: {}, credentials: { origin: 'not a url', headers: { authorization: `Bearer ${TOKEN}` } } })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    const error = await failure(client().request(`https://user:${TOKEN}@example.com/x`));
    expect(error.code).toBe('E_CONFIG');
    expectNoToken(error);
  });
});

describe('retries', () => {
  it('503 twice then 200 succeeds on the third request', async () => {
    const s = await server((_req, res, n) => (n <= 2 ? res.writeHead(503).end('busy') : res.end('ok')));
    const res = await client({ backoff: { baseMs: 100, maxMs: 1000 } }).request(s.url('/x'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(s.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThan(100);
    expect(sleeps[1]).toBeLessThan(200);
  });

  it('returns the last 5xx once the retries are spent, and never loops', async () => {
    const s = await server((_req, res) => res.writeHead(502).end());
    const res = await client({ retries: 3 }).request(s.url('/x'));
    expect(res.status).toBe(502);
    await res.discard();
    expect(s.requests).toHaveLength(4);
  });

  it('a spent quota (429, x-ratelimit-remaining: 0, no Retry-After) is returned at once, not retried', async () => {
    const s = await server((_req, res) => res.writeHead(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1900000000' }).end());
    const res = await client().request(s.url('/x'));
    expect(res.status).toBe(429);
    expect(res.headers['x-ratelimit-reset']).toBe('1900000000');
    await res.discard();
    expect(s.requests).toHaveLength(1);
    expect(sleeps).toHaveLength(0);
  });

  it('never retries a non-idempotent method, nor a request with retry: false', async () => {
    const s = await server((_req, res) => res.writeHead(503).end());
    const c = client();
    expect((await c.request(s.url('/post'), { method: 'POST', body: '{}' })).status).toBe(503);
    expect((await c.request(s.url('/patch'), { method: 'PATCH', body: '{}' })).status).toBe(503);
    expect((await c.request(s.url('/get'), { retry: false })).status).toBe(503);
    expect(s.requests.map((r) => r.url)).toEqual(['/post', '/patch', '/get']);
    expect(sleeps).toEqual([]);
  });

  it('honours Retry-After on a 429', async () => {
    const s = await server((_req, res, n) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.end('ok')));
    const res = await client().request(s.url('/x'));
    expect(res.status).toBe(200);
    expect(sleeps).toEqual([1000]);
    expect(s.requests).toHaveLength(2);
  });

  it('fails with E_RATE_LIMIT instead of waiting longer than the cap', async () => {
    const s = await server((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    const error = await failure(client({ credentials: { origin: s.origin, headers: { authorization: `Bearer ${TOKEN}` } } }).request(s.url('/x')));
    expect(error.code).toBe('E_RATE_LIMIT');
    expect(error.message).toContain('120 s');
    expect(error.registry).toBe('acme');
    expectNoToken(error);
    expect(s.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a connection reset before the response', async () => {
    const s = await server((req, res, n) => (n === 1 ? req.socket.destroy() : res.end('ok')));
    const res = await client().request(s.url('/x'));
    expect(await res.text()).toBe('ok');
    expect(s.requests).toHaveLength(2);
  });

  it('retries a connection reset mid-body when the whole body is read', async () => {
    const s = await server((_req, res, n) => {
      res.writeHead(200, { 'content-length': '10' });
      if (n === 1) res.write('abc', () => res.socket?.destroy());
      else res.end('abcdefghij');
    });
    const res = await client().request(s.url('/x'));
    expect(await res.text()).toBe('abcdefghij');
    expect(s.requests).toHaveLength(2);
  });

  it('fails with E_UNREACHABLE when the resets persist', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('abc', () => res.socket?.destroy());
    });
    const c = client({ credentials: { origin: s.origin, headers: { authorization: `Bearer ${TOKEN}` } } });
    const res = await c.request(s.url('/x'));
    const error = await failure(res.bytes());
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('"acme"');
    expect(error.message).toContain(new URL(s.origin).host);
    expectNoToken(error);
    expect(s.requests).toHaveLength(3);

    // The streaming body cannot be retried; its failure is the same RegistryError.
    const streamed = await c.request(s.url('/y'));
    const streamError = await failure(
      (async () => {
        for await (const _chunk of streamed.body) {
          // drain
        }
      })(),
    );
    expect(streamError.code).toBe('E_UNREACHABLE');
  });

  it('reports a timeout as E_UNREACHABLE', async () => {
    const s = await server(() => {
      // never answers
    });
    const error = await failure(client({ retries: 0, timeouts: { headers: 200 } }).request(s.url('/x')));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('did not start to answer');
    expect(error.details).toMatchObject({ timeout: true });
  });

  it('stops after 5 redirects', async () => {
    const s = await server((_req, res) => res.writeHead(302, { location: '/again' }).end());
    const error = await failure(client().request(s.url('/x')));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('more than 5 redirects');
    expect(s.requests).toHaveLength(6);
  });
});

describe('aborting', () => {
  it('an aborted signal sends nothing', async () => {
    const s = await server(ok);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(client().request(s.url('/x'), { signal: controller.signal }))).code).toBe('E_ABORTED');
    expect(s.requests).toHaveLength(0);
  });

  it('aborting while waiting for the response is E_ABORTED', async () => {
    const controller = new AbortController();
    const s = await server(() => controller.abort());
    expect((await failure(client().request(s.url('/x'), { signal: controller.signal }))).code).toBe('E_ABORTED');
  });

  it('aborting while waiting to retry is E_ABORTED', async () => {
    const controller = new AbortController();
    const s = await server((_req, res) => res.writeHead(503).end('', () => controller.abort()));
    // The real timer, with a backoff long enough that only the abort can end the wait.
    const c = createHttpClient({ registry: 'acme', env: {}, backoff: { baseMs: 60_000, maxMs: 60_000 }, retries: 1 });
    clients.push(c);
    const error = await failure(c.request(s.url('/x'), { signal: controller.signal }));
    expect(error.code).toBe('E_ABORTED');
  });

  it('aborting while reading the body is E_ABORTED', async () => {
    const controller = new AbortController();
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const res = await client().request(s.url('/x'), { signal: controller.signal });
    const reading = res.bytes();
    controller.abort();
    expect((await failure(reading)).code).toBe('E_ABORTED');
  });
});

describe('plain HTTP policy', () => {
  it('refuses http:// to a non-loopback host without any connection attempt', async () => {
    // Every connection would go through this proxy, so an empty log proves none was attempted.
    const target = await server(ok);
    const proxy = await startForwardProxy({ 'registry.example.com': '127.0.0.1' });
    servers.push(proxy);
    const env = { HTTP_PROXY: proxy.origin };
    const error = await failure(client({ env }).request(`http://registry.example.com:${target.port}/x`));
    expect(error.code).toBe('E_POLICY');
    expect(error.message).toContain('registry.example.com');
    expect(proxy.requests).toHaveLength(0);
    expect(target.requests).toHaveLength(0);

    // allowInsecure lifts the rule.
    const res = await client({ env, allowInsecure: true }).request(`http://registry.example.com:${target.port}/x`);
    expect(await res.text()).toBe('ok');
    expect(proxy.requests).toHaveLength(1);
  });

  it('refuses a redirect from https to plain http off this machine, and other schemes', async () => {
    const s = await server((req, res) => res.writeHead(302, { location: req.url === '/ftp' ? 'ftp://example.com/x' : 'http://example.com/x' }).end());
    const c = client();
    expect((await failure(c.request(s.url('/http')))).code).toBe('E_POLICY');
    expect((await failure(c.request(s.url('/ftp')))).code).toBe('E_POLICY');
  });

  it('allows http:// to loopback', async () => {
    const s = await server(ok);
    expect(await (await client().request(`http://localhost:${s.port}/x`)).text()).toBe('ok');
  });
});

describe('TLS and proxies', () => {
  let certs: TestCertificates;
  let certDir: string;
  // Not tempDir(): that one is emptied after every test, and the CA file must outlive them.
  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'core-certs-'));
    certs = await makeCertificates(certDir);
  });
  afterAll(() => rm(certDir, { recursive: true, force: true }));

  it('trusts a private CA given as ca, and fails without it', async () => {
    const s = await server(ok, certs);
    const url = `https://localhost:${s.port}/x`;
    expect(await (await client({ ca: certs.ca }).request(url)).text()).toBe('ok');
    expect(await (await client({ ca: [certs.ca] }).request(s.url('/ip'))).text()).toBe('ok');

    const error = await failure(client({ credentials: { origin: `https://localhost:${s.port}`, headers: { authorization: `Bearer ${TOKEN}` } } }).request(url));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toMatch(/certificate/i);
    expect(error.message).toContain('NODE_EXTRA_CA_CERTS');
    expectNoToken(error);
  });

  it('trusts NODE_EXTRA_CA_CERTS from the environment it is given', async () => {
    const s = await server(ok, certs);
    expect(await (await client({ env: { NODE_EXTRA_CA_CERTS: certs.caFile } }).request(`https://localhost:${s.port}/x`)).text()).toBe('ok');

    // An unreadable file is a warning, as in Node itself, and the request then fails the certificate check.
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const error = await failure(client({ logger, env: { NODE_EXTRA_CA_CERTS: join(certDir, 'missing.pem') } }).request(`https://localhost:${s.port}/x`));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(warnings.join('\n')).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('uses HTTP_PROXY, and bypasses it for NO_PROXY hosts', async () => {
    const target = await server(ok);
    const proxy = await startForwardProxy();
    servers.push(proxy);

    const viaProxy = await client({ env: { HTTP_PROXY: proxy.origin } }).request(target.url('/one'));
    expect(await viaProxy.text()).toBe('ok');
    expect(proxy.requests.map((r) => r.url)).toEqual([target.url('/one')]);

    const lower = await client({ env: { http_proxy: proxy.origin } }).request(target.url('/two'));
    expect(await lower.text()).toBe('ok');
    expect(proxy.requests).toHaveLength(2);

    const direct = await client({ env: { HTTP_PROXY: proxy.origin, NO_PROXY: 'localhost,127.0.0.1,::1' } }).request(target.url('/three'));
    expect(await direct.text()).toBe('ok');
    expect(proxy.requests).toHaveLength(2);
    expect(target.requests.map((r) => r.url)).toEqual(['/one', '/two', '/three']);
  });

  it('an explicit proxy wins over the environment', async () => {
    const target = await server(ok);
    const proxy = await startForwardProxy();
    servers.push(proxy);
    const res = await client({ proxy: proxy.origin, env: { HTTP_PROXY: 'http://127.0.0.1:9' } }).request(target.url('/x'));
    expect(await res.text()).toBe('ok');
    expect(proxy.requests).toHaveLength(1);
  });

  it('tunnels HTTPS through HTTPS_PROXY with CONNECT; the proxy never sees the credential', async () => {
    const target = await server(ok, certs);
    const proxy = await startForwardProxy();
    servers.push(proxy);
    const origin = `https://localhost:${target.port}`;
    const c = client({ ca: certs.ca, env: { HTTPS_PROXY: proxy.origin }, credentials: { origin, headers: { authorization: `Bearer ${TOKEN}` } } });
    expect(await (await c.request(`${origin}/x`)).text()).toBe('ok');
    expect(proxy.requests.map((r) => [r.method, r.url])).toEqual([['CONNECT', `localhost:${target.port}`]]);
    expect(JSON.stringify(proxy.requests)).not.toContain(TOKEN);
    expect(target.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('names the proxy when it cannot be reached', async () => {
    const target = await server(ok);
    const error = await failure(client({ proxy: 'http://127.0.0.1:9' }).request(target.url('/x')));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('proxy 127.0.0.1:9');
  });

  it('sends proxy credentials from the proxy URL, and says E_AUTH when the proxy wants others', async () => {
    const target = await server(ok);
    const password = 'proxy-pw-0123456789';
    // A proxy that only accepts user:proxy-pw-…; absolute-URI requests reach this handler.
    const proxy = await server((req, res) =>
      req.headers['proxy-authorization'] === `Basic ${Buffer.from(`user:${password}`).toString('base64')}` ? res.end('proxied') : res.writeHead(407).end(),
    );
    const good = await client({ proxy: `http://user:${password}@127.0.0.1:${proxy.port}` }).request(target.url('/x'));
    expect(await good.text()).toBe('proxied');

    const error = await failure(client({ proxy: `http://user:wrong-0123456789@127.0.0.1:${proxy.port}` }).request(target.url('/x')));
    expect(error.code).toBe('E_AUTH');
    expect(error.message).toContain('407');
    expect(JSON.stringify(error)).not.toContain('wrong-0123456789');
  });

  it('refuses a malformed proxy setting with E_CONFIG', () => {
    expect(() => createHttpClient({ registry: 'acme', env: { HTTPS_PROXY: 'http://[bad' } })).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});

describe('responses and errors', () => {
  it('returns statuses as they are and lower-cases headers', async () => {
    const s = await server((_req, res) => res.writeHead(404, { 'X-Thing': 'A', ETag: '"1"' }).end('missing'));
    const res = await client().request(s.url('/x'));
    expect(res.status).toBe(404);
    expect(res.headers['x-thing']).toBe('A');
    expect(res.headers.etag).toBe('"1"');
    expect(await res.text()).toBe('missing');
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('decodes a gzip Content-Encoding and parses JSON', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ a: 1 }))));
    expect(await (await client().request(s.url('/x'))).json()).toEqual({ a: 1 });
  });

  it('sends a User-Agent unless the caller sets one', async () => {
    const s = await server(ok);
    const c = client({ userAgent: 'test-agent/1' });
    await (await c.request(s.url('/a'))).discard();
    await (await c.request(s.url('/b'), { headers: { 'User-Agent': 'mine' } })).discard();
    expect(s.requests.map((r) => r.headers['user-agent'])).toEqual(['test-agent/1', 'mine']);
  });

  it('keeps the token out of every error and log line', async () => {
    const lines: string[] = [];
    const logger = {
      debug: (m: string) => lines.push(m),
      info: (m: string) => lines.push(m),
      warn: (m: string) => lines.push(m),
      error: (m: string) => lines.push(m),
    };
    const s = await server((req, res) => (req.url === '/reset' ? req.socket.destroy() : res.writeHead(503).end()));
    const credentials = { origin: s.origin, headers: { authorization: `Bearer ${TOKEN}` } };
    const c = client({ credentials, logger });
    await (await c.request(`${s.url('/busy')}?token=${TOKEN}`)).discard();
    const errors = [
      await failure(c.request(s.url('/reset'))),
      await failure(c.request(`http://127.0.0.1:9/x?access_token=${TOKEN}`)),
      await failure(c.request(`http://example.com/x?token=${TOKEN}`)),
    ];
    expect(errors.map((e) => e.code)).toEqual(['E_UNREACHABLE', 'E_UNREACHABLE', 'E_POLICY']);
    for (const error of errors) expectNoToken(error);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(TOKEN);
  });

  it('reports a request undici refuses to send as E_USAGE', async () => {
    const s = await server(ok);
    expect((await failure(client().request(s.url('/x'), { headers: { 'bad header': 'x' } }))).code).toBe('E_USAGE');
    expect(s.requests).toHaveLength(0);
  });

  it('refuses requests after close with E_USAGE', async () => {
    const s = await server(ok);
    const c = client();
    await c.close();
    expect((await failure(c.request(s.url('/x')))).code).toBe('E_USAGE');
  });
});

describe('onProgress', () => {
  it('is told the bytes of a body as they arrive, the announced size, and once when it is read whole; never the query', async () => {
    const body = Buffer.alloc(200_000, 7);
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      // In pieces, so that the client sees more than one chunk.
      res.write(body.subarray(0, 70_000));
      setImmediate(() => res.end(body.subarray(70_000)));
    });
    const events: Array<{ url: string; bytes: number; total?: number; done: boolean; purpose: string }> = [];
    const c = client({ onProgress: (p) => events.push({ url: p.url, bytes: p.bytes, total: p.total, done: p.done, purpose: p.purpose }) });
    const res = await c.request(s.url('/big.tgz?token=q-secret-123'), { purpose: 'entry' });
    expect((await res.bytes()).length).toBe(body.length);
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.url === s.url('/big.tgz') && e.total === body.length && e.purpose === 'entry')).toBe(true);
    expect(events.at(-1)).toMatchObject({ bytes: body.length, done: true });
    expect(events.filter((e) => e.done)).toHaveLength(1);
    const counts = events.map((e) => e.bytes);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(JSON.stringify(events)).not.toContain('q-secret-123');
  });

  it('a listener that throws does not fail the request; a gzip body announces no size', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('hello progress')));
    const totals: Array<number | undefined> = [];
    const c = client({
      onProgress: (p) => {
        totals.push(p.total);
        throw new Error('display broke');
      },
    });
    const res = await c.request(s.url('/x'));
    expect(await res.text()).toBe('hello progress');
    expect(totals.length).toBeGreaterThan(0);
    expect(totals.every((t) => t === undefined)).toBe(true);
  });
});
