import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, type HostileServer, makeTempDir, startHostileServer, startStaticServer, type StaticServer } from '../src/index.js';

const cleanup = new Cleanup();
let target: StaticServer;
let hostile: HostileServer;
const SECRET = 'watched-secret-0123456789';

/** GET with a raw client (no pooling), reporting status and the first `max` body bytes, or the error. */
function get(url: string, headers: Record<string, string> = {}, max = 1024, timeoutMs = 2000): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('latin1');
        if (body.length >= max) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, body: body.slice(0, max) });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ status: 0, body: '', error: 'timeout' });
    });
    req.on('error', (error) => resolve({ status: 0, body: '', error: error.message }));
  });
}

beforeAll(async () => {
  const root = (await cleanup.add(makeTempDir())).path;
  await writeFile(`${root}/doc.json`, '{"ok":true}');
  target = await cleanup.add(startStaticServer({ root }));
  hostile = await cleanup.add(startHostileServer({ target: target.url, watch: [SECRET] }));
});
afterAll(() => cleanup.run());

describe('startHostileServer', () => {
  it('forwards by default, adding response headers when asked, and logs whether a watched secret came along', async () => {
    expect(await get(`${hostile.url}doc.json`, { authorization: `Bearer ${SECRET}` })).toMatchObject({ status: 200, body: '{"ok":true}' });
    hostile.setRespond(() => ({ kind: 'forward', headers: { vary: 'Authorization' } }));
    const res = await fetch(`${hostile.url}doc.json?t=${SECRET}`);
    expect(res.headers.get('vary')).toBe('Authorization');
    await res.arrayBuffer();
    expect(hostile.requests.map((r) => [r.authorization, r.leaked])).toEqual([
      [true, true],
      [false, true],
    ]);
    expect(JSON.stringify(hostile.requests)).not.toContain(SECRET);
  });

  it('redirects, replies, trickles, stays silent and streams without end', async () => {
    hostile.setRespond(({ url }) => {
      if (url === '/redirect') return { kind: 'redirect', location: `${target.url}doc.json` };
      if (url === '/reply') return { kind: 'reply', status: 200, body: 'not json' };
      if (url === '/trickle') return { kind: 'trickle', intervalMs: 20 };
      if (url === '/silent') return { kind: 'silent' };
      return { kind: 'endless' };
    });
    const redirect = await fetch(`${hostile.url}redirect`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, `${target.url}doc.json`]);
    expect(await get(`${hostile.url}reply`)).toMatchObject({ status: 200, body: 'not json' });
    expect(await get(`${hostile.url}trickle`, {}, 5)).toEqual({ status: 200, body: '{{{{{' });
    expect(await get(`${hostile.url}silent`, {}, 1, 300)).toMatchObject({ error: 'timeout' });
    const endless = await get(`${hostile.url}endless`, {}, 1024 * 1024);
    expect(endless.body.length).toBe(1024 * 1024);
  });

  it('resets connections, and forwards with the body replaced but the headers kept', async () => {
    hostile.setRespond(({ url }) => (url === '/reset' ? { kind: 'reset' } : { kind: 'forward', body: 'garbage!' }));
    expect((await get(`${hostile.url}reset`)).error).toMatch(/ECONNRESET|socket hang up/);
    const direct = await fetch(`${target.url}doc.json`);
    await direct.arrayBuffer();
    const replaced = await fetch(`${hostile.url}doc.json`);
    expect([replaced.status, replaced.headers.get('etag'), replaced.headers.get('content-length'), await replaced.text()]).toEqual([
      200,
      direct.headers.get('etag'),
      '8',
      'garbage!',
    ]);
  });
});
