/**
 * Running fetched code where its imports resolve (peers from the host, nothing installed for plain entries), and
 * personas from persona.json or SOUL.md. Dependency installs from a package registry are covered in source-npm.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type CreateRegistryOptions,
  createRegistry,
  type LoadedExtension,
  type LoadedPersona,
  type RegistryError,
  type RegistryWarning,
} from '../src/index.js';
import { dependencySpecProblem } from '../src/install.js';
import { parseSoul } from '../src/persona.js';
import { countingSource, pageRegistry, tempDir, writeTree } from './helpers.js';

const PEER = '@framers/agentos-like';

async function hostApp(version = '0.4.1'): Promise<string> {
  const host = await tempDir('host-');
  const peer = join(host, 'node_modules', PEER);
  await mkdir(peer, { recursive: true });
  await writeFile(join(peer, 'package.json'), JSON.stringify({ name: PEER, version, type: 'module', exports: { '.': './index.js' } }));
  await writeFile(join(peer, 'index.js'), 'export const runtime = { id: Symbol("host runtime") };\n');
  return host;
}

async function setup(files: Record<string, string | object>, host?: string, options: CreateRegistryOptions = {}) {
  const dir = await writeTree(files);
  const cache = await tempDir();
  const registry = await createRegistry(
    { registries: { default: { type: 'dir', location: dir } }, cacheSettings: { directory: cache } },
    { sources: [countingSource('dir').adapter], env: {}, ...(host ? { baseDir: host } : {}), ...options },
  );
  return { registry, dir, cache };
}

function withPeer(range: string): Record<string, string | object> {
  const files = pageRegistry();
  files['registry/curated/echo/package.json'] = {
    name: 'echo-tool',
    version: '1.0.0',
    type: 'module',
    main: './src/index.js',
    peerDependencies: { [PEER]: range },
  };
  files['registry/curated/echo/src/index.js'] =
    `import { runtime } from '${PEER}';\nexport const createExtensionPack = () => ({ name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: { runtime } }] });\n`;
  return files;
}

describe('where code runs', () => {
  it('an entry without dependencies runs from its cached folder and installs nothing; loading it again gives the same module', async () => {
    const host = await tempDir('host-');
    const { registry } = await setup(pageRegistry(), host);
    const first = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    expect(first.install).toBeUndefined();
    expect(first.entryFile).toBe(join(first.fetched.dir, 'src', 'index.js'));
    expect(existsSync(join(host, 'node_modules'))).toBe(false);
    const second = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    expect(second.module).toBe(first.module);
  });

  it("a module that only provides services loads when its manifest lists them (as AgentOS's auth extension does); without the list it is E_LOAD", async () => {
    const services = (provides: boolean) => {
      const files = pageRegistry();
      files['registry/curated/echo/manifest.json'] = {
        ...(files['registry/curated/echo/manifest.json'] as object),
        ...(provides ? { provides: { services: ['authService', 'subscriptionService'] } } : {}),
      };
      files['registry/curated/echo/src/index.js'] = [
        'export function createAuthExtension(config = {}) {',
        "  return { authService: { validateToken: async (t) => (t === config.secret ? { id: 'u1' } : null) }, subscriptionService: { getUserSubscription: async () => ({ tier: 'free' }) } };",
        '}',
        '',
      ].join('\n');
      return files;
    };
    const { registry } = await setup(services(true));
    const loaded = await registry.load('tool', 'com.test.echo');
    expect(loaded.pack).toEqual({ name: 'com.test.echo', version: '1.0.0', descriptors: [] });
    const made = (loaded.module.createAuthExtension as (c: object) => { authService: { validateToken(t: string): Promise<unknown> } })({ secret: 's' });
    expect(await made.authService.validateToken('s')).toEqual({ id: 'u1' });
    const bare = await setup(services(false));
    const error = (await bare.registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.message).toContain('"provides": { "services"');
  });

  it('a manifest naming a TypeScript entryPoint loads the built main of package.json, as Node would; fetch and info never judge it', async () => {
    const files = pageRegistry();
    files['registry/curated/echo/manifest.json'] = { ...(files['registry/curated/echo/manifest.json'] as object), entryPoint: 'src/index.ts' };
    files['registry/curated/echo/src/index.ts'] = 'export const createExtensionPack = (): never => { throw new Error("source, not built"); };\n';
    const { registry } = await setup(files);
    const loaded = await registry.load('tool', 'com.test.echo');
    expect(loaded.entryFile.endsWith(join('src', 'index.js'))).toBe(true);
    expect(loaded.pack.name).toBe('echo');
    expect((await registry.info('tool', 'com.test.echo')).manifest.entryPoint).toBe('src/index.ts');
  });

  it('an entry whose only module is TypeScript is E_LOAD saying to ship built code, naming the file', async () => {
    const files = pageRegistry();
    files['registry/curated/echo/manifest.json'] = { ...(files['registry/curated/echo/manifest.json'] as object), entryPoint: 'src/index.ts' };
    files['registry/curated/echo/package.json'] = { name: 'echo-tool', version: '1.0.0', type: 'module' };
    delete files['registry/curated/echo/src/index.js'];
    files['registry/curated/echo/src/index.ts'] = 'export const createExtensionPack = () => ({ name: "echo", descriptors: [] });\n';
    const { registry } = await setup(files);
    // Its files and manifest are still there to fetch and read.
    expect((await registry.info('tool', 'com.test.echo')).manifest.entryPoint).toBe('src/index.ts');
    expect(existsSync(join((await registry.fetch('tool', 'com.test.echo')).dir, 'src', 'index.ts'))).toBe(true);
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_LOAD');
    expect(error.details).toMatchObject({ file: 'src/index.ts' });
    expect(error.message).toContain('compile it');
  });

  it('finds the module from a per-extension entry when there is no manifest entry or package.json, the kind asked for first', async () => {
    const files = pageRegistry();
    delete files['registry/curated/echo/package.json'];
    delete files['registry/curated/echo/src/index.js'];
    files['registry/curated/echo/manifest.json'] = {
      id: 'com.test.echo',
      name: 'Echo',
      version: '1.0.0',
      extensions: [
        { kind: 'guardrail', id: 'no-shouting', entry: './dist/guard.js' },
        { kind: 'tool', id: 'echo', entry: './dist/tool.js' },
      ],
    };
    files['registry/curated/echo/dist/guard.js'] =
      "export default { name: 'guard-pack', descriptors: [{ id: 'no-shouting', kind: 'guardrail', payload: {} }] };\n";
    files['registry/curated/echo/dist/tool.js'] =
      "export const createExtensionPack = () => ({ name: 'tool-pack', descriptors: [{ id: 'echo', kind: 'tool', payload: {} }] });\n";
    const { registry } = await setup(files);
    const tool = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    expect(tool.pack.name).toBe('tool-pack');
    expect(tool.entryFile.endsWith(join('dist', 'tool.js'))).toBe(true);
    const guard = (await registry.load('guardrail', 'com.test.echo')) as LoadedExtension;
    expect(guard.pack.name).toBe('guard-pack');
  });

  it("a peer dependency resolves to the host application's own instance", async () => {
    const host = await hostApp();
    const { registry } = await setup(withPeer('>=0.4.0 <1'), host);
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    const hostCopy = (await import(pathToFileURL(join(host, 'node_modules', PEER, 'index.js')).href)) as { runtime: unknown };
    expect((loaded.pack.descriptors[0]!.payload as { runtime: unknown }).runtime).toBe(hostCopy.runtime);
    expect(loaded.install?.packages).toEqual([]);
    expect((await lstat(join(host, 'node_modules', '.agentos-registry'))).isDirectory()).toBe(true);
  });

  it('an install leaves no temporary folder, and sweeps old ones an interrupted install left behind', async () => {
    const host = await hostApp();
    const area = join(host, 'node_modules', '.agentos-registry');
    await mkdir(join(area, '.tmp-0123456789ab', 'node_modules'), { recursive: true });
    await mkdir(join(area, '.tmp-fedcba987654'), { recursive: true });
    const hoursAgo = new Date(Date.now() - 3 * 60 * 60 * 1000);
    await utimes(join(area, '.tmp-0123456789ab'), hoursAgo, hoursAgo);
    const { registry } = await setup(withPeer('^0.4.0'), host);
    await registry.load('tool', 'com.test.echo');
    const left = (await readdir(area)).sort();
    // The old one is gone; a recent one may be another process's install in progress, so it stays.
    expect(left.filter((name) => name.startsWith('.tmp-'))).toEqual(['.tmp-fedcba987654']);
    expect(left.filter((name) => !name.startsWith('.'))).toHaveLength(1);
  });

  it.each([
    ['a peer that is a path', { peerDependencies: { '../../..': '*' } }, 'peerDependencies names "../../.."'],
    ['a dependency that is a path', { dependencies: { '../escape': '^1.0.0' } }, 'dependencies names "../escape"'],
    ['a file: dependency', { dependencies: { lib: 'file:../lib' } }, 'depends on lib "file:../lib"'],
    ['a git dependency', { dependencies: { lib: 'git+https://example.invalid/lib.git' } }, 'depends on lib "git+https://example.invalid/lib.git"'],
    ['a tarball URL dependency', { dependencies: { lib: 'http://example.invalid/lib.tgz' } }, 'depends on lib "http://example.invalid/lib.tgz"'],
    ['a GitHub shorthand dependency', { dependencies: { lib: 'someone/lib' } }, 'depends on lib "someone/lib"'],
  ])('%s is E_POLICY, and nothing of the host is touched', async (_label, fields, says) => {
    const host = await hostApp();
    const files = withPeer('^0.4.0');
    files['registry/curated/echo/package.json'] = { name: 'echo-tool', version: '1.0.0', type: 'module', main: './src/index.js', ...fields };
    const { registry } = await setup(files, host);
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_POLICY');
    expect(error.message).toContain(says);
    expect(existsSync(join(host, 'node_modules', PEER, 'index.js'))).toBe(true);
    expect(existsSync(join(host, 'node_modules', '.agentos-registry'))).toBe(false);
  });

  it.each([
    ['^1.2.3', true],
    ['1.x || >=2.5.0', true],
    ['latest', true],
    ['', true],
    ['npm:other-lib@^2', true],
    ['npm:@scope/lib', true],
    ['npm:../x@1', false],
    ['file:../x', false],
    ['link:../x', false],
    ['./local', false],
    ['github:a/b', false],
    ['a/b#main', false],
    ['https://example.invalid/x.tgz', false],
  ])('dependency spec %j allowed: %s', (spec, allowed) => {
    expect(dependencySpecProblem(spec) === undefined).toBe(allowed);
  });

  it('a missing peer is E_PEER_MISSING naming it and the range; an optional one may be missing', async () => {
    const { registry } = await setup(withPeer('^0.4.0'), await tempDir('host-'));
    const error = (await registry.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.message).toContain(`${PEER}@^0.4.0 (not installed)`);
    // Without a package adapter nothing can install it, and no version can be looked up: none is named.
    expect(error.message).toContain('no installed source adapter can install it');
    expect(error.message).not.toContain('npm install');
    expect(error.details).toMatchObject({ peers: [{ name: PEER, range: '^0.4.0' }] });

    const optional = withPeer('^0.4.0');
    optional['registry/curated/echo/package.json'] = {
      ...(optional['registry/curated/echo/package.json'] as object),
      peerDependenciesMeta: { [PEER]: { optional: true } },
    };
    optional['registry/curated/echo/src/index.js'] = "export default { name: 'echo', descriptors: [{ id: 'echo', kind: 'tool' }] };\n";
    const { registry: lenient } = await setup(optional, await tempDir('host-'));
    expect(((await lenient.load('tool', 'com.test.echo')) as LoadedExtension).pack.name).toBe('echo');
  });

  it("a peer the host has in a version out of range is the host's copy with W_PEER_MISMATCH; strictPeers makes it E_PEER_MISSING", async () => {
    const host = await hostApp('0.4.1');
    const warnings: RegistryWarning[] = [];
    const { registry } = await setup(withPeer('^1.0.0'), host, { onWarning: (warning) => warnings.push(warning) });
    const loaded = (await registry.load('tool', 'com.test.echo')) as LoadedExtension;
    const hostCopy = (await import(pathToFileURL(join(host, 'node_modules', PEER, 'index.js')).href)) as { runtime: unknown };
    expect((loaded.pack.descriptors[0]!.payload as { runtime: unknown }).runtime).toBe(hostCopy.runtime);
    expect(warnings.map((w) => w.code)).toEqual(['W_PEER_MISMATCH']);
    expect(warnings[0]!.message).toContain(`${PEER}@^1.0.0, and the host has ${PEER}@0.4.1`);

    const { registry: strict } = await setup(withPeer('^1.0.0'), host, { dependencies: { strictPeers: true } });
    const error = (await strict.load('tool', 'com.test.echo').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_PEER_MISSING');
    expect(error.message).toContain(`${PEER}@^1.0.0 (the host has 0.4.1)`);
    // No adapter can say which versions exist: the advice names none.
    expect(error.message).toContain(`install a version of ${PEER} that satisfies ^1.0.0 in the host, or leave strictPeers off`);
  });
});

describe('personas', () => {
  const soulRegistry = (soul: string, manifest: object | null = { id: 'com.test.helper', name: 'Helper', version: '1.0.0' }) => {
    const files = pageRegistry();
    delete files['registry/personas/helper/persona.json'];
    if (manifest) files['registry/personas/helper/manifest.json'] = manifest;
    else delete files['registry/personas/helper/manifest.json'];
    files['registry/personas/helper/SOUL.md'] = soul;
    return files;
  };

  it('a SOUL.md: front matter gives the fields, the Markdown body is the system prompt', async () => {
    const soul =
      '---\nid: com.test.helper\nname: Helpful Assistant\nversion: 1.0.0\ndescription: Answers kindly\ntraits: [patient, precise]\n---\n# Who you are\n\nYou help, briefly.\n';
    const { registry } = await setup(soulRegistry(soul));
    const loaded = (await registry.load('persona', 'com.test.helper')) as LoadedPersona;
    expect(loaded.persona).toEqual({
      id: 'com.test.helper',
      name: 'Helpful Assistant',
      version: '1.0.0',
      description: 'Answers kindly',
      traits: ['patient', 'precise'],
      baseSystemPrompt: '# Who you are\n\nYou help, briefly.',
    });
  });

  it("fields the front matter leaves out come from the folder's manifest.json; a baseSystemPrompt field beats the body", async () => {
    const { registry } = await setup(soulRegistry('---\nbaseSystemPrompt: Be brief.\n---\nNotes for maintainers.\n'));
    const { persona } = (await registry.load('persona', 'com.test.helper')) as LoadedPersona;
    expect(persona).toMatchObject({ id: 'com.test.helper', name: 'Helper', version: '1.0.0', baseSystemPrompt: 'Be brief.' });
  });

  it('a SOUL.md missing a required field is E_INDEX_INVALID naming SOUL.md and the field', async () => {
    const { registry } = await setup(soulRegistry('---\nid: com.test.helper\nname: Helper\n---\nYou help.\n', null));
    const error = (await registry.load('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    // Without manifest.json the index entry still names the persona, but the version must be in SOUL.md itself.
    expect(error.code).toBe('E_INDEX_INVALID');
    expect(error.message).toContain('SOUL.md');
    expect(error.message).toContain('version');
  });

  it('broken YAML front matter is E_INDEX_INVALID with the line', async () => {
    const { registry } = await setup(soulRegistry('---\nid: com.test.helper\nname: [unclosed\n---\nYou help.\n'));
    const error = (await registry.load('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_INDEX_INVALID');
    // The bad line is line 3 of the file (after the opening ---), and only one position is given.
    expect(error.message).toMatch(/SOUL\.md.*front matter is not valid YAML \(line 3, column \d+\)/);
    expect(error.message).not.toMatch(/at line \d+, column/);
    // Never a byte of the file: it may be whatever a link pointed at.
    expect(error.message).not.toContain('unclosed');
  });

  it('a persona folder with neither persona.json nor SOUL.md is E_MANIFEST_MISSING naming both', async () => {
    const files = pageRegistry();
    delete files['registry/personas/helper/persona.json'];
    const { registry } = await setup(files);
    const error = (await registry.load('persona', 'com.test.helper').catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_MANIFEST_MISSING');
    expect(error.message).toContain('persona.json');
    expect(error.message).toContain('SOUL.md');
  });

  it.each([
    ['no front matter', 'Just a prompt.\n', {}, 'Just a prompt.'],
    ['an empty front matter', '---\n---\nBody\n', {}, 'Body'],
    ['a BOM and CRLF lines', '\uFEFF---\r\nname: X\r\n---\r\nBody\r\n', { name: 'X' }, 'Body'],
    [
      'identity fields kept as written, other numbers as numbers',
      '---\nversion: 1.10\nname: 2024\ntemperature: 0.70\n---\n',
      { version: '1.10', name: '2024', temperature: 0.7 },
      '',
    ],
  ])('parseSoul: %s', (_label, text, frontMatter, body) => {
    expect(parseSoul(text, { file: 'SOUL.md', registry: 'r' })).toEqual({ frontMatter, body });
  });

  it('parseSoul refuses front matter that is a list, or that is never closed', () => {
    expect(() => parseSoul('---\n- a\n- b\n---\n', { file: 'SOUL.md', registry: 'r' })).toThrow(/not a mapping/);
    expect(() => parseSoul('---\nname: X\nYou help.\n', { file: 'SOUL.md', registry: 'r' })).toThrow(/is not closed/);
  });
});
