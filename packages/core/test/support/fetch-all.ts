// Child process for the multi-process cache test: fetches every entry of a registry into a shared cache folder
// and prints id → integrity as JSON.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyDirectory, createRegistry, defineSource } from '../../src/index.js';

const [location, cache] = process.argv.slice(2) as [string, string];
const source = defineSource({
  type: 'dir',
  create: (config) => ({
    displayLocation: config.location,
    revision: async () => ({
      id: createHash('sha256')
        .update(await readFile(join(config.location, 'registry.json')))
        .digest('hex'),
    }),
    readIndex: async () => readFile(join(config.location, 'registry.json')),
    materialize: async (request, ctx) => copyDirectory(join(config.location, request.path), request.destination, { signal: ctx.signal }),
  }),
});
const registry = await createRegistry(
  { registries: { default: { type: 'dir', location } }, cacheSettings: { directory: cache } },
  { sources: [source], env: {} },
);
const out: Record<string, string> = {};
for (let round = 0; round < 5; round++) {
  const [tool, persona] = await Promise.all([registry.fetch('tool', 'com.test.echo'), registry.fetch('persona', 'com.test.helper')]);
  out[tool.id] = tool.integrity;
  out[persona.id] = persona.integrity;
}
await registry.close();
process.stdout.write(JSON.stringify(out));
