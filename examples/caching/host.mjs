#!/usr/bin/env node
// A small host for the page's "Caching" case: it loads the calculator from the registry, says whether its files were
// downloaded or came from the cache (and whether that copy is stale), and calls it. Flags, as the CLI's:
//   --refresh   revalidate the index now, ignoring cacheDuration
//   --offline   never touch the network; serve only what is cached
import { fileURLToPath } from 'node:url';
import { createRegistry, isRegistryError, loadConfigFile } from 'agentos-registry';

const configFile = fileURLToPath(new URL('./agentos-registry.config.mjs', import.meta.url));
const refresh = process.argv.includes('--refresh');
const offline = process.argv.includes('--offline');

async function main() {
  const { config, baseDir } = await loadConfigFile(configFile);
  const registry = await createRegistry(config, {
    baseDir,
    refresh,
    offline,
    onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`),
  });
  try {
    // No defaultRegistries in the page's config, so the reference names its registry. One call, so that with
    // --refresh the index is revalidated once (see the README: each call revalidates again under `refresh`).
    const loaded = await registry.load('tool', 'custom:com.example.calculator');
    if (loaded.type !== 'extension') throw new Error('expected an extension pack');
    const { fetched } = loaded;
    const stale = fetched.stale ? ' (a stale copy: the source could not be reached)' : '';
    console.log(
      `${fetched.id}@${fetched.version} from commit ${fetched.revision.slice(0, 12)}, ${fetched.fromCache ? 'from the cache' : 'downloaded'}${stale}`,
    );
    const calculator = loaded.pack.descriptors.find((d) => d.id === 'calculator').payload;
    const answer = await calculator.execute({ operation: 'subtract', a: 50, b: 8 }, {});
    console.log(`calculator: ${answer.output.expression}`);
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
