#!/usr/bin/env node
// A small host for the page's "Hybrid (Official + Custom)" case. It runs in its project folder (the working
// directory), whose .npmrc tells npm, and so the `npm` registry, where @framers packages come from. It shows which
// registry the resolver picks per kind, lists both registries, loads a tool (custom) and a persona (official).
import { createRegistry, isRegistryError } from 'agentos-registry';
import { registryConfig } from './agentos-registry.config.mjs';

async function main() {
  const registry = await createRegistry(registryConfig, {
    // The project folder: its .npmrc is read the way npm reads it (also the default; written out to be plain).
    baseDir: process.cwd(),
    onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`),
  });
  try {
    for (const kind of ['tool', 'guardrail', 'workflow', 'persona']) console.log(`resolver('${kind}') -> ${registry.registryFor(kind)}`);

    console.log('\nEvery entry of both registries:');
    for (const row of await registry.list()) console.log(`  ${row.registry.padEnd(9)} ${row.id}@${row.version}  ${row.kinds.join(',')}`);

    const tool = await registry.load('tool', 'com.example.echo');
    if (tool.type !== 'extension') throw new Error('expected an extension pack');
    const echo = tool.pack.descriptors.find((d) => d.id === 'echo').payload;
    const answer = await echo.execute({ text: 'tools come from custom', uppercase: true }, {});
    const { provenance } = tool.fetched;
    console.log(`\ntool ${tool.fetched.id} from "${provenance.registry}" (${provenance.sourceType}, commit ${provenance.revision.slice(0, 12)})`);
    console.log(`  echo -> ${answer.output.text}`);

    const persona = await registry.load('persona', 'com.example.helpful-assistant');
    if (persona.type !== 'persona') throw new Error('expected a persona');
    const from = persona.fetched.provenance;
    console.log(`persona ${persona.persona.id} from "${from.registry}" (${from.sourceType}, ${from.location})`);
    console.log(`  ${persona.persona.name}: ${persona.persona.description}`);
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
