import { readFileSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  checkAuthorization,
  FaultTable,
  freePort,
  isLoopbackHost,
  makeTempDir,
  parseCgiHeaders,
  refusedPort,
  startStaticServer,
  withServers,
} from '../src/index.js';

describe('freePort', () => {
  it('returns a port on 127.0.0.1 that can be bound', async () => {
    // Another worker may take a port between freePort() and listen(), which is why callers retry; so does this test.
    let bound = false;
    for (let attempt = 0; attempt < 5 && !bound; attempt++) {
      const port = await freePort();
      expect(port).toBeGreaterThan(0);
      const server = net.createServer();
      bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(bound).toBe(true);
  });
});

describe('refusedPort', () => {
  it('returns a port below the ephemeral range where connections are refused', async () => {
    const port = await refusedPort();
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    expect(port).toBeLessThan(low);
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', resolve);
    });
    expect(error?.code).toBe('ECONNREFUSED');
  });
});

describe('withServers', () => {
  it('closes everything it was given, even when the body throws', async () => {
    const dir = await makeTempDir();
    let closed = false;
    await expect(
      withServers(async (use) => {
        await use(dir);
        await mkdir(`${dir.path}/www`);
        const server = await use(startStaticServer({ root: `${dir.path}/www` }));
        expect((await fetch(`${server.url}missing`)).status).toBe(404);
        await use({
          close: async () => {
            closed = true;
          },
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(access(dir.path)).rejects.toThrow();
    expect(closed).toBe(true);
  });
});

describe('parseCgiHeaders', () => {
  it('turns Status into the code and keeps repeated headers', () => {
    expect(parseCgiHeaders('Status: 404 Not Found\r\nX-A: 1\r\nX-A: 2\r\nContent-Type: text/plain')).toEqual({
      status: 404,
      headers: { 'x-a': ['1', '2'], 'content-type': 'text/plain' },
    });
    expect(parseCgiHeaders('Content-Type: application/x-git-upload-pack-advertisement').status).toBe(200);
  });
});

describe('checkAuthorization', () => {
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  it.each([
    [basic('alice', 'pw'), { type: 'basic', username: 'alice', password: 'pw' }, 'alice'],
    [basic('alice', 'nope'), { type: 'basic', username: 'alice', password: 'pw' }, undefined],
    ['Bearer t1', { type: 'bearer', token: 't1' }, 'token'],
    ['Bearer t2', { type: 'bearer', token: 't1' }, undefined],
    [basic('x-access-token', 't1'), { type: 'bearer', token: 't1' }, 'x-access-token'],
    ['Bearer t1', { type: 'basic', username: 'alice', password: 't1' }, undefined],
    [undefined, { type: 'bearer', token: 't1' }, undefined],
  ] as const)('%s against %o → %s', (header, auth, expected) => {
    expect(checkAuthorization(header, auth)).toBe(expected);
  });
});

describe('FaultTable', () => {
  it('matches exact paths, * patterns and regexps, and counts uses', () => {
    const table = new FaultTable([
      { kind: 'delay', ms: 1, path: '/exact.json', times: 1 },
      { kind: 'garbage', path: '/registry/*' },
      { kind: 'truncate', path: /\.tgz$/ },
    ]);
    expect(table.take('/exact.json')?.kind).toBe('delay');
    expect(table.take('/exact.json')).toBeUndefined();
    expect(table.take('/registry/a/b.json')?.kind).toBe('garbage');
    expect(table.take('/pkg-1.0.0.tgz')?.kind).toBe('truncate');
    expect(table.take('/other')).toBeUndefined();
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['[::1]', true],
    ['192.0.2.1', false],
    ['example.com', false],
    ['127.0.0.1.example.com', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
