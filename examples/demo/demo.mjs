#!/usr/bin/env node
// A tour of agentos-registry over the example registry in ../registry-template, using the local file source:
// list what it holds, fetch a tool, load its extension pack and call the tool, then load the persona.
// Run it from the repository root with `npm run demo` (which builds the packages first).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRegistry, isRegistryError } from 'agentos-registry';

const registryDir = fileURLToPath(new URL('../registry-template/', import.meta.url));
// The cache goes to the OS temp folder, so the demo never writes into your home directory.
const cacheDir = join(tmpdir(), 'agentos-registry-demo-cache');

/** The page's registryConfig, verbatim: one local registry used for tools and personas. */
const registryConfig = {
  registries: {
    examples: { type: 'file', location: registryDir },
  },
  defaultRegistries: { tool: 'examples', persona: 'examples' },
  cacheSettings: { enabled: true, directory: cacheDir },
};

const heading = (text) => console.log(`\n== ${text} ${'='.repeat(Math.max(3, 72 - text.length))}\n`);
const field = (label, value) => console.log(`  ${`${label}:`.padEnd(12)} ${value}`);

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `  ${cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd()}`;
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

function wrap(text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

async function main() {
  console.log('agentos-registry demo');
  field('registry', registryDir);
  field('cache', cacheDir);

  const registry = await createRegistry(registryConfig, {
    onWarning: (warning) => console.warn(`  warning: ${warning.message}`),
  });
  try {
    heading('1. What the registry holds');
    const entries = await registry.list();
    table(
      ['ID', 'VERSION', 'TIER', 'KINDS'],
      entries.map((e) => [e.id, e.version, e.tier, e.kinds.join(',') || '-']),
    );
    console.log(`\n  ${entries.length} entries`);

    heading('2. Fetch a tool');
    const fetched = await registry.fetch('tool', 'com.example.calculator@^1');
    field('entry', `${fetched.id}@${fetched.version} from "${fetched.registry}"`);
    field('files in', fetched.dir);
    field('integrity', fetched.integrity);
    field('revision', fetched.revision);
    field('provides', (fetched.manifest.extensions ?? []).map((x) => `${x.kind} ${x.id}`).join(', '));

    heading('3. Load the tool pack and call the tool');
    const loaded = await registry.load('tool', 'com.example.calculator');
    if (loaded.type !== 'extension') throw new Error('expected an extension pack');
    field('pack', `${loaded.pack.name}@${loaded.pack.version ?? '?'}`);
    field('descriptors', loaded.pack.descriptors.map((d) => `${d.kind}:${d.id}`).join(', '));
    const calculator = loaded.pack.descriptors.find((d) => d.kind === 'tool' && d.id === 'calculator').payload;
    const args = { operation: 'multiply', a: 6, b: 7 };
    // The second argument is AgentOS's tool execution context; the example tool does not need one.
    const answer = await calculator.execute(args, { gmiId: 'demo', personaId: 'com.example.helpful-assistant', userContext: {} });
    console.log(`\n  ${calculator.displayName}.execute(${JSON.stringify(args)})`);
    console.log(`  -> ${answer.success ? answer.output.expression : `failed: ${answer.error}`}`);

    const echoPack = await registry.load('tool', 'com.example.echo');
    const echo = echoPack.type === 'extension' ? echoPack.pack.descriptors[0].payload : undefined;
    const echoed = await echo.execute({ text: 'hello from a self-hosted registry', uppercase: true }, {});
    console.log(`\n  ${echo.displayName}.execute({ text: 'hello from a self-hosted registry', uppercase: true })`);
    console.log(`  -> ${echoed.output.text}`);

    heading('4. Load the persona');
    const personaResult = await registry.load('persona', 'com.example.helpful-assistant');
    if (personaResult.type !== 'persona') throw new Error('expected a persona');
    const { persona } = personaResult;
    field('persona', `${persona.name} (${persona.id}@${persona.version})`);
    field('tools', (persona.toolIds ?? []).join(', ') || '-');
    console.log('\n  System prompt:');
    for (const line of wrap(String(persona.baseSystemPrompt), 76)) console.log(`    ${line}`);

    heading('Done');
    console.log('  Next, try the CLI on the same registry:');
    console.log('    cd examples/air-gapped && AGENTOS_REGISTRY_DIR=../registry-template npx agentos-registry list');
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  if (isRegistryError(error)) {
    console.error(`\nerror [${error.code}] ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
