import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One entry of the conformance registry, with every file its folder holds. */
export interface ConformanceFixtureEntry {
  /** The entry id in `registry.json`. */
  readonly id: string;
  /** The kind to pass to `fetch`: `tool` for extensions, `persona` for personas. */
  readonly kind: 'tool' | 'persona';
  /** The index section the entry is listed in. */
  readonly section: 'extensions' | 'personas';
  /** The entry's folder relative to the registry root (where its files are written). */
  readonly folder: string;
  /** Every file of the folder: relative POSIX path → content (text is written as UTF-8). */
  readonly files: Readonly<Record<string, string | Uint8Array>>;
}

/** The conformance registry: its `registry.json` document and its entries. */
export interface ConformanceFixtureData {
  /** The `registry.json` document, in the page's shape (entry paths relative to `registry/`). */
  readonly index: Readonly<Record<string, unknown>>;
  readonly entries: readonly ConformanceFixtureEntry[];
}

/** What a harness's `setup` receives: a freshly written fixture folder, private to this setup, and its data. */
export interface ConformanceFixture {
  /** Absolute folder holding `registry.json` and `registry/`. The harness may publish it as is, move it or edit it. */
  readonly dir: string;
  readonly data: ConformanceFixtureData;
}

const AUTHOR = { name: 'Conformance Kit', email: 'conformance@example.invalid' };

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function toolManifest(id: string, name: string, toolId: string) {
  return json({
    id,
    name,
    version: '1.0.0',
    description: `${name}, part of the agentos-registry conformance fixture.`,
    author: AUTHOR,
    extensions: [{ kind: 'tool', id: toolId, displayName: name, entry: './src/index.js' }],
  });
}

// Code files are small and fixed so that a transport that rewrites bytes (line endings, encoding, trailing newline)
// is caught by the byte comparison. `pixel.bin` adds a NUL, a CR LF pair and bytes above 0x7f for the same reason.
const echoTool: ConformanceFixtureEntry = {
  id: 'com.conformance.echo',
  kind: 'tool',
  section: 'extensions',
  folder: 'registry/curated/echo',
  files: {
    'manifest.json': toolManifest('com.conformance.echo', 'Echo Tool', 'echo'),
    'src/index.js':
      "// Conformance fixture: returns its input.\nexport function createExtensionPack() {\n  return { name: 'echo', descriptors: [{ id: 'echo', kind: 'tool', payload: { run: (input) => input } }] };\n}\n",
    'assets/pixel.bin': new Uint8Array([0x00, 0x0d, 0x0a, 0x7f, 0x80, 0xc3, 0x28, 0xff]),
  },
};

const clockTool: ConformanceFixtureEntry = {
  id: 'com.conformance.clock',
  kind: 'tool',
  section: 'extensions',
  folder: 'registry/curated/clock',
  files: {
    'manifest.json': toolManifest('com.conformance.clock', 'Clock Tool', 'clock'),
    'src/index.js':
      "// Conformance fixture: reports a fixed instant, so its output never varies.\nexport function createExtensionPack() {\n  return { name: 'clock', descriptors: [{ id: 'clock', kind: 'tool', payload: { run: () => '2024-11-14T00:00:00.000Z' } }] };\n}\n",
  },
};

const helperPersona: ConformanceFixtureEntry = {
  id: 'com.conformance.helper',
  kind: 'persona',
  section: 'personas',
  folder: 'registry/personas/helper',
  files: {
    'manifest.json': json({ id: 'com.conformance.helper', name: 'Helper Persona', version: '1.0.0', kind: 'persona', author: AUTHOR }),
    'persona.json': json({
      id: 'com.conformance.helper',
      name: 'Helper Persona',
      version: '1.0.0',
      baseSystemPrompt: 'You are a helpful assistant used to test registry sources.',
    }),
  },
};

/** Strips the `registry/` prefix: the page's shape gives entry paths relative to that folder. */
const indexPath = (entry: ConformanceFixtureEntry) => entry.folder.slice('registry/'.length);

const indexEntry = (entry: ConformanceFixtureEntry, name: string, description: string) => ({
  id: entry.id,
  name,
  version: '1.0.0',
  path: indexPath(entry),
  description,
  author: AUTHOR,
});

/**
 * The registry every source's conformance run publishes: two curated tools and one curated persona, in the page's
 * `registry.json` shape. Frozen so a test cannot change what later tests compare against.
 */
export const conformanceFixture: ConformanceFixtureData = deepFreeze({
  index: {
    version: '1.0.0',
    updated: '2024-11-14T00:00:00.000Z',
    categories: { curated: ['tools'], community: [] },
    extensions: {
      curated: [indexEntry(echoTool, 'Echo Tool', 'Returns its input.'), indexEntry(clockTool, 'Clock Tool', 'Reports a fixed instant.')],
      community: [],
    },
    personas: {
      curated: [indexEntry(helperPersona, 'Helper Persona', 'A persona for source tests.')],
      community: [],
    },
  },
  entries: [echoTool, clockTool, helperPersona],
});

/** The bytes of a fixture file as written to disk. */
export function fixtureBytes(content: string | Uint8Array): Uint8Array {
  return typeof content === 'string' ? new TextEncoder().encode(content) : content;
}

/** The exact text the kit writes as `registry.json` for an index document. */
export function indexText(index: Readonly<Record<string, unknown>>): string {
  return json(index);
}

/**
 * Writes the conformance registry into `dir` (created if needed): `registry.json` and every entry folder. Writing is
 * deterministic, so two folders written by this function hash alike.
 *
 * @returns The fixture description handed to a harness's `setup`.
 */
export async function writeConformanceFixture(dir: string): Promise<ConformanceFixture> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'registry.json'), indexText(conformanceFixture.index));
  for (const entry of conformanceFixture.entries) {
    for (const [relative, content] of Object.entries(entry.files)) {
      const file = join(dir, entry.folder, relative);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, fixtureBytes(content));
    }
  }
  return { dir, data: conformanceFixture };
}

function deepFreeze<T>(value: T): T {
  // Typed arrays cannot be frozen (their bytes stay writable); they are not shared with callers' mutations anyway.
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value as object)) deepFreeze(child);
  return Object.freeze(value);
}
