#!/usr/bin/env node
/**
 * Core's archive extractor against archives nobody here made: every npm package named by the real AgentOS extensions
 * registry (../shared/fixtures/agentos-extensions), downloaded with the real npm client (`npm pack`), extracted once
 * with core's `extractTarball` and once with the system's `tar`, and the two trees compared with core's `scanTree`
 * (paths, executable bits, bytes, link targets). It needs the public npm registry, so it is not part of CI.
 *
 *   node scripts/run.mjs turbo build --filter=@agentos-registry/core && node examples/real-world/extract-real-packages.mjs [limit]
 *
 * Prints `identical N of M` and every package whose trees differ or that one side refused.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { extractTarball, scanTree } = await import(join(root, 'packages/core/dist/index.js'));
const fixture = process.env.AGENTOS_FIXTURES_DIR ?? join(root, '..', 'shared', 'fixtures', 'agentos-extensions');
const limit = Number(process.argv[2] ?? Infinity);

const names = new Set();
(function walk(node) {
  if (Array.isArray(node)) node.forEach(walk);
  else if (node && typeof node === 'object') {
    if (typeof node.package === 'string') names.add(node.package);
    Object.values(node).forEach(walk);
  }
})(JSON.parse(readFileSync(join(fixture, 'registry.json'), 'utf8')));

const work = await mkdtemp(join(tmpdir(), 'real-archives-'));
let identical = 0;
let tried = 0;
const problems = [];
try {
  for (const name of [...names].sort().slice(0, limit)) {
    const dir = join(work, name.replace(/[@/]/g, '_'));
    await mkdir(dir, { recursive: true });
    let file;
    try {
      execFileSync('npm', ['pack', name, '--loglevel=error', '--pack-destination', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      file = join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.tgz')),
      );
    } catch (error) {
      problems.push(`${name}: npm pack failed (${String(error.stderr ?? error.message).split('\n')[0]})`);
      continue;
    }
    tried += 1;
    const ours = join(dir, 'ours');
    const theirs = join(dir, 'tar');
    await mkdir(theirs);
    execFileSync('tar', ['-xzf', file, '-C', theirs, '--strip-components=1', '--no-same-owner']);
    try {
      await extractTarball(createReadStream(file), ours, { strip: 1, registry: 'real-world' });
    } catch (error) {
      problems.push(`${name}: core refused it: ${error.code} ${error.message}`);
      continue;
    }
    const [a, b] = await Promise.all([scanTree(ours), scanTree(theirs)]);
    if (a.integrity === b.integrity) identical += 1;
    else problems.push(`${name}: trees differ (core ${a.files} files / ${a.bytes} bytes, tar ${b.files} files / ${b.bytes} bytes)`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
for (const line of problems) console.log(line);
console.log(`identical ${identical} of ${tried} (${names.size} packages named by the registry)`);
process.exit(identical === tried ? 0 : 1);
