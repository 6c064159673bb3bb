import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuthHeader,
  Cleanup,
  createGitRepo,
  type ForwardProxy,
  makeTempDir,
  runGit,
  type StaticServer,
  startForwardProxy,
  startGitHttpServer,
  startStaticServer,
} from '../src/index.js';

const cleanup = new Cleanup();
let tmp: string;
let target: StaticServer;
let proxy: ForwardProxy;

interface RawResponse {
  status: number;
  body: string;
}

/** A plain-HTTP request in absolute-URI form, as clients send it to an HTTP_PROXY. */
function viaProxy(proxyPort: number, url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: proxyPort, path: url, headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Opens a CONNECT tunnel, as clients do for HTTPS_PROXY; resolves with the status and the socket. */
function connect(proxyPort: number, authority: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority, agent: false });
    req.on('connect', (res, socket) => resolve({ status: res.statusCode ?? 0, socket }));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  const root = path.join(tmp, 'www');
  await mkdir(root);
  await writeFile(path.join(root, 'registry.json'), '{"via":"proxy"}');
  target = await cleanup.add(startStaticServer({ root }));
  proxy = await cleanup.add(startForwardProxy());
});
afterAll(() => cleanup.run());

describe('startForwardProxy', () => {
  it('forwards absolute-URI requests and logs the target', async () => {
    const url = `${target.url}registry.json`;
    const res = await viaProxy(proxy.port, url);
    expect(res).toEqual({ status: 200, body: '{"via":"proxy"}' });
    expect(proxy.requests.at(-1)).toEqual({ method: 'GET', target: url, status: 200, proxyAuthorization: false });
    expect(target.requests.at(-1)).toMatchObject({ path: '/registry.json', status: 200 });
  });

  it('tunnels CONNECT to the target and logs host:port', async () => {
    const authority = `127.0.0.1:${target.port}`;
    const { status, socket } = await connect(proxy.port, authority);
    expect(status).toBe(200);
    const response = await new Promise<string>((resolve) => {
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
      });
      socket.on('end', () => resolve(data));
      socket.write(`GET /registry.json HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    });
    expect(response).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(response.endsWith('{"via":"proxy"}')).toBe(true);
    expect(proxy.requests.at(-1)).toEqual({ method: 'CONNECT', target: authority, status: 200, proxyAuthorization: false });
  });

  it('is honoured by git via http.proxy', async () => {
    const home = path.join(tmp, 'home');
    await mkdir(home);
    const repo = await cleanup.add(createGitRepo({ 'a.txt': 'a' }, { root: path.join(tmp, 'git'), name: 'proxied' }));
    const server = await cleanup.add(startGitHttpServer({ root: repo.root }));
    const { stdout } = await runGit(['-c', `http.proxy=${proxy.url}`, 'ls-remote', server.repoUrl('proxied')], { home });
    expect(stdout).toContain(repo.initialCommit);
    expect(proxy.requests.map((request) => request.target)).toContain(`${server.repoUrl('proxied')}/info/refs?service=git-upload-pack`);
  });

  it('refuses targets off loopback without contacting them', async () => {
    expect((await viaProxy(proxy.port, 'http://192.0.2.1/registry.json')).status).toBe(403);
    expect((await connect(proxy.port, '192.0.2.1:443')).status).toBe(403);
    expect(proxy.requests.slice(-2).map((request) => request.status)).toEqual([403, 403]);
  });

  it('resolves the names of its own DNS view (hosts) to loopback, for plain requests and tunnels', async () => {
    const viewing = await cleanup.add(startForwardProxy({ hosts: { 'nowhere.invalid': '127.0.0.1' } }));
    const url = `http://nowhere.invalid:${target.port}/registry.json`;
    expect(await viaProxy(viewing.port, url)).toEqual({ status: 200, body: '{"via":"proxy"}' });
    expect((await connect(viewing.port, `nowhere.invalid:${target.port}`)).status).toBe(200);
    // Without the view, the name is not on loopback, and is refused like any other.
    expect((await viaProxy(proxy.port, url)).status).toBe(403);
    await expect(startForwardProxy({ hosts: { 'nowhere.invalid': '192.0.2.1' } })).rejects.toThrow(/loopback/);
  });

  it('demands Proxy-Authorization when configured', async () => {
    const guarded = await cleanup.add(startForwardProxy({ auth: { username: 'u', password: 'p' } }));
    const url = `${target.url}registry.json`;
    expect((await viaProxy(guarded.port, url)).status).toBe(407);
    expect((await connect(guarded.port, `127.0.0.1:${target.port}`)).status).toBe(407);
    const ok = await viaProxy(guarded.port, url, { 'proxy-authorization': basicAuthHeader('u', 'p') });
    expect(ok.status).toBe(200);
    expect(guarded.requests.map((request) => [request.status, request.proxyAuthorization])).toEqual([
      [407, false],
      [407, false],
      [200, true],
    ]);
    // The proxy credential is for the proxy only: it must not travel on to the target.
    expect(target.requests.at(-1)?.headers['proxy-authorization']).toBeUndefined();
  });
});
