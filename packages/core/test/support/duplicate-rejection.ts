/**
 * Run as its own process (Node's default unhandled-rejection handling, no vitest listeners): loads `count` ES module
 * extensions at once, each importing a CommonJS package that throws while loading, and (with `foreign`) lets one of
 * those packages also leave a rejection of its own unhandled (with `window`, the host leaves one while the loader waits
 * out the duplicates; `window-same` loads one extension `count` times at once, so the waits overlap) — a real bug the host must still die of. Prints
 * `loaded <codes>` when every load has settled and nothing ended the process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadExtensionPack } from '../../src/loader.js';
import type { FetchedEntry } from '../../src/types.js';

const [root, countText, mode] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);

function extension(i: number): FetchedEntry {
  const dir = join(root, `ext-${i}`);
  mkdirSync(join(dir, 'node_modules', 'binding'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `ext-${i}`, version: '1.0.0', type: 'module', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), "import binding from 'binding';\nexport function createExtensionPack() { return { descriptors: [] }; }\n");
  writeFileSync(join(dir, 'node_modules', 'binding', 'package.json'), JSON.stringify({ name: 'binding', version: '1.0.0', main: 'index.js' }));
  const foreign = mode === 'foreign' && i === 0 ? "Promise.reject(new Error('host bug: nobody handles this'));\n" : '';
  const thrown = mode === 'string' ? "throw 'binding not built';\n" : "throw new Error('binding not built');\n";
  writeFileSync(join(dir, 'node_modules', 'binding', 'index.js'), `${foreign}${thrown}`);
  return {
    id: `ext-${i}`,
    version: '1.0.0',
    registry: 'local',
    dir,
    manifest: { id: `ext-${i}`, name: `ext-${i}`, version: '1.0.0' },
  } as unknown as FetchedEntry;
}

if (mode.startsWith('window')) {
  // A real unhandled rejection of the host arriving while the loader waits out the duplicate reports.
  let fired = false;
  process.on('newListener', (event) => {
    if (event !== 'unhandledRejection' || fired) return;
    fired = true;
    setImmediate(() => Promise.reject(new Error('host bug in the window')));
  });
}

const context = { options: {}, getSecret: () => undefined, logger: { debug() {}, info() {}, warn() {}, error() {} } };
const outcomes = await Promise.allSettled(
  Array.from({ length: count }, (_, i) => loadExtensionPack(extension(mode === 'window-same' ? 0 : i), { main: 'index.js', type: 'module' }, context)),
);
// Two more turns, for any report that comes late.
await new Promise((resolve) => setImmediate(resolve));
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(`loaded ${outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : 'ok')).join(',')}`);
