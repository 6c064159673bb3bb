#!/usr/bin/env node
// A small host for the page's GitHub registries: it opens the public registry and then the private one (github.config.mjs),
// lists each, loads one tool from each and calls it. The token comes from GITHUB_TOKEN and is never printed.
// Neither config has `defaultRegistries`, so references name their registry: `custom:<id>`.
import { createRegistry, isRegistryError } from 'agentos-registry';
import { privateRegistryConfig, publicRegistryConfig } from './github.config.mjs';

async function useRegistry(title, registryConfig, ref, args) {
  const { location } = registryConfig.registries.custom;
  console.log(`${title}: ${location}`);
  const registry = await createRegistry(registryConfig, { onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`) });
  try {
    const rows = await registry.list();
    console.log(`  lists ${rows.length} entries: ${rows.map((row) => row.id).join(', ')}`);
    const loaded = await registry.load('tool', ref);
    if (loaded.type !== 'extension') throw new Error(`${ref} is not an extension`);
    const tool = loaded.pack.descriptors.find((d) => d.kind === 'tool').payload;
    const result = await tool.execute(args, {});
    console.log(`  loaded ${loaded.fetched.id}@${loaded.fetched.version} from commit ${loaded.fetched.revision.slice(0, 12)}`);
    console.log(`  ${tool.name}(${JSON.stringify(args)}) -> ${result.success ? JSON.stringify(result.output) : `failed: ${result.error}`}`);
  } finally {
    await registry.close();
  }
}

async function main() {
  console.log(`GITHUB_TOKEN is ${process.env.GITHUB_TOKEN ? 'set' : 'not set'}`);
  await useRegistry('GitHub (Public)', publicRegistryConfig, 'custom:com.example.echo', { text: 'hello from a public repo' });
  await useRegistry('GitHub (Private)', privateRegistryConfig, 'custom:com.example.calculator', { operation: 'add', a: 2, b: 3 });
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
