#!/usr/bin/env node
// A small host for the page's "Enterprise with Private Git" case: it reads agentos-registry.config.mjs, loads a tool
// and a persona by id alone (defaultRegistries picks the repository for each kind) and calls the tool.
// The token comes from CORP_GIT_TOKEN and is never printed, not even in an error.
import { fileURLToPath } from 'node:url';
import { createRegistry, isRegistryError, loadConfigFile } from 'agentos-registry';

const configFile = fileURLToPath(new URL('./agentos-registry.config.mjs', import.meta.url));

async function main() {
  const { config, baseDir } = await loadConfigFile(configFile);
  console.log(`CORP_GIT_TOKEN is ${process.env.CORP_GIT_TOKEN ? 'set' : 'not set'}`);
  const registry = await createRegistry(config, { baseDir, onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`) });
  try {
    for (const kind of ['tool', 'persona']) {
      const name = registry.registryFor(kind);
      console.log(`${kind.padEnd(8)} -> ${name} (${config.registries[name].location}, branch ${config.registries[name].branch})`);
    }

    const tool = await registry.load('tool', 'com.example.calculator');
    if (tool.type !== 'extension') throw new Error('expected an extension pack');
    const calculator = tool.pack.descriptors.find((d) => d.id === 'calculator').payload;
    const answer = await calculator.execute({ operation: 'divide', a: 84, b: 2 }, {});
    console.log(`tool ${tool.fetched.id}@${tool.fetched.version} from "${tool.fetched.registry}": ${answer.output.expression}`);

    const loaded = await registry.load('persona', 'com.example.helpful-assistant');
    if (loaded.type !== 'persona') throw new Error('expected a persona');
    const { persona } = loaded;
    console.log(`persona ${persona.id}@${persona.version} from "${loaded.fetched.registry}": ${persona.name}, tools ${persona.toolIds.join(', ')}`);
    console.log(`  prompt: ${persona.baseSystemPrompt.split('. ')[0]}.`);
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
