import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuthHeader, Cleanup, createGitRepo, type GitRepo, garbageBytes, makeTempDir, runGit, startGitHttpServer } from '../src/index.js';

const cleanup = new Cleanup();
let tmp: string;
let home: string;
let root: string;
let publicRepo: GitRepo;
let cloneCounter = 0;

const REGISTRY_JSON = '{"version":"1.0.0","extensions":{"curated":[]}}\n';
const git = (...args: string[]) => runGit(args, { home, timeoutMs: 15_000 });
const nextDir = () => path.join(tmp, `clone-${++cloneCounter}`);

beforeAll(async () => {
  tmp = (await cleanup.add(makeTempDir())).path;
  home = path.join(tmp, 'home');
  root = path.join(tmp, 'root');
  await mkdir(home);
  publicRepo = await cleanup.add(
    createGitRepo(
      { 'registry.json': REGISTRY_JSON, 'registry/curated/tool/manifest.json': '{"id":"tool"}\n' },
      { root, name: 'public', branches: ['production', 'stable'] },
    ),
  );
  await cleanup.add(createGitRepo({ 'secret.json': '{"private":true}\n' }, { root, name: 'private' }));
});
afterAll(() => cleanup.run());

describe('startGitHttpServer', () => {
  it('serves a public clone over smart HTTP and logs it', async () => {
    const server = await cleanup.add(startGitHttpServer({ root }));
    const dir = nextDir();
    await git('clone', '--branch', 'production', server.repoUrl('public'), dir);
    expect(await readFile(path.join(dir, 'registry.json'), 'utf8')).toBe(REGISTRY_JSON);
    expect((await git('-C', dir, 'rev-parse', 'HEAD')).stdout.trim()).toBe(publicRepo.initialCommit);

    const [discovery, ...posts] = server.requests;
    expect(discovery).toMatchObject({ method: 'GET', repo: 'public.git', service: 'upload-pack', status: 200, authorization: false });
    expect(discovery?.url).toBe('/public.git/info/refs?service=git-upload-pack');
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) expect(post).toMatchObject({ method: 'POST', status: 200, aborted: false });
    expect(posts.reduce((sum, post) => sum + post.bytesSent, 0)).toBeGreaterThan(100);
  });

  it('demands Basic credentials and never logs them', async () => {
    const server = await cleanup.add(startGitHttpServer({ root, auth: { type: 'basic', username: 'alice', password: 's3cret' } }));
    const url = server.repoUrl('public');

    await expect(git('clone', url, nextDir())).rejects.toThrow();
    expect(server.requests.at(-1)).toMatchObject({ status: 401, authorization: false });

    const wrong = new URL(url);
    wrong.username = 'alice';
    wrong.password = 'wrong';
    await expect(git('clone', wrong.href, nextDir())).rejects.toThrow(/Authentication failed|401/);
    expect(server.requests.at(-1)).toMatchObject({ status: 401, authorization: true });

    const dir = nextDir();
    await git('-c', `http.extraHeader=Authorization: ${basicAuthHeader('alice', 's3cret')}`, 'clone', url, dir);
    expect(await readFile(path.join(dir, 'registry.json'), 'utf8')).toBe(REGISTRY_JSON);
    expect(server.requests.at(-1)).toMatchObject({ status: 200, authorization: true });

    const logged = JSON.stringify(server.requests);
    expect(logged).not.toContain('s3cret');
    expect(logged).not.toContain(basicAuthHeader('alice', 's3cret').slice(6));
  });

  it('protects only privateRepos with a bearer token', async () => {
    const server = await cleanup.add(startGitHttpServer({ root, auth: { type: 'bearer', token: 'tok-123' }, privateRepos: ['private'] }));
    await git('ls-remote', server.repoUrl('public'));
    await expect(git('ls-remote', server.repoUrl('private'))).rejects.toThrow();
    expect(server.requests.at(-1)).toMatchObject({ repo: 'private.git', status: 401 });
    await expect(git('-c', 'http.extraHeader=Authorization: Bearer nope', 'ls-remote', server.repoUrl('private'))).rejects.toThrow();

    const dir = nextDir();
    await git('-c', 'http.extraHeader=Authorization: Bearer tok-123', 'clone', server.repoUrl('private'), dir);
    expect(JSON.parse(await readFile(path.join(dir, 'secret.json'), 'utf8'))).toEqual({ private: true });
    // Git's credential helpers only speak Basic, so the token also works as a Basic password.
    const asBasic = new URL(server.repoUrl('private'));
    asBasic.username = 'x-access-token';
    asBasic.password = 'tok-123';
    await git('ls-remote', asBasic.href);
    expect(JSON.stringify(server.requests)).not.toContain('tok-123');
  });

  it('supports partial clone (--filter=blob:none) and lazy blob fetches', async () => {
    const server = await cleanup.add(startGitHttpServer({ root }));
    const dir = nextDir();
    await git('clone', '--filter=blob:none', '--no-checkout', server.repoUrl('public'), dir);
    expect((await git('-C', dir, 'config', 'remote.origin.promisor')).stdout.trim()).toBe('true');
    const missing = (await git('-C', dir, 'rev-list', '--objects', '--all', '--missing=print')).stdout.split('\n').filter((line) => line.startsWith('?'));
    expect(missing).toHaveLength(2);
    const before = server.requests.length;
    // Reading a blob that was filtered out makes git fetch it from the promisor remote.
    expect((await git('-C', dir, 'show', 'HEAD:registry.json')).stdout).toBe(REGISTRY_JSON);
    expect(server.requests.length).toBeGreaterThan(before);
  });

  it('allows fetching a commit by sha that no ref points at', async () => {
    const repo = await cleanup.add(createGitRepo({ 'v.txt': 'one' }, { root, name: 'by-sha' }));
    await repo.commit('main', { 'v.txt': 'two' });
    const server = await cleanup.add(startGitHttpServer({ root }));
    const dir = nextDir();
    await git('init', '-q', dir);
    // Protocol v0 refuses non-tip wants unless uploadpack.allowAnySHA1InWant (or reachable) is on.
    await git('-C', dir, '-c', 'protocol.version=0', 'fetch', server.repoUrl('by-sha'), repo.initialCommit);
    expect((await git('-C', dir, 'rev-parse', 'FETCH_HEAD')).stdout.trim()).toBe(repo.initialCommit);
  });

  it('accepts gzip-encoded request bodies (large fetch negotiations)', async () => {
    const repo = await cleanup.add(createGitRepo({ 'base.txt': 'base' }, { root, name: 'many-refs' }));
    // Thirty annotated tags are thirty distinct wants, a request over 1 KiB, which git sends gzip-compressed.
    for (let i = 0; i < 30; i++) await repo.tag(`v${i}`, { message: `release ${i}` });
    const server = await cleanup.add(startGitHttpServer({ root }));
    const dir = nextDir();
    await git('clone', '--mirror', server.repoUrl('many-refs'), dir);
    const tags = (await git('--git-dir', dir, 'for-each-ref', 'refs/tags')).stdout.trim().split('\n');
    expect(tags).toHaveLength(30);
    const gzipped = server.requests.filter((request) => request.contentEncoding === 'gzip');
    expect(gzipped.length).toBeGreaterThan(0);
    expect(gzipped.every((request) => request.status === 200)).toBe(true);
  });

  it('failNext cuts an upload-pack response mid-transfer, then recovers', async () => {
    // Incompressible content makes a pack big enough to be cut well inside the pack data.
    await cleanup.add(createGitRepo({ 'blob.bin': garbageBytes(120_000) }, { root, name: 'big' }));
    const server = await cleanup.add(startGitHttpServer({ root }));
    server.failNext({ afterBytes: 50_000 });
    expect(server.faultArmed).toBe(true);
    await expect(git('clone', server.repoUrl('big'), nextDir())).rejects.toThrow(/RPC failed|early EOF|transfer closed/);
    expect(server.faultArmed).toBe(false);
    const cut = server.requests.find((request) => request.aborted);
    expect(cut).toMatchObject({ method: 'POST', service: 'upload-pack', bytesSent: 50_000 });

    const dir = nextDir();
    await git('clone', server.repoUrl('big'), dir);
    expect(await readFile(path.join(dir, 'blob.bin'))).toEqual(garbageBytes(120_000));
  });

  it('kill() aborts a request in flight', async () => {
    const server = await cleanup.add(startGitHttpServer({ root }));
    // A request body that never ends: http-backend waits for the rest, so the request stays in flight.
    const want = `want ${publicRepo.initialCommit}\n`;
    const pkt = `${(want.length + 4).toString(16).padStart(4, '0')}${want}`;
    const failed = new Promise<Error>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: '/public.git/git-upload-pack',
        headers: { 'content-type': 'application/x-git-upload-pack-request' },
        agent: false,
      });
      req.on('error', resolve);
      req.on('response', (res) => {
        res.on('error', resolve);
        res.on('end', () => resolve(new Error('response completed')));
        res.resume();
      });
      req.write(pkt);
    });
    await expect.poll(() => server.requests.length).toBe(1);
    await server.kill();
    expect((await failed).message).not.toBe('response completed');
    await expect.poll(() => server.requests[0]?.aborted).toBe(true);
  });

  it('kill() makes the server unreachable', async () => {
    const server = await cleanup.add(startGitHttpServer({ root }));
    await git('ls-remote', server.repoUrl('public'));
    await server.kill();
    await expect(git('ls-remote', server.repoUrl('public'))).rejects.toThrow(/Failed to connect|Connection refused|unable to access/);
  });

  it('a killed server keeps its port until close(), so no other server can answer in its place', async () => {
    const server = await startGitHttpServer({ root });
    await server.kill();
    const bind = () =>
      new Promise<string>((resolve) => {
        const other = http.createServer();
        other.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        other.listen(server.port, '127.0.0.1', () => other.close(() => resolve('bound')));
      });
    expect(await bind()).toBe('EADDRINUSE');
    // Meanwhile every connection is reset, as a dead server's fails.
    const failure = await new Promise<string | undefined>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.once('data', () => resolve('answered'));
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.once('close', () => resolve('closed'));
    });
    expect(failure).toBe('ECONNRESET');
    await server.close();
  });
});
