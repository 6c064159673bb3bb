import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient, type HttpClientOptions, isRetryableResponse, RegistryError } from '../src/index.js';
import { startServer, type Handler, type TestServer } from './support/http-servers.js';
import { MiB, measurePeakRss } from '@agentos-registry/test-servers';

/**
 * Issue 11: a body is bounded on its decoded bytes as it streams, and a request has a total deadline. Each hostile
 * answer is measured: the error, and that memory stayed far below what the answer would have cost. Memory is per
 * process, so these tests live in a file of their own.
 */

const servers: TestServer[] = [];
const clients: HttpClient[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function server(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  const c = createHttpClient({ registry: 'acme', env: {}, sleep: async () => {}, ...options });
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

/** Writes `total` bytes of `a` as a chunked body, as fast as the client reads (bounded, so a failing client ends). */
function flood(res: ServerResponse, total: number, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** A gzip body of `inflated` zero bytes: concatenated members of 1 MiB each, about 1 KB per MiB. */
function gzipBomb(inflated: number): Buffer {
  const member = gzipSync(Buffer.alloc(MiB), { level: 9 });
  return Buffer.concat(Array.from({ length: Math.ceil(inflated / MiB) }, () => member));
}

describe('body limits, on decoded bytes as they stream', () => {
  it('an endless chunked index answer is E_TOO_LARGE at limits.index (32 MiB), in bounded memory', async () => {
    // 1 GiB stands in for "endless": enough to show the difference, finite so that a client without a limit ends.
    const s = await server((_req, res) => flood(res, 1024 * MiB));
    const c = client();
    const { outcome, growth } = await measurePeakRss(async () => (await c.request(s.url('/registry.json'), { purpose: 'index' })).bytes());
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as RegistryError;
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('32 MiB');
    expect(error.message).toContain('raise limits.index');
    expect(growth).toBeLessThan(256 * MiB);
  });

  it('a gzip body of 1.5 MB that inflates to 1.5 GiB stops at the limit of decoded bytes, in bounded memory', async () => {
    const bomb = gzipBomb(1536 * MiB);
    expect(bomb.length).toBeLessThan(2 * MiB);
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': bomb.length }).end(bomb));
    const c = client({ limits: { entry: 64 * MiB } });
    const { outcome, growth } = await measurePeakRss(async () => {
      // As a stream, as an archive is read: the limit is the entry one, set here to 64 MiB.
      let seen = 0;
      for await (const chunk of (await c.request(s.url('/bomb.tgz'))).body) seen += (chunk as Buffer).length;
      return seen;
    });
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as RegistryError;
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.message).toContain('limits.entry');
    expect(growth).toBeLessThan(256 * MiB);

    // And through a buffered fetch, the way Octokit reads API answers: the fetch itself rejects.
    const viaFetch = await measurePeakRss(() => c.fetchWith({ purpose: 'index', buffer: true })(s.url('/commits/main')));
    expect(((viaFetch.outcome as PromiseRejectedResult).reason as RegistryError).code).toBe('E_TOO_LARGE');
    expect(viaFetch.growth).toBeLessThan(256 * MiB);
  });

  it('a plain body whose Content-Length is over the limit is refused before it is read', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-length': String(4 * MiB) }).end(Buffer.alloc(4 * MiB)));
    const c = client({ limits: { index: MiB } });
    const error = await failure((await c.request(s.url('/registry.json'), { purpose: 'index' })).text());
    expect(error.code).toBe('E_TOO_LARGE');
    expect(error.details).toMatchObject({ limit: 'limits.index', bytes: MiB });
  });

  it('an answer within the limit is read whole; the limits are validated', async () => {
    const s = await server((_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"ok":true}')));
    expect(await (await client({ limits: { index: 11 } }).request(s.url('/x'), { purpose: 'index' })).json()).toEqual({ ok: true });
    expect(() => client({ limits: { index: 0 } })).toThrow(/limits.index must be a positive whole number/);
    expect(() => client({ limits: { entry: 1.5 } })).toThrow(/limits.entry/);
  });
});

describe('total deadlines', () => {
  /** Headers at once, then one byte every 200 ms, without end: no idle timeout ever fires. */
  const trickle: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 200);
    res.on('close', () => clearInterval(timer));
  };

  it('a trickling index answer ends at timeouts.index, within seconds of it, as E_UNREACHABLE naming the option', async () => {
    const s = await server(trickle);
    const c = client({ timeouts: { index: 2_000 } });
    const started = Date.now();
    const error = await failure((await c.request(s.url('/registry.json'), { purpose: 'index' })).text());
    const elapsed = Date.now() - started;
    if (process.env.REPORT_MEMORY) console.log(`deadline of 2 s reached after ${elapsed} ms`);
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('within 2 s');
    expect(error.message).toContain('raise timeouts.index');
    expect(error.details).toMatchObject({ deadline: 'timeouts.index', timeout: true });
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(2_000 + 10_000);
  });

  it('the entry deadline bounds a streamed body, retries and waits included; fetch gets the entry deadline', async () => {
    const s = await server(trickle);
    const c = client({ timeouts: { entry: 1_500 } });
    const started = Date.now();
    const streamed = await failure(
      (async () => {
        for await (const _ of (await c.request(s.url('/archive.tgz'))).body) {
          // reading, as an extractor would
        }
      })(),
    );
    expect(streamed.code).toBe('E_UNREACHABLE');
    expect(streamed.message).toContain('timeouts.entry');
    const viaFetch = await failure((async () => (await c.fetch(s.url('/pack'))).text())());
    expect(viaFetch.code).toBe('E_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(2 * 1_500 + 10_000);

    // A server that keeps failing with Retry-After: the deadline ends the retries and their waits (real sleeps here).
    const busy = await server((_req, res) => res.writeHead(503, { 'retry-after': '1' }).end());
    const patient = createHttpClient({ registry: 'acme', env: {}, retries: 10, timeouts: { index: 1_500 } });
    clients.push(patient);
    const before = Date.now();
    const error = await failure(patient.request(busy.url('/registry.json'), { purpose: 'index' }));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(error.message).toContain('timeouts.index');
    expect(busy.requests.length).toBeLessThan(5);
    expect(Date.now() - before).toBeLessThan(1_500 + 10_000);
  });

  it('an abort by the caller stays E_ABORTED; deadlines are validated', async () => {
    const s = await server(trickle);
    const c = client({ timeouts: { index: 60_000 } });
    const controller = new AbortController();
    const response = await c.request(s.url('/registry.json'), { purpose: 'index', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await failure(response.text())).code).toBe('E_ABORTED');
    expect(() => client({ timeouts: { entry: 0 } })).toThrow(/timeouts.entry/);
    expect(() => client({ timeouts: { index: 2 ** 31 } })).toThrow(/timeouts.index/);
  });
});

describe('reading a body again after the connection drops', () => {
  /** The first answer is cut after half the body (a reset); later ones are whole. */
  function cutOnce(body: Buffer): Handler {
    return (_req, res, count) => {
      res.writeHead(200, { 'content-length': body.length });
      if (count > 1) return void res.end(body);
      res.write(body.subarray(0, body.length / 2), () => res.socket?.resetAndDestroy());
    };
  }

  it('consume() sends the request again and hands the reader a new body; other reader failures pass as they are', async () => {
    const body = Buffer.alloc(256 * 1024, 0x62);
    const s = await server(cutOnce(body));
    const c = client({ retries: 1 });
    const reads: number[] = [];
    const total = await (await c.request(s.url('/archive.tgz'))).consume(async (stream) => {
      let seen = 0;
      reads.push(0);
      for await (const chunk of stream) seen += (chunk as Buffer).length;
      return seen;
    });
    expect(total).toBe(body.length);
    expect(reads).toHaveLength(2);
    expect(s.requests).toHaveLength(2);

    const own = new Error('the reader refused the archive');
    await expect((await c.request(s.url('/archive.tgz'))).consume(async () => Promise.reject(own))).rejects.toBe(own);
    expect(s.requests).toHaveLength(3);
  });

  it('a buffered fetch rejects when the body is reset past the retries, instead of resolving with a short body', async () => {
    const body = Buffer.from('0123456789abcdef0123456789abcdef01234567');
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.github.sha', 'content-length': body.length });
      res.write(body.subarray(0, 5), () => res.socket?.resetAndDestroy());
    });
    const c = client({ retries: 1 });
    const error = await failure(c.fetchWith({ purpose: 'index', buffer: true })(s.url('/repos/o/r/commits/main')));
    expect(error.code).toBe('E_UNREACHABLE');
    expect(s.requests).toHaveLength(2);
  });
});

