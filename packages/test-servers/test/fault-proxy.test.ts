import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Cleanup,
  createGitRepo,
  type FaultProxy,
  garbageBytes,
  listenOnLoopback,
  makeTempDir,
  runGit,
  type StaticServer,
  startFaultProxy,
  startGitHttpServer,
  startStaticServer,
} from '../src/index.js';

const cleanup = new Cleanup();
let tmp: string;
let upstream: StaticServer;
let proxy: FaultProxy;
const INDEX = JSON.stringify({ version: '1.0.0', extensions: { curated: [{ id: 'a' }, { id: 'b' }] } });
const BIG = garbageBytes(256 * 1024);

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  const root = path.join(tmp, 'www');
  await mkdir(root);
  await writeFile(path.join(root, 'registry.json'), INDEX);
  await writeFile(path.join(root, 'other.json'), '{"other":true}');
  await writeFile(path.join(root, 'big.bin'), BIG);
  upstream = await cleanup.add(startStaticServer({ root }));
  proxy = await cleanup.add(startFaultProxy({ target: upstream.url }));
});
afterAll(() => cleanup.run());

describe('startFaultProxy', () => {
  it('passes requests through unchanged without faults', async () => {
    proxy.setFaults([]);
    const res = await fetch(`${proxy.url}registry.json`, { headers: { authorization: 'Bearer abc' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(INDEX);
    expect(upstream.requests.at(-1)).toMatchObject({ path: '/registry.json', authorization: true });
    expect(proxy.requests.at(-1)).toMatchObject({ url: '/registry.json', status: 200, authorization: true, bytesSent: INDEX.length });
    expect(proxy.requests.at(-1)?.fault).toBeUndefined();
  });

  it('answers 503 with Retry-After for the first K requests, then 200', async () => {
    proxy.setFaults([{ kind: 'status', status: 503, retryAfter: 2, times: 2 }]);
    const upstreamBefore = upstream.requests.length;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${proxy.url}registry.json`);
      statuses.push(res.status);
      const body = await res.text();
      if (res.status === 503) expect(res.headers.get('retry-after')).toBe('2');
      else expect(body).toBe(INDEX);
    }
    expect(statuses).toEqual([503, 503, 200]);
    // The injected 503s never reached the target.
    expect(upstream.requests.length - upstreamBefore).toBe(1);
    expect(proxy.requests.slice(-3).map((request) => request.fault ?? null)).toEqual(['status', 'status', null]);
  });

  it('truncates a body below its Content-Length so the client notices', async () => {
    proxy.setFaults([{ kind: 'truncate', bytes: 10 }]);
    const res = await fetch(`${proxy.url}registry.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(INDEX.length));
    await expect(res.text()).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'truncate', bytesSent: 10 });
  });

  it('replaces the body with garbage of the same length', async () => {
    proxy.setFaults([{ kind: 'garbage' }]);
    const res = await fetch(`${proxy.url}registry.json`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(body.length).toBe(INDEX.length);
    expect(body.equals(Buffer.from(INDEX))).toBe(false);
    expect(() => JSON.parse(body.toString('utf8'))).toThrow();
  });

  it('resets the connection mid-body', async () => {
    proxy.setFaults([{ kind: 'reset', afterBytes: 64 * 1024 }]);
    const res = await fetch(`${proxy.url}big.bin`);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'reset', bytesSent: 64 * 1024 });

    proxy.setFaults([{ kind: 'reset', afterBytes: 0 }]);
    const empty = await fetch(`${proxy.url}big.bin`);
    await expect(empty.arrayBuffer()).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'reset', bytesSent: 0 });
  });

  it('delays headers, and applies faults only to matching paths', async () => {
    // Behaviour, not timing: a client that gives up on headers before the delay ends sees no response at all.
    proxy.setFaults([{ kind: 'delay', ms: 2_000, path: '/registry.*' }]);
    await expect(fetch(`${proxy.url}registry.json`, { signal: AbortSignal.timeout(50) })).rejects.toThrow(/abort|timeout/i);
    proxy.setFaults([{ kind: 'delay', ms: 20, path: '/registry.*' }]);
    const slow = await fetch(`${proxy.url}registry.json`);
    expect(await slow.text()).toBe(INDEX);
    expect(proxy.requests.at(-1)?.fault).toBe('delay');
    const quick = await fetch(`${proxy.url}other.json`);
    expect(await quick.json()).toEqual({ other: true });
    expect(proxy.requests.at(-1)?.fault).toBeUndefined();
  });

  it('stalls after the headers: the status arrives, the body never does', async () => {
    proxy.setFaults([{ kind: 'stall', path: '/registry.json', times: 1 }]);
    const controller = new AbortController();
    const res = await fetch(`${proxy.url}registry.json`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reading = res.text();
    setTimeout(() => controller.abort(), 300);
    await expect(reading).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'stall', bytesSent: 0 });
  });

  it('trickles the real body one byte at a time', async () => {
    proxy.setFaults([{ kind: 'trickle', intervalMs: 5, path: '/other.json', times: 1 }]);
    const res = await fetch(`${proxy.url}other.json`);
    expect(res.headers.get('content-length')).toBeNull();
    expect(await res.text()).toBe('{"other":true}');
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'trickle', bytesSent: 14 });
  });

  it('floods: the upstream headers with a body of `bytes` bytes of `fill`', async () => {
    proxy.setFaults([{ kind: 'flood', bytes: 200_000, fill: 'x', path: '/registry.json', times: 1 }]);
    const res = await fetch(`${proxy.url}registry.json`);
    expect(res.headers.get('content-type')).toContain('json');
    const body = await res.text();
    expect(body.length).toBe(200_000);
    expect(body.replaceAll('x', '')).toBe('');
  });

  it('answers a gzip bomb: a small body that inflates to inflatedBytes zeros', async () => {
    proxy.setFaults([{ kind: 'gzip-bomb', inflatedBytes: 3 * 1024 * 1024 + 5, path: '/registry.json', times: 1 }]);
    const res = await fetch(`${proxy.url}registry.json`);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const inflated = Buffer.from(await res.arrayBuffer());
    expect(inflated.length).toBe(3 * 1024 * 1024 + 5);
    expect(inflated.every((byte) => byte === 0)).toBe(true);
    expect(proxy.requests.at(-1)!.bytesSent).toBeLessThan(5_000);
  });

  it('can break a real git clone through the proxy', async () => {
    const home = path.join(tmp, 'home');
    await mkdir(home, { recursive: true });
    const repo = await cleanup.add(createGitRepo({ 'blob.bin': BIG }, { root: path.join(tmp, 'git'), name: 'big' }));
    const gitServer = await cleanup.add(startGitHttpServer({ root: repo.root }));
    const gitProxy = await cleanup.add(
      startFaultProxy({ target: gitServer.url, faults: [{ kind: 'reset', afterBytes: 20_000, path: '/big.git/git-upload-pack', times: 1 }] }),
    );
    const url = `${gitProxy.url}big.git`;
    // Protocol v0 has a single upload-pack POST, the one carrying the pack, so the reset lands mid-pack.
    const clone = (dir: string) => runGit(['-c', 'protocol.version=0', 'clone', url, path.join(tmp, dir)], { home });
    await expect(clone('broken')).rejects.toThrow(/RPC failed|early EOF|reset/);
    expect(gitProxy.requests.find((request) => request.fault === 'reset')).toMatchObject({ method: 'POST', bytesSent: 20_000 });
    // The rule is used up, so the next clone goes through untouched.
    await clone('ok');
    expect(await readFile(path.join(tmp, 'ok', 'blob.bin'))).toEqual(BIG);
  });

  it('accepts and never answers (silent): nothing reaches the target, nothing comes back', async () => {
    proxy.setFaults([{ kind: 'silent', path: '/registry.json', times: 1 }]);
    const upstreamBefore = upstream.requests.length;
    // A fresh connection (no keep-alive socket of an earlier test that the server may close under it): it stays
    // open and silent until the client gives up.
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get(`${proxy.url}registry.json`, { agent: false }, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error) => resolve(`error ${error.message}`));
      setTimeout(() => {
        resolve('silent');
        req.destroy();
      }, 300);
    });
    expect(outcome).toBe('silent');
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'silent', status: 0, bytesSent: 0 });
    expect(upstream.requests.length).toBe(upstreamBefore);
  });

  describe('with a target that echoes its Host header, redirects and gzips', () => {
    let echo: { url: string; close(): Promise<void> };
    beforeAll(async () => {
      const server = http.createServer((req, res) => {
        if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://127.0.0.1:9/elsewhere/file' }).end();
        if (req.url === '/gzipped') return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end();
        res.writeHead(200, { 'content-type': 'text/plain' }).end(req.headers.host);
      });
      const listening = await listenOnLoopback(server);
      echo = await cleanup.add({ url: `http://127.0.0.1:${listening.port}/`, close: () => listening.shutdown() });
    });

    it("sends the target's Host by default, the client's with preserveHost", async () => {
      const plain = await cleanup.add(startFaultProxy({ target: echo.url }));
      expect(await (await fetch(`${plain.url}host`)).text()).toBe(new URL(echo.url).host);
      const preserving = await cleanup.add(startFaultProxy({ target: echo.url, preserveHost: true }));
      expect(await (await fetch(`${preserving.url}host`)).text()).toBe(new URL(preserving.url).host);
    });

    it('sends redirects to another origin through the proxy named in redirectOrigins', async () => {
      const redirecting = await cleanup.add(startFaultProxy({ target: echo.url, redirectOrigins: { 'http://127.0.0.1:9': 'http://127.0.0.1:8/' } }));
      const res = await fetch(`${redirecting.url}redirect`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('http://127.0.0.1:8/elsewhere/file');
    });

    it("floods without the upstream's Content-Encoding: the body is endless, not undecodable", async () => {
      const flooding = await cleanup.add(startFaultProxy({ target: echo.url, faults: [{ kind: 'flood', bytes: 100_000, fill: 'x' }] }));
      const res = await fetch(`${flooding.url}gzipped`);
      expect(res.headers.get('content-encoding')).toBeNull();
      expect(await res.text()).toBe('x'.repeat(100_000));
    });
  });

  it('refuses targets off loopback', async () => {
    await expect(startFaultProxy({ target: 'http://192.0.2.1/' })).rejects.toThrow(/loopback/);
  });
});
