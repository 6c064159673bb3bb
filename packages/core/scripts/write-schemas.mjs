// Writes the JSON Schemas for registry.json, manifest.json and persona.json from the zod definitions in
// src/schema.ts (through the build output), so types, validation and schemas cannot drift apart.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from '../dist/index.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');
await mkdir(out, { recursive: true });
for (const [name, schema] of Object.entries(jsonSchemas())) {
  await writeFile(join(out, `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
}
