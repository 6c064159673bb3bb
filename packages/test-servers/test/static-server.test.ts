import { createHash } from 'node:crypto';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, makeTempDir, type StaticServer, startStaticServer } from '../src/index.js';

const cleanup = new Cleanup();
let root: string;
let server: StaticServer;
const INDEX = '{"version":"1.0.0","extensions":{}}\n';

/** A raw request, so paths reach the server exactly as written (fetch would normalise `..`). */
function rawGet(port: number, requestPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: requestPath, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  const tmp = (await cleanup.add(makeTempDir())).path;
  root = path.join(tmp, 'www');
  await mkdir(path.join(root, 'registry', 'curated'), { recursive: true });
  await writeFile(path.join(root, 'registry.json'), INDEX);
  await writeFile(path.join(root, 'registry', 'curated', 'README.md'), '# curated\n');
  await writeFile(path.join(tmp, 'secret.txt'), 'outside the root\n');
  await symlink(path.join(tmp, 'secret.txt'), path.join(root, 'escape.txt'));
  await utimes(path.join(root, 'registry.json'), new Date('2024-02-01T00:00:00Z'), new Date('2024-02-01T00:00:00Z'));
  server = await cleanup.add(startStaticServer({ root }));
});
afterAll(() => cleanup.run());

describe('startStaticServer', () => {
  it('serves files with a content-hash ETag, Last-Modified and content type', async () => {
    const res = await fetch(`${server.url}registry.json`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(INDEX);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('etag')).toBe(`"${createHash('sha256').update(INDEX).digest('base64url')}"`);
    expect(res.headers.get('last-modified')).toBe('Thu, 01 Feb 2024 00:00:00 GMT');
    const md = await fetch(`${server.url}registry/curated/README.md`);
    expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const head = await fetch(`${server.url}registry.json`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(INDEX)));
    expect(await head.text()).toBe('');
  });

  it('answers 304 for a matching If-None-Match and 200 once the file changes', async () => {
    const file = path.join(root, 'changing.json');
    await writeFile(file, '{"v":1}\n');
    const first = await fetch(`${server.url}changing.json`);
    const etag = first.headers.get('etag') ?? '';
    await first.arrayBuffer();
    const cached = await fetch(`${server.url}changing.json`, { headers: { 'if-none-match': etag } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    expect(cached.headers.get('etag')).toBe(etag);
    const weak = await fetch(`${server.url}changing.json`, { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(weak.status).toBe(304);

    await writeFile(file, '{"v":2}\n');
    const changed = await fetch(`${server.url}changing.json`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.json()).toEqual({ v: 2 });
  });

  it('honours If-Modified-Since', async () => {
    const notModified = await fetch(`${server.url}registry.json`, { headers: { 'if-modified-since': 'Thu, 01 Feb 2024 00:00:00 GMT' } });
    expect(notModified.status).toBe(304);
    const modified = await fetch(`${server.url}registry.json`, { headers: { 'if-modified-since': 'Wed, 31 Jan 2024 23:59:59 GMT' } });
    expect(modified.status).toBe(200);
    await modified.arrayBuffer();
  });

  it('gives 404 for missing files and folders', async () => {
    expect((await fetch(`${server.url}nope.json`)).status).toBe(404);
    expect((await fetch(`${server.url}registry/curated`)).status).toBe(404);
    expect(server.requests.at(-1)).toMatchObject({ method: 'GET', path: '/registry/curated', status: 404 });
  });

  it('refuses path traversal, encoded or through a symlink', async () => {
    for (const attempt of [
      '/../secret.txt',
      '/registry/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/registry%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/escape.txt',
    ]) {
      expect(await rawGet(server.port, attempt), attempt).toBe(403);
    }
  });

  it('demands a bearer token when configured and logs only whether one was sent', async () => {
    const secured = await cleanup.add(startStaticServer({ root, auth: { token: 'tok-static' } }));
    const denied = await fetch(`${secured.url}registry.json`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await fetch(`${secured.url}registry.json`, { headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
    const allowed = await fetch(`${secured.url}registry.json`, { headers: { authorization: 'Bearer tok-static', 'x-test': 'yes' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe(INDEX);

    expect(secured.requests.map((request) => [request.status, request.authorization])).toEqual([
      [401, false],
      [401, true],
      [200, true],
    ]);
    expect(secured.requests[2]?.headers['x-test']).toBe('yes');
    expect(secured.requests[2]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(secured.requests)).not.toContain('tok-static');
  });

  it('answers configured redirects with 302 to another origin', async () => {
    const other = await cleanup.add(startStaticServer({ root }));
    const redirecting = await cleanup.add(startStaticServer({ root, redirects: { '/moved.json': `${other.url}registry.json` } }));
    const manual = await fetch(`${redirecting.url}moved.json`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe(`${other.url}registry.json`);
    const followed = await fetch(`${redirecting.url}moved.json`);
    expect(await followed.text()).toBe(INDEX);
    expect(other.requests.map((request) => request.path)).toEqual(['/registry.json']);

    redirecting.setRedirect('/moved.json', undefined);
    expect((await fetch(`${redirecting.url}moved.json`, { redirect: 'manual' })).status).toBe(404);
  });
});
