#!/usr/bin/env node
// A minimal AgentOS-style host for an air-gapped machine: it reads agentos-registry.config.mjs, loads every tool
// the internal registry offers, and prints what each pack provides. The packs are collected in the shape of
// AgentOS's `extensionManifest.packs` (`{ factory }` entries), ready to hand to `agentos.initialize()`.
import { fileURLToPath } from 'node:url';
import { createRegistry, isRegistryError, loadConfigFile } from 'agentos-registry';

const configFile = fileURLToPath(new URL('./agentos-registry.config.mjs', import.meta.url));

async function main() {
  const { config, baseDir } = await loadConfigFile(configFile);
  const registry = await createRegistry(config, {
    baseDir,
    onWarning: (warning) => console.warn(`warning: ${warning.message}`),
  });
  const packs = [];
  try {
    const toolRegistry = registry.registryFor('tool');
    const location = config.registries[toolRegistry]?.location;
    console.log(`Loading tools from registry "${toolRegistry}" (${location})\n`);

    const entries = await registry.list({ kind: 'tool' });
    for (const entry of entries) {
      const ref = `${entry.registry}:${entry.id}@${entry.version}`;
      try {
        const loaded = await registry.load('tool', ref);
        if (loaded.type !== 'extension') continue;
        const { pack, fetched } = loaded;
        packs.push({ identifier: ref, factory: () => pack });
        console.log(`${entry.id}@${entry.version}  (${fetched.integrity.slice(0, 22)}…)`);
        for (const descriptor of pack.descriptors) {
          const payload = descriptor.payload ?? {};
          const about = payload.description ? ` - ${payload.description}` : '';
          console.log(`  ${descriptor.kind.padEnd(10)} ${descriptor.id}${about}`);
        }
      } catch (error) {
        // One broken entry must not stop the host from starting with the others.
        const why = isRegistryError(error) ? `[${error.code}] ${error.message}` : String(error);
        console.log(`${entry.id}@${entry.version}  NOT LOADED: ${why}`);
      }
    }

    const tools = packs.length;
    console.log(`\n${tools} of ${entries.length} tool ${entries.length === 1 ? 'entry' : 'entries'} loaded.`);
    console.log('Pass them to AgentOS as: agentos.initialize({ extensionManifest: { packs }, ... })');
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