describe('throttling', () => {
  it("a `retryable` hook adds a protocol's throttle: a 403 with Retry-After (GitHub's secondary rate limit) is retried like a 429", async () => {
    const throttled = await server((_req, res, count) => (count === 1 ? res.writeHead(403, { 'retry-after': '0' }).end('slow down') : res.end('ok')));
    const c = client({ retryable: (r) => isRetryableResponse(r) || (r.status === 403 && r.headers['retry-after'] !== undefined) });
    const res = await c.request(throttled.url('/x'));
    expect([res.status, await res.text(), throttled.requests.length]).toEqual([200, 'ok', 2]);

    // Without the hook a 403 is a refusal, Retry-After or not: returned at once.
    const plain = await server((_req, res) => res.writeHead(403, { 'retry-after': '0' }).end('no'));
    const once = await client().request(plain.url('/x'));
    expect(once.status).toBe(403);
    await once.discard();
    expect(plain.requests).toHaveLength(1);

    // A spent quota (x-ratelimit-remaining: 0, no Retry-After) is returned at once, even as a 429.
    const forbidden = await server((_req, res) => res.writeHead(429, { 'x-ratelimit-remaining': '0' }).end('no'));
    const refused = await c.request(forbidden.url('/x'));
    expect(refused.status).toBe(429);
    await refused.discard();
    expect(forbidden.requests).toHaveLength(1);
  });
});
