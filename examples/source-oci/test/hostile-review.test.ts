/**
 * Hostile review of the OCI example: policy.allowHosts on a blob redirect and a token realm, and a 401 answered by a
 * host the registry redirected to (it must get no login through a realm of its choosing).
 */
import { conformanceFixture } from '@agentos-registry/source-testkit';
import { hasDockerRegistry, makeTempDir } from '@agentos-registry/test-servers';
import { afterEach, describe, expect, test } from 'vitest';
import { codeOf, LOGIN, opened, published, registryFor } from './support/publish.js';

const echo = conformanceFixture.entries[0]!;
const cleanup = opened;
afterEach(async () => {
  for (const item of cleanup.splice(0).reverse()) await item.close();
});

const hasRegistry = hasDockerRegistry();

describe.skipIf(!hasRegistry)('hostile review: policy.allowHosts on the OCI paths', () => {
  test('a blob redirect to an unlisted host is E_POLICY, and the blob host sees no request', async () => {
    const { server, location, dir } = await published({ redirectBlobs: true });
    const result = await codeOf((await registryFor(location, dir, {}, {}, { allowHosts: [server.host] })).fetch('tool', echo.id));
    expect(result).toBe('E_POLICY');
    expect(server.blobHostRequests).toEqual([]);
  });

  test('a token realm on an unlisted host is E_POLICY, and the token server sees no request', async () => {
    const { server, location, dir } = await published({ auth: 'token' });
    const pushed = server.tokenRequests.length; // the push asked for its own tokens
    const result = await codeOf((await registryFor(location, dir, { token: LOGIN }, {}, { allowHosts: [server.host] })).fetch('tool', echo.id));
    expect(result).toBe('E_POLICY');
    expect(server.tokenRequests.length).toBe(pushed);
  });
});

describe('hostile review: a 401 from the host a registry redirected to', () => {
  test('its Bearer challenge gets no login: the user:password goes to no realm that host names', async () => {
    const { createServer } = await import('node:http');
    const seen: string[] = [];
    const listen = (handler: Parameters<typeof createServer>[1]) =>
      new Promise<{ port: number; close(): Promise<void> }>((resolve) => {
        const server = createServer(handler).listen(0, '127.0.0.1', () => {
          const port = (server.address() as { port: number }).port;
          resolve({ port, close: () => new Promise<void>((done) => server.close(() => done())) });
        });
      });
    const other = await listen((req, res) => {
      if (req.url?.startsWith('/token')) {
        seen.push(req.headers.authorization ?? '(none)');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}');
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${otherPort}/token",service="x"` }).end();
    });
    const otherPort = other.port;
    cleanup.push(other);
    const registry = await listen((req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${otherPort}${req.url}` }).end();
    });
    cleanup.push(registry);
    const dir = await makeTempDir('source-oci-hostile-');
    cleanup.push(dir);
    const result = await codeOf(
      registryFor(`oci://127.0.0.1:${registry.port}/agentos/registry:1.0.0`, dir, { token: 'user:secret-password' }).then((r) => r.list()),
    );
    expect(result).not.toBe('resolved');
    expect(seen.filter((auth) => auth.toLowerCase().startsWith('basic'))).toEqual([]);
  });
});

describe('hostile review: a manifest past limits.index', () => {
  test('an endless manifest answer is E_TOO_LARGE, not read to the end', async () => {
    const { createServer } = await import('node:http');
    let sent = 0;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent >= 64 * 1024 * 1024) res.end();
        else res.once('drain', pump);
      };
      res.write('{"layers":[');
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanup.push({ close: () => new Promise<void>((done) => server.close(() => done())) });
    const port = (server.address() as { port: number }).port;
    const dir = await makeTempDir('source-oci-hostile-');
    cleanup.push(dir);
    const registry = await registryFor(`oci://127.0.0.1:${port}/agentos/registry:1.0.0`, dir, { limits: { index: 1024 * 1024 } });
    expect(await codeOf(registry.list())).toBe('E_TOO_LARGE');
    server.closeAllConnections();
  });
});
