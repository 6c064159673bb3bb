#!/usr/bin/env node
// `npm run version-packages`: `changeset version`, then one fix-up changesets cannot express.
//
// The adapters peer-depend on core with `workspace:>=X.Y.0 <N` (N = 1 while core is 0.x, else the next major), not
// `workspace:^`: to changesets, a 0.x minor of core leaves `^0.1.0`, and a peer leaving its range makes every
// adapter a major (1.0.0) — with the `fixed` group, every package. With the wide range and
// `onlyUpdatePeerDependentsWhenOutOfRange`, a core minor stays inside it and the packages bump as the changesets say.
// changesets leaves an in-range peer range alone, so the lower bound would stay at the first core these adapters
// ever accepted; this script moves it to the minor line being released (every public package releases together, see
// the `fixed` group), so an adapter never claims to work with a core older than the one it was built against.
// When core leaves the range (its first major), changesets writes `workspace:>=1.0.0`; this puts the bound back.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const peersOnly = process.argv.includes('--peers-only');

if (!peersOnly) {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'changeset'), ['version'], { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const packagesDir = join(root, 'packages');
const manifests = new Map();
for (const name of readdirSync(packagesDir)) {
  const file = join(packagesDir, name, 'package.json');
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue;
  }
  const json = JSON.parse(text);
  manifests.set(json.name, { file, text, json });
}

/** The peer range an adapter released next to `version` of a workspace package declares for it. */
function peerRangeFor(version) {
  const [major, minor] = version.split('.').map(Number);
  return major === 0 ? `>=0.${minor}.0 <1` : `>=${major}.${minor}.0 <${major + 1}`;
}

for (const { file, text, json } of manifests.values()) {
  if (json.private) continue;
  let changed = false;
  for (const [dep, range] of Object.entries(json.peerDependencies ?? {})) {
    const target = manifests.get(dep);
    if (!target || typeof range !== 'string' || !range.startsWith('workspace:')) continue;
    const wanted = `workspace:${peerRangeFor(target.json.version)}`;
    if (range !== wanted) {
      json.peerDependencies[dep] = wanted;
      changed = true;
      console.log(`${json.name}: peer ${dep} ${range} -> ${wanted}`);
    }
  }
  if (changed) writeFileSync(file, `${JSON.stringify(json, null, 2)}${text.endsWith('\n') ? '\n' : ''}`);
}
