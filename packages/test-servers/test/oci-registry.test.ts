import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { basicAuthHeader, hasDockerRegistry, OCI_TEST_USER, type OciRegistry, startOciRegistry } from '../src/index.js';

const servers: OciRegistry[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function start(options: Parameters<typeof startOciRegistry>[0]) {
  const server = await startOciRegistry(options);
  servers.push(server);
  return server;
}

describe.skipIf(!hasDockerRegistry())('startOciRegistry (docker-registry; apt-get install docker-registry)', () => {
  test('anonymous: /v2/ answers 200, and the access log records it', async () => {
    const server = await start({});
    expect((await fetch(`${server.url}/v2/`)).status).toBe(200);
    await expect.poll(() => server.requests().some((r) => r.method === 'GET' && r.path === '/v2/' && r.status === 200)).toBe(true);
  });

  test('htpasswd: 401 with a Basic challenge, 200 with the test user', async () => {
    const server = await start({ auth: 'htpasswd' });
    const anonymous = await fetch(`${server.url}/v2/`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')?.split(' ')[0]]).toEqual([401, 'Basic']);
    const authorization = basicAuthHeader(OCI_TEST_USER.username, OCI_TEST_USER.password);
    expect((await fetch(`${server.url}/v2/`, { headers: { authorization } })).status).toBe(200);
  });

  test('token: the challenge names the realm; its token is accepted, a wrong password is refused by the token server', async () => {
    const server = await start({ auth: 'token' });
    const challenge = (await fetch(`${server.url}/v2/`)).headers.get('www-authenticate') ?? '';
    const realm = new URL(/realm="([^"]+)"/.exec(challenge)![1]!);
    realm.searchParams.set('service', /service="([^"]+)"/.exec(challenge)![1]!);
    realm.searchParams.set('scope', 'repository:a/b:pull');
    const wrong = await fetch(realm, { headers: { authorization: basicAuthHeader(OCI_TEST_USER.username, 'wrong') } });
    expect(wrong.status).toBe(401);
    const answer = await fetch(realm, { headers: { authorization: basicAuthHeader(OCI_TEST_USER.username, OCI_TEST_USER.password) } });
    const { token } = (await answer.json()) as { token: string };
    // 404 NAME_UNKNOWN, not 401: the registry accepted the token for the scope.
    expect((await fetch(`${server.url}/v2/a/b/tags/list`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    expect(server.tokenRequests.map((r) => r.authorization)).toEqual(['basic', 'basic']);
  });

  test('redirectBlobs: a blob GET is a 307 to another origin, which serves the stored bytes', async () => {
    const server = await start({ redirectBlobs: true });
    const bytes = new TextEncoder().encode('hello blob');
    const digest = `sha256:${Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex')}`;
    const upload = await fetch(`${server.url}/v2/a/b/blobs/uploads/`, { method: 'POST' });
    const target = new URL(upload.headers.get('location')!, server.url);
    expect(target.origin).toBe(server.url);
    target.searchParams.set('digest', digest);
    expect((await fetch(target, { method: 'PUT', body: bytes })).status).toBe(201);
    const redirect = await fetch(`${server.url}/v2/a/b/blobs/${digest}`, { redirect: 'manual' });
    expect(redirect.status).toBe(307);
    const location = new URL(redirect.headers.get('location')!);
    expect(location.origin).not.toBe(server.url);
    expect(Buffer.from(await (await fetch(location)).arrayBuffer()).toString()).toBe('hello blob');
    expect((await readFile(server.blobFile(digest))).toString()).toBe('hello blob');
  });
});
