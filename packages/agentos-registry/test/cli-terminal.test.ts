/**
 * The CLI never prints a control character it got from a registry (issue 11): names, descriptions, ids, versions,
 * manifests, personas, warnings and error messages of a hostile index used to reach the terminal raw, so an OSC
 * retitled the window and a CSI cleared the screen. Text output shows them as `\uXXXX`; JSON output escapes them
 * too (JSON.stringify leaves DEL and C1 raw) and still parses to the registry's exact strings.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, scratch, writeJsonConfig } from './helpers.js';

const OSC_TITLE = '\u001b]0;pwned\u0007';
const CSI_CLEAR = '\u001b[2J\u001b[H';
const C1_CSI = '\u009b2J';
const OVERWRITE = '\rok\u007f';

const TOOL_ID = `com.evil.tool${OSC_TITLE}`;
const TOOL_NAME = `Evil ${CSI_CLEAR}tool`;
const DESCRIPTION = `fine${C1_CSI}${OVERWRITE}\nforged line`;
const INFO_VERSION = `1.0.0${CSI_CLEAR}`;

/** Raw control characters a terminal acts on; the CLI's own layout uses only newlines and tabs. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function expectInert(result: CliResult): void {
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
}

async function hostileRegistry(root: string): Promise<void> {
  const files: Record<string, unknown> = {
    'registry.json': {
      version: '1.0.0',
      extensions: {
        curated: [
          { id: TOOL_ID, name: TOOL_NAME, version: '1.0.0', path: 'curated/evil', description: DESCRIPTION, kind: `tool${C1_CSI}` },
          { id: 'com.evil.info', name: `Info${OSC_TITLE}`, version: INFO_VERSION, path: 'curated/info', description: DESCRIPTION, kind: 'tool' },
        ],
      },
      personas: { curated: [{ id: 'com.evil.persona', name: `Persona${OSC_TITLE}`, version: '1.0.0', path: 'personas/evil' }] },
    },
    'registry/curated/evil/manifest.json': {
      id: TOOL_ID,
      name: TOOL_NAME,
      version: '1.0.0',
      extensions: [{ kind: 'tool', id: 'evil', entry: './src/index.js' }],
    },
    'registry/curated/evil/src/index.js': `export const createExtensionPack = () => ({ name: ${JSON.stringify(`pack${CSI_CLEAR}`)}, version: ${JSON.stringify(`1${OSC_TITLE}`)}, descriptors: [{ id: ${JSON.stringify(`d${C1_CSI}`)}, kind: 'tool', payload: {} }] });\n`,
    'registry/curated/info/manifest.json': {
      id: 'com.evil.info',
      name: `Manifest ${OSC_TITLE}`,
      // Differs from the index: the W_VERSION_DRIFT warning quotes it.
      version: `2.0.0${OSC_TITLE}`,
      description: `about ${CSI_CLEAR}`,
      extensions: [{ kind: `tool${OSC_TITLE}`, id: `x${C1_CSI}`, displayName: `Shown ${CSI_CLEAR}` }],
    },
    'registry/personas/evil/manifest.json': { id: 'com.evil.persona', name: 'Persona', version: '1.0.0' },
    'registry/personas/evil/persona.json': {
      id: 'com.evil.persona',
      name: `Persona ${OSC_TITLE}`,
      version: '1.0.0',
      description: `d${C1_CSI}`,
      baseSystemPrompt: `First line${CSI_CLEAR}\r\nSecond line${OVERWRITE}`,
    },
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
}

describe('the CLI prints no control character a registry supplied', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    await hostileRegistry(join(dir, 'registry'));
    await writeJsonConfig(dir, 'evil', join(dir, 'registry'));
  });
  afterAll(() => cleanup());

  const run = (...argv: string[]) => cli(argv, { cwd: dir });

  it('list and search: ids, names, kinds and descriptions are shown escaped', async () => {
    for (const result of [await run('list'), await run('search', 'fine')]) {
      expect(result.code, result.stderr).toBe(0);
      expectInert(result);
      expect(result.stdout).toContain('com.evil.tool\\u001b]0;pwned\\u0007  1.0.0');
      expect(result.stdout).toContain('tool\\u009b2J');
    }
  });

  it('info: manifest fields, extensions and the version-drift warning are shown escaped', async () => {
    const result = await run('info', 'com.evil.info');
    expect(result.code, result.stderr).toBe(0);
    expectInert(result);
    expect(result.stdout).toContain('1.0.0\\u001b[2J\\u001b[H (manifest says 2.0.0\\u001b]0;pwned\\u0007)');
    expect(result.stdout).toContain('Shown \\u001b[2J\\u001b[H');
    expect(result.stderr).toContain('warning: registry.json lists com.evil.info as version 1.0.0\\u001b[2J');
  });

  it('fetch and load of an extension: what the pack calls itself is shown escaped', async () => {
    const fetched = await run('fetch', TOOL_ID);
    expect(fetched.code, fetched.stderr).toBe(0);
    expectInert(fetched);
    const loaded = await run('load', TOOL_ID);
    expect(loaded.code, loaded.stderr).toBe(0);
    expectInert(loaded);
    expect(loaded.stdout).toContain('pack\\u001b[2J\\u001b[H@1\\u001b]0;pwned\\u0007');
  });

  it('load of a persona: the system prompt keeps its lines, its control characters are escaped', async () => {
    const result = await run('load', 'com.evil.persona', '--kind', 'persona');
    expect(result.code, result.stderr).toBe(0);
    expectInert(result);
    expect(result.stdout).toContain('  First line\\u001b[2J\\u001b[H\n  Second line\\u000dok\\u007f');
  });

  it('an error message quoting the index (the versions it has) is shown escaped, on one line', async () => {
    const result = await run('info', 'com.evil.info@^9');
    expect(result.code).toBe(1);
    expectInert(result);
    expect(result.stderr).toMatch(/^error \[E_NOT_FOUND\] .*1\.0\.0\\u001b\[2J\\u001b\[H.*\n$/);
  });

  it('--json: the output escapes every control character and parses to the exact strings of the index', async () => {
    const listed = await run('list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expectInert(listed);
    const rows = listed.json<Array<{ id: string; name: string; kinds: string[] }>>();
    expect(rows.map((row) => row.id)).toEqual([TOOL_ID, 'com.evil.info', 'com.evil.persona']);
    expect(rows[0]!.name).toBe(TOOL_NAME);
    expect(rows[0]!.kinds).toEqual([`tool${C1_CSI}`]);
    expect(listed.stdout).toContain('\\u009b2J');

    const info = await run('info', 'com.evil.info', '--json');
    expectInert(info);
    expect(info.json().manifest.extensions[0].id).toBe(`x${C1_CSI}`);

    const failed = await run('info', 'com.evil.info@^9', '--json');
    expect(failed.code).toBe(1);
    expectInert(failed);
    expect(failed.json().error.message).toContain(INFO_VERSION);
  });
});
