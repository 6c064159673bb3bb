/**
 * `agentos-registry init [dir]`: a new registry in the page's layout — registry.json, one runnable tool (plain ESM
 * JavaScript, no dependencies) and one persona under registry/curated, and a README on hosting it as each source
 * type. It passes `validate` as written. A folder that holds anything is refused unless `--force`.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { RegistryError } from '@agentos-registry/core';
import type { Command } from 'commander';
import { toJson } from './format.js';
import type { CliIo } from './io.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The files of a new registry, by path relative to its folder. */
export function registryFiles(name: string, now = new Date()): Record<string, string> {
  const author = { name: 'Your Org', email: 'support@example.com' };
  const toolId = 'com.example.greet';
  const personaId = 'com.example.greeter';
  return {
    'registry.json': json({
      version: '1.0.0',
      updated: now.toISOString(),
      categories: { curated: ['tools', 'personas'], community: [] },
      extensions: {
        curated: [{ id: toolId, name: 'Greet', version: '1.0.0', path: 'curated/greet', description: 'Greets someone by name.', tools: ['greet'], author }],
        community: [],
      },
      personas: {
        curated: [
          {
            id: personaId,
            name: 'Greeter',
            version: '1.0.0',
            path: 'curated/greeter',
            description: 'A persona that greets people with the greet tool.',
            author,
          },
        ],
        community: [],
      },
    }),
    'registry/curated/greet/manifest.json': json({
      id: toolId,
      name: 'Greet',
      version: '1.0.0',
      description: 'Greets someone by name.',
      author,
      license: 'MIT',
      extensions: [{ kind: 'tool', id: 'greet', displayName: 'Greet', description: 'Returns a greeting for a name', entry: './src/index.js' }],
    }),
    'registry/curated/greet/package.json': json({ name: 'agentos-ext-greet', version: '1.0.0', type: 'module', main: './src/index.js', license: 'MIT' }),
    'registry/curated/greet/src/index.js': `/**
 * An AgentOS extension pack with one tool: createExtensionPack(context) returns { name, version, descriptors }, and a
 * tool's payload has the shape of AgentOS's ITool (identity, input schema, execute). No imports: nothing to install.
 */
export function createExtensionPack(context = {}) {
  const greeting = typeof context.options?.greeting === 'string' ? context.options.greeting : 'Hello';
  const greet = {
    id: '${toolId}.greet',
    name: 'greet',
    displayName: 'Greet',
    description: 'Returns a greeting for the name it is given.',
    version: '1.0.0',
    hasSideEffects: false,
    inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'], additionalProperties: false },
    async execute(args) {
      if (typeof args?.name !== 'string') return { success: false, error: 'greet needs a "name" string argument' };
      return { success: true, output: { text: \`\${greeting}, \${args.name}!\` } };
    },
  };
  return { name: '${toolId}', version: '1.0.0', descriptors: [{ id: 'greet', kind: 'tool', enableByDefault: true, payload: greet }] };
}

export default createExtensionPack;
`,
    'registry/curated/greeter/manifest.json': json({
      id: personaId,
      name: 'Greeter',
      version: '1.0.0',
      kind: 'persona',
      description: 'A persona that greets people.',
      author,
      license: 'MIT',
    }),
    'registry/curated/greeter/persona.json': json({
      id: personaId,
      name: 'Greeter',
      version: '1.0.0',
      description: 'A persona that greets people with the greet tool.',
      baseSystemPrompt: 'You are Greeter. Greet each person by name with the greet tool, then answer briefly.',
      toolIds: ['greet'],
    }),
    'registry/community/.gitkeep': '',
    'agentos-registry.config.json': json({
      registries: { [name]: { type: 'file', location: '.' } },
      defaultRegistries: { tool: name, persona: name },
    }),
    'README.md': readme(name, toolId, personaId),
  };
}

function readme(name: string, toolId: string, personaId: string): string {
  return `# ${name}

A self-hosted AgentOS registry, made by \`agentos-registry init\`: \`registry.json\` lists the entries, each in its
folder under \`registry/\` (\`path\` is relative to \`registry/\`). It holds one tool (\`${toolId}\`, plain ESM JavaScript
in \`registry/curated/greet/src/index.js\`) and one persona (\`${personaId}\`).

Try it here (\`agentos-registry.config.json\` serves this folder as registry "${name}"):

\`\`\`sh
agentos-registry validate .
agentos-registry list
agentos-registry load ${toolId}
agentos-registry load ${personaId} --kind persona
\`\`\`

Add an entry: make its folder with a \`manifest.json\` (\`id, name, version, extensions: [{ kind, id, entry }]\`) and its
code, list it in \`registry.json\` with the same id and version, and run \`agentos-registry validate\` again.

## Hosting it

Hosts name the registry in their \`registryConfig.registries\`; pick the source type that fits:

* **file** — a folder on the host's machine (a shared disk, an air-gapped copy):
  \`{ type: 'file', location: '/opt/agentos/${name}' }\`
* **git** — push this folder to any git server; hosts clone it:
  \`{ type: 'git', location: 'https://git.example.com/you/${name}.git', branch: 'main', token: '\${GIT_TOKEN}' }\`
* **github** — push it to a GitHub (or GitHub Enterprise) repository:
  \`{ type: 'github', location: 'you/${name}', branch: 'main', token: '\${GITHUB_TOKEN}' }\`
* **url** — a static web server: \`agentos-registry pack . --out site\` writes one tarball per entry and a
  \`registry.json\` with their integrity; serve \`site/\` from any web server:
  \`{ type: 'url', location: 'https://registry.example.com/${name}' }\`
* **npm** — publish this folder as an npm package (add a \`package.json\` whose \`files\` include \`registry.json\` and
  \`registry/\`), to your npm registry:
  \`{ type: 'npm', location: '@you/${name}' }\`

Then point a kind at it: \`defaultRegistries: { tool: '${name}', persona: '${name}' }\`. To sign the index, see
\`agentos-registry keygen\` and \`agentos-registry sign\`.
`;
}

/** Writes a new registry into `dirArg` (default: the working directory) and returns what to print. */
export async function initCommand(io: CliIo, dirArg: string | undefined, options: { force?: boolean; name?: string }, asJson: boolean): Promise<string> {
  const dir = resolve(io.cwd, dirArg ?? '.');
  const present = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  if (present.length > 0 && !options.force) {
    throw new RegistryError(
      'E_USAGE',
      `${dir} is not empty (${present.length} item(s)); init writes a new registry into an empty folder. Choose another folder, or pass --force to write over what is there.`,
    );
  }
  const name = options.name ?? (basename(dir).replace(/[^A-Za-z0-9_-]/g, '-') || 'registry');
  const files = registryFiles(name);
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, text);
  }
  if (asJson) return `${toJson({ dir, name, files: Object.keys(files) })}\n`;
  return `Created registry "${name}" in ${dir}: one tool (com.example.greet) and one persona (com.example.greeter).\nNext: agentos-registry validate ${dirArg ?? '.'}  — then see README.md there for hosting it.\n`;
}

export function addInitCommand(program: Command, io: CliIo, out: (text: string) => void, asJson: boolean): void {
  program
    .command('init [dir]')
    .description('create a registry (registry.json, a runnable tool, a persona, a README on hosting it) in an empty folder')
    .option('-f, --force', 'write into a folder that is not empty (files of the same name are replaced)')
    .option('--name <name>', 'the registry name in the config written beside it (default: the folder name)')
    .action(async (dir: string | undefined, opts: { force?: boolean; name?: string }) => {
      out(await initCommand(io, dir, opts, asJson));
    });
}
