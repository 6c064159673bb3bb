#!/usr/bin/env node
// The page's "Complete Example" as a host would write it today. AgentOS does not read `registryConfig` itself, so
// the host turns the registries into the two things `agentos.initialize()` consumes: an `extensionManifest` (packs
// whose factories hand back what the registry loaded) and a `personaLoader`. It then does what AgentOS would do with
// them: calls every pack factory, runs one tool, and asks the persona loader for personas.
import { createPersonaLoader, createRegistry, isRegistryError, toExtensionManifest } from 'agentos-registry';
import { registryConfig } from './agentos-registry.config.mjs';

async function main() {
  const registry = await createRegistry(registryConfig, { onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`) });
  try {
    // Plain ids: defaultRegistries sends tools to corp-extensions. Per-pack options reach createExtensionPack.
    const extensionManifest = await toExtensionManifest(registry, ['com.example.echo', { ref: 'com.example.calculator', options: { precision: 2 } }]);
    const personaLoader = createPersonaLoader(registry);

    // What the page passes to `agentos.initialize(...)`. The page also loads `authService` and `subscriptionService`
    // from corp-extensions; the example registry has no such extension, so they are left out here.
    const initializeConfig = { registryConfig, extensionManifest, personaLoader };
    console.log(`agentos.initialize() config ready: ${Object.keys(initializeConfig).join(', ')}`);

    console.log('\nextensionManifest.packs:');
    const tools = new Map();
    for (const entry of initializeConfig.extensionManifest.packs) {
      const pack = await entry.factory();
      console.log(`  ${entry.identifier}  options ${JSON.stringify(entry.options ?? {})}`);
      for (const descriptor of pack.descriptors) {
        const origin = descriptor.metadata.registry;
        console.log(`    ${descriptor.kind} ${descriptor.id}  source ${descriptor.source.sourceName}, verified ${origin.verified}, commit ${origin.revision.slice(0, 12)}`);
        if (descriptor.kind === 'tool') tools.set(descriptor.id, descriptor.payload);
      }
    }
    const args = { operation: 'divide', a: 22, b: 7 };
    const answer = await tools.get('calculator').execute(args, { gmiId: 'complete-example', personaId: 'com.example.helpful-assistant', userContext: {} });
    console.log(`  calculator.execute(${JSON.stringify(args)}) -> ${answer.success ? answer.output.expression : `failed: ${answer.error}`}`);

    console.log('\npersonaLoader:');
    await initializeConfig.personaLoader.initialize();
    const all = await personaLoader.loadAllPersonaDefinitions();
    console.log(`  loadAllPersonaDefinitions() -> ${all.map((p) => `${p.id}@${p.version}`).join(', ')}`);
    const helper = await personaLoader.loadPersonaById('com.example.helpful-assistant');
    console.log(`  loadPersonaById('com.example.helpful-assistant') -> ${helper?.name} (tools: ${helper?.toolIds?.join(', ')})`);
    const nobody = await personaLoader.loadPersonaById('com.example.nobody');
    console.log(`  loadPersonaById('com.example.nobody') -> ${nobody}`);
    // AgentOS's refreshPersonas() answers nothing: it reloads, and the next call sees the result.
    await personaLoader.refreshPersonas();
    const reloaded = await personaLoader.loadAllPersonaDefinitions();
    console.log(`  refreshPersonas(), then loadAllPersonaDefinitions() -> ${reloaded.length} persona${reloaded.length === 1 ? '' : 's'}`);
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
