#!/usr/bin/env node
// Fleet (issue 18): a registry mirrored from a git server (examples/registry-template, served by the git smart-HTTP
// test server and cloned once) is pushed with `agentos-registry-oci push` to a real docker-registry on 127.0.0.1; then
// 20 hosts — separate processes, separate cache folders — each load a tool through `oci`, and then each revalidates
// the unchanged registry (`cacheDuration: 0`) and loads it again. The hosts run one after another, so every request in
// the registry's own access log is attributed to its host. Prints, never asserts; not run in CI.
// Needs docker-registry and the built packages: `node scripts/run.mjs turbo build`, then `node examples/source-oci/fleet.mjs`.
// FLEET_AUTH=htpasswd|token runs it against an authenticated registry; FLEET_HOSTS changes the number of hosts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const here = import.meta.dirname;
const root = join(here, '..', '..');
const dists = [join(root, 'packages/core/dist/index.js'), join(root, 'packages/test-servers/dist/index.js'), join(here, 'dist/index.js')];
if (dists.some((file) => !existsSync(file))) {
  console.error('fleet.mjs needs the built packages: node scripts/run.mjs turbo build');
  process.exit(1);
}
const [core, servers, oci] = await Promise.all(dists.map((file) => import(file)));
const TOOL = 'com.example.echo';
// Asynchronous: the git server runs in this process, and the registry's access log is read by this event loop.
const run = promisify(execFile);

if (process.argv[2] === 'host') {
  // One host: its own process and cache folder; the login, if any, comes from the environment as a config would say.
  const [, , , location, cache] = process.argv;
  const token = process.env.FLEET_TOKEN;
  const config = {
    registries: { corp: { type: 'oci', location, plainHttp: true, cacheDuration: 0, ...(token ? { token } : {}) } },
    defaultRegistries: { tool: 'corp' },
    cacheSettings: { directory: cache },
  };
  const registry = await core.createRegistry(config, { sources: [oci.ociSource()] });
  const loaded = await registry.load('tool', TOOL);
  await registry.close();
  process.stdout.write(`${loaded.pack.name} ${loaded.pack.descriptors.map((d) => `${d.kind}:${d.id}`).join(',')}\n`);
  process.exit(0);
}

const HOSTS = Number(process.env.FLEET_HOSTS ?? 20);
const auth = process.env.FLEET_AUTH ?? 'none';
const work = await mkdtemp(join(tmpdir(), 'oci-fleet-'));
const repo = await servers.createGitRepo(join(root, 'examples/registry-template'), { name: 'registry' });
const origin = await servers.startGitHttpServer({ root: repo.root });
const registryServer = await servers.startOciRegistry({ auth });
const token = auth === 'none' ? undefined : `${servers.OCI_TEST_USER.username}:${servers.OCI_TEST_USER.password}`;
const env = { ...process.env, ...(token ? { FLEET_TOKEN: token, AGENTOS_OCI_TOKEN: token } : {}) };
try {
  const mirror = join(work, 'mirror');
  await run('git', ['clone', '--quiet', origin.repoUrl('registry'), mirror], { env });
  const location = `oci://${registryServer.host}/agentos/registry-template:1.0.0`;
  const { stdout: pushed } = await run(process.execPath, [join(here, 'dist/cli.js'), 'push', mirror, location, '--plain-http'], { env });
  console.log(`pushed ${pushed.trim()}  (auth: ${auth})`);
  const originBefore = origin.requests.length;

  const kind = (r) => `${r.method} ${r.path.includes('/manifests/') ? 'manifest' : r.path.includes('/blobs/') ? 'blob' : r.path} ${r.status}`;
  async function round(name) {
    const perHost = [];
    for (let i = 0; i < HOSTS; i++) {
      const before = registryServer.requests().length;
      const { stdout } = await run(process.execPath, [import.meta.filename, 'host', location, join(work, `cache-${i}`)], { env });
      if (i === 0) console.log(`  host 0 loaded: ${stdout.trim()}`);
      perHost.push(registryServer.requests().slice(before).map(kind));
    }
    const shapes = new Map();
    for (const requests of perHost) shapes.set(requests.join(' + '), (shapes.get(requests.join(' + ')) ?? 0) + 1);
    const total = perHost.reduce((sum, requests) => sum + requests.length, 0);
    console.log(`${name}: ${total} requests to the OCI registry from ${HOSTS} hosts (${(total / HOSTS).toFixed(2)} per host)`);
    for (const [shape, count] of shapes) console.log(`  ${count} host(s): ${shape || '(none)'}`);
  }
  await round('cold load, separate caches');
  await round('unchanged revalidation + load, same caches');
  console.log(`origin git server: ${origin.requests.length - originBefore} requests from the fleet (${originBefore} for the one mirror clone)`);
  if (auth === 'token') console.log(`token server: ${registryServer.tokenRequests.length} token requests in all`);
} finally {
  await registryServer.close();
  await origin.close();
  await repo.close();
  await rm(work, { recursive: true, force: true });
}
