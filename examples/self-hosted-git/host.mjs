#!/usr/bin/env node
// A small host for the page's "Self-Hosted Git" registry: it reads agentos-registry.config.mjs, lists the registry,
// loads every tool it offers and calls the calculator. The config has no `defaultRegistries`, so references name
// their registry: `custom:<id>`.
import { fileURLToPath } from 'node:url';
import { createRegistry, isRegistryError, loadConfigFile } from 'agentos-registry';

const configFile = fileURLToPath(new URL('./agentos-registry.config.mjs', import.meta.url));

async function main() {
  const { config, baseDir } = await loadConfigFile(configFile);
  const { location, branch } = config.registries.custom;
  console.log(`Registry "custom": ${location} (branch ${branch})`);
  const registry = await createRegistry(config, { baseDir, onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`) });
  try {
    const tools = await registry.list({ registry: 'custom' });
    for (const row of tools) console.log(`  ${row.id}@${row.version}  ${row.kinds.join(',')}  ${row.description ?? ''}`);

    for (const row of tools.filter((r) => r.kinds.includes('tool'))) {
      const loaded = await registry.load('tool', `custom:${row.id}@${row.version}`);
      if (loaded.type !== 'extension') continue;
      const { fetched, pack } = loaded;
      console.log(`loaded ${fetched.id}@${fetched.version}: ${pack.descriptors.map((d) => `${d.kind} ${d.id}`).join(', ')}`);
      console.log(`  commit ${fetched.revision}, integrity ${fetched.integrity.slice(0, 20)}…`);
      if (fetched.id === 'com.example.calculator') {
        const calculator = pack.descriptors.find((d) => d.id === 'calculator').payload;
        const result = await calculator.execute({ operation: 'multiply', a: 6, b: 7 }, {});
        console.log(`  calculator: ${result.success ? result.output.expression : `failed: ${result.error}`}`);
      }
    }
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
