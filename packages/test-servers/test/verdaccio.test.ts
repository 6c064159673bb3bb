import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, startVerdaccio, VERDACCIO_PUBLISHER, type VerdaccioServer } from '../src/index.js';

const cleanup = new Cleanup();
let registry: VerdaccioServer;
let token: string;

const pkg = (name: string, version: string) => ({
  'package.json': `${JSON.stringify({ name, version, main: 'index.js' })}\n`,
  'index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`,
});

async function packument(name: string, auth?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${registry.url}${name.replace('/', '%2f')}`, {
    headers: auth === undefined ? {} : { authorization: `Bearer ${auth}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  registry = await cleanup.add(startVerdaccio({ users: { [VERDACCIO_PUBLISHER.user]: VERDACCIO_PUBLISHER.password, reader: 'reader-password' } }));
  token = await registry.tokenFor(VERDACCIO_PUBLISHER.user, VERDACCIO_PUBLISHER.password);
  await Promise.all([registry.publish(pkg('public-thing', '1.0.0'), { token }), registry.publish(pkg('@private/thing', '1.0.0'), { token })]);
  await registry.publish(pkg('public-thing', '2.0.0-beta.1'), { token, tag: 'next' });
});
afterAll(() => cleanup.run());

describe('startVerdaccio', () => {
  it('listens on 127.0.0.1 with a trailing-slash URL', () => {
    expect(registry.url).toBe(`http://127.0.0.1:${registry.port}/`);
  });

  it('publishes with npm and serves the packument with versions, dist-tags and tarballs', async () => {
    const { status, body } = await packument('public-thing');
    expect(status).toBe(200);
    expect(Object.keys(body.versions as object).sort()).toEqual(['1.0.0', '2.0.0-beta.1']);
    expect(body['dist-tags']).toEqual({ latest: '1.0.0', next: '2.0.0-beta.1' });
    const dist = (body.versions as Record<string, { dist: { tarball: string; integrity: string } }>)['1.0.0']!.dist;
    expect(dist.integrity).toMatch(/^sha512-/);
    expect(new URL(dist.tarball).host).toBe(`127.0.0.1:${registry.port}`);
    const tarball = await fetch(dist.tarball);
    expect(tarball.status).toBe(200);
    expect((await tarball.arrayBuffer()).byteLength).toBeGreaterThan(0);
  });

  it('an unknown package is 404: there is no uplink to ask', async () => {
    expect((await packument('left-pad')).status).toBe(404);
    expect(registry.requests.some((r) => r.path === '/left-pad' && r.status === 404)).toBe(true);
  });

  it('the private scope needs a user: 401 without or with a wrong token, 200 with one, 404 for unknown names', async () => {
    expect((await packument('@private/thing')).status).toBe(401);
    expect((await packument('@private/thing', 'not-a-token')).status).toBe(401);
    expect((await packument('@private/thing', token)).status).toBe(200);
    const reader = await registry.tokenFor('reader', 'reader-password');
    expect((await packument('@private/thing', reader)).status).toBe(200);
    expect((await packument('@private/nothing', token)).status).toBe(404);
  });

  it('tokenFor refuses a wrong password, and nobody can register', async () => {
    // A failed Basic login leaves the request anonymous, which Verdaccio then treats as a sign-up: refused.
    await expect(registry.tokenFor('reader', 'wrong-password')).rejects.toThrow(/refused/);
    const response = await fetch(`${registry.url}-/user/org.couchdb.user:mallory`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mallory', password: 'mallory-password' }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
  });

  it('publishing without a valid token fails, and the log keeps no secret', async () => {
    await expect(registry.publish(pkg('unauthorized-thing', '1.0.0'), { token: 'wrong-token-value' })).rejects.toThrow(/npm publish/);
    const logged = JSON.stringify(registry.requests);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain('wrong-token-value');
    expect(registry.requests.some((r) => r.method === 'PUT' && r.authorization)).toBe(true);
  });

  it('refuses a package whose publishConfig points at another registry', async () => {
    const files = {
      'package.json': JSON.stringify({ name: 'escaping-thing', version: '1.0.0', publishConfig: { registry: 'https://registry.example.test/' } }),
    };
    await expect(registry.publish(files, { token })).rejects.toThrow(/publishConfig/);
  });

  it('close() stops the server', async () => {
    const other = await startVerdaccio({ users: { solo: 'solo-password' } });
    expect((await fetch(`${other.url}-/ping`)).status).toBe(200);
    await other.close();
    // Refused — or, should another test's server have taken the freed port meanwhile, at least not this Verdaccio.
    expect(
      await fetch(`${other.url}-/ping`).then(
        (r) => r.status,
        () => 'refused',
      ),
    ).not.toBe(200);
  });
});
