/**
 * Property tests of `registry.json` parsing (issue 14): `parseRegistryIndex` takes any bytes to entries or to a
 * RegistryError (`E_INDEX_INVALID`, or `E_UNSAFE_PATH` for an entry path that could leave the registry), never another
 * exception; a generated index round-trips; entry paths come out normalized and inside the registry, with the base
 * (`registry/` or the root) the docs describe; duplicates, prototype keys, a byte order mark and whitespace behave as
 * documented; and a manifest.json on disk parses or fails the same way.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, posix, win32 } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRegistryIndex } from '../src/index-format.js';
import { readEntryManifest } from '../src/manifest.js';
import type { IndexEntry } from '../src/types.js';
import { FIXTURE, tempDir } from './helpers.js';
import { expectRegistryError, hostilePath, insideBy, prototypeKeys, runs, thrown } from './support/properties.js';

const PARSE_CODES = ['E_INDEX_INVALID', 'E_UNSAFE_PATH'] as const;
const parse = (bytes: Uint8Array | string) => parseRegistryIndex(bytes, { registry: 'r' });

/** Names JavaScript objects already answer to: as ids, tiers and field names they must stay plain data. */
const PROTOTYPE_NAMES = ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

const word = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/);
const text = fc.oneof(
  word,
  fc.string({ maxLength: 12 }).filter((s) => s.length > 0),
  fc.constantFrom(...PROTOTYPE_NAMES),
);
const version = fc.tuple(fc.nat(9), fc.nat(9), fc.nat(9)).map(([a, b, c]) => `${a}.${b}.${c}`);

/**
 * A folder name that is not `registry` (that first segment decides the base, below), among them names that only look
 * like it, and names odd enough for a path but harmless.
 */
const folder = fc.oneof(
  { weight: 4, arbitrary: word.filter((w) => w !== 'registry') },
  { weight: 1, arbitrary: fc.constantFrom('.registry', '_registry', 'registry-old', 'registry.d', '.hidden', 'x y', 'é', 'C', ...PROTOTYPE_NAMES) },
);

/**
 * An entry path as people write it, and its normal form: segments joined by `/`, `\` or doubled or dotted separators,
 * with a `./` prefix, a trailing separator or a detour (`x/../`) thrown in.
 */
function writtenPath(first: fc.Arbitrary<string[]>): fc.Arbitrary<{ written: string; normal: string }> {
  return fc
    .record({
      segments: first,
      separators: fc.array(fc.constantFrom('/', '\\', '//', '/./', '\\.\\'), { minLength: 8, maxLength: 8 }),
      prefix: fc.constantFrom('', '', './', '.\\'),
      trailing: fc.constantFrom('', '', '/', '\\'),
      detour: fc.option(fc.tuple(fc.nat(), folder), { nil: undefined }),
    })
    .map(({ segments, separators, prefix, trailing, detour }) => {
      const parts = [...segments];
      // `x/..` after the first segment: the first one is what says which base the index uses.
      if (detour && parts.length > 1) parts.splice(1 + (detour[0] % (parts.length - 1)), 0, detour[1], '..');
      const written = prefix + parts.map((p, i) => (i === 0 ? p : separators[i % separators.length]! + p)).join('') + trailing;
      return { written, normal: segments.join('/') };
    });
}

/** The page's shape: paths relative to `registry/`. */
const pagePath = writtenPath(fc.array(folder, { minLength: 1, maxLength: 4 }));
/** The real registry's shape: paths from the repository root, starting with `registry/`. */
const rootPath = writtenPath(fc.array(folder, { minLength: 1, maxLength: 3 }).map((rest) => ['registry', ...rest]));

interface GeneratedEntry {
  raw: Record<string, unknown>;
  /** What `entry.path` must be once parsed. */
  path: string;
}

function entry(path: fc.Arbitrary<{ written: string; normal: string }>, base: 'root' | 'registry'): fc.Arbitrary<GeneratedEntry> {
  return fc
    .record(
      {
        id: text,
        name: text,
        version,
        path,
        package: fc.oneof(word, fc.constant('')),
        description: fc.string({ maxLength: 10 }),
        kinds: fc.array(fc.oneof(word, fc.constantFrom(...PROTOTYPE_NAMES)), { maxLength: 3 }),
        kind: word,
        tools: fc.array(word, { maxLength: 2 }),
        verified: fc.boolean(),
        author: fc.oneof(word, fc.record({ name: word }, { requiredKeys: [] })),
        // Unknown fields are kept as written, prototype names among them.
        extra: fc.dictionary(fc.oneof(word, fc.constantFrom(...PROTOTYPE_NAMES)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      },
      { requiredKeys: ['id', 'name', 'version', 'path', 'extra'] },
    )
    .map(({ path: p, extra, ...fields }) => {
      const known = new Set([
        'id',
        'name',
        'version',
        'path',
        'package',
        'description',
        'kinds',
        'kind',
        'tools',
        'verified',
        'author',
        'dist',
        'category',
        'keywords',
      ]);
      const unknown = Object.fromEntries(Object.entries(extra).filter(([k]) => !known.has(k)));
      return { raw: { ...unknown, ...fields, path: p.written }, path: base === 'root' ? p.normal : `registry/${p.normal}` };
    });
}

const tierName = fc.oneof(fc.constantFrom('curated', 'community', 'templates'), word, fc.constantFrom(...PROTOTYPE_NAMES));

interface GeneratedIndex {
  doc: Record<string, unknown>;
  /** The entries `parseRegistryIndex` must return, in order. */
  expected: Array<Pick<IndexEntry, 'id' | 'name' | 'version' | 'section' | 'tier' | 'path'>>;
}

/** A valid index in one of the two shapes, with `(section, id, version)` unique as the format requires. */
const validIndex: fc.Arbitrary<GeneratedIndex> = fc
  .constantFrom('root', 'registry', 'inferred-root', 'inferred-registry')
  .chain((style) => {
    const base = style.endsWith('root') ? 'root' : 'registry';
    const path = base === 'root' ? rootPath : pagePath;
    const tiers = fc.dictionary(tierName, fc.array(entry(path, base), { maxLength: 4 }), { minKeys: 1, maxKeys: 3 });
    return fc.record(
      {
        style: fc.constant(style),
        extensions: tiers,
        personas: tiers,
        version: version,
        updated: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        categories: fc.dictionary(word, fc.array(word, { maxLength: 2 }), { maxKeys: 2 }),
        extra: fc.dictionary(fc.oneof(word, fc.constantFrom(...PROTOTYPE_NAMES)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      },
      { requiredKeys: ['style', 'extensions', 'extra'] },
    );
  })
  .map(({ style, extensions, personas, extra, ...top }) => {
    const doc: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(extra))
      if (!['extensions', 'personas', 'pathBase', 'version', 'updated', 'categories', '$schema'].includes(k)) doc[k] = v;
    Object.assign(doc, top);
    if (style === 'root' || style === 'registry') doc.pathBase = style;
    const expected: GeneratedIndex['expected'] = [];
    const seen = new Set<string>();
    for (const [section, tiers] of [
      ['extensions', extensions],
      ['personas', personas],
    ] as const) {
      if (tiers === undefined) continue;
      const out: Record<string, unknown[]> = {};
      for (const [tier, list] of Object.entries(tiers)) {
        out[tier] = [];
        for (const e of list) {
          const key = `${section}\0${e.raw.id}\0${e.raw.version}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out[tier].push(e.raw);
          expected.push({ id: e.raw.id as string, name: e.raw.name as string, version: e.raw.version as string, section, tier, path: e.path });
        }
      }
      doc[section] = out;
    }
    return { doc, expected };
  })
  // fast-check's strings like to be "__proto__"; a valid index has no such key (that case is tested on its own below).
  .filter(({ doc }) => !JSON.stringify(doc).includes('"__proto__"'));

const summary = (entries: readonly IndexEntry[]) => entries.map(({ id, name, version, section, tier, path }) => ({ id, name, version, section, tier, path }));

/** Every path to a value inside a JSON document, objects and arrays included. */
function pathsOf(value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => void pathsOf(v, [...at, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

/** The value at `path` inside `doc`. */
function valueAt(doc: unknown, path: ReadonlyArray<string | number>): unknown {
  return path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)[key], doc);
}

/** A deep copy of `doc` with the value at `path` replaced. */
function replaced(doc: unknown, path: ReadonlyArray<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  Object.defineProperty(at, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

describe('parseRegistryIndex (property)', () => {
  it('a valid generated index parses to exactly its entries, normalized, and round-trips through its raw form', () => {
    fc.assert(
      fc.property(validIndex, ({ doc, expected }) => {
        const parsed = parse(JSON.stringify(doc));
        expect(summary(parsed.entries)).toEqual(expected);
        // What it keeps as written (`raw`, unknown fields included) parses to the same entries again.
        const again = parse(JSON.stringify(parsed.raw));
        expect(again.entries).toEqual(parsed.entries);
        expect(JSON.parse(JSON.stringify(parsed.raw))).toEqual(doc);
        for (const [i, e] of parsed.entries.entries())
          expect(JSON.parse(JSON.stringify(e.raw))).toEqual(
            (doc[e.section] as Record<string, unknown[]>)[e.tier]!.find(
              (r) => (r as { id: string }).id === expected[i]!.id && (r as { version: string }).version === expected[i]!.version,
            ),
          );
      }),
      runs(500),
    );
  });

  it('any string, any bytes, any JSON value gives an index or E_INDEX_INVALID / E_UNSAFE_PATH, never another exception', () => {
    const anything = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'u', '0', 'e', '-', '.', ' ', 'n', 't', '\ufeff'), maxLength: 40 }),
      // A valid index cut short, or with one character changed.
      fc.tuple(validIndex, fc.nat(), fc.string({ unit: 'binary', maxLength: 2 })).map(([{ doc }, at, junk]) => {
        const textOf = JSON.stringify(doc);
        const i = at % (textOf.length + 1);
        return textOf.slice(0, i) + junk + textOf.slice(i + (junk.length > 0 ? 1 : 0));
      }),
    );
    fc.assert(
      fc.property(anything, (input) => {
        const error = thrown(() => parse(input));
        if (error !== undefined) expectRegistryError(error, PARSE_CODES);
      }),
      runs(3000),
    );
  });

  it('a valid index with any one value replaced by any JSON value parses, or fails naming a field that is in the document', () => {
    fc.assert(
      fc.property(validIndex, fc.nat(), fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostilePath), ({ doc }, pick, value) => {
        const paths = pathsOf(doc);
        const target = paths[pick % paths.length]!;
        const changed = replaced(doc, target, value);
        const error = thrown(() => parse(JSON.stringify(changed)));
        if (error === undefined) return;
        expectRegistryError(error, PARSE_CODES);
        const field = (error.details as { field?: string } | undefined)?.field;
        expect(typeof field).toBe('string');
        // A json path into the document (`extensions.curated[0].path`, `(root)`), the file named apart in `details.file`;
        // `extensions` is named when neither list is left.
        const head = String(field).split(/[.[]/)[0];
        const top = typeof changed === 'object' && changed !== null && !Array.isArray(changed) ? Object.keys(changed) : [];
        expect(['(root)', 'extensions', ...top]).toContain(head);
        expect((error.details as { file?: string }).file).toBe('registry.json');
      }),
      runs(1500),
    );
  });

  it('an entry path with `..`, an absolute or drive path, backslashes or NUL is refused (E_UNSAFE_PATH) or comes out normalized inside the registry', () => {
    fc.assert(
      fc.property(hostilePath, fc.constantFrom('root', 'registry', undefined), (path, pathBase) => {
        const doc = { ...(pathBase ? { pathBase } : {}), extensions: { curated: [{ id: 'a', name: 'a', version: '1.0.0', path }] } };
        const error = thrown(() => parse(JSON.stringify(doc)));
        if (error !== undefined) {
          // A path of zero length is refused by the schema before its folder is looked at.
          expectRegistryError(error, path === '' ? ['E_INDEX_INVALID'] : ['E_UNSAFE_PATH']);
          return;
        }
        const { path: clean } = parse(JSON.stringify(doc)).entries[0]!;
        expect(clean).not.toMatch(/[\0\\]/);
        expect(clean).not.toBe('');
        for (const segment of clean.split('/')) expect(['', '.', '..']).not.toContain(segment);
        expect(insideBy(posix, '/srv/root', posix.resolve('/srv/root', clean))).toBe(true);
        expect(insideBy(win32, 'C:\\srv\\root', win32.resolve('C:\\srv\\root', clean))).toBe(true);
        expect(posix.resolve('/srv/root', clean)).not.toBe('/srv/root');
        if (pathBase === 'registry') expect(clean.startsWith('registry/')).toBe(true);
      }),
      runs(2000),
    );
  });

  it('the same (section, id, version) twice, in any tiers, is E_INDEX_INVALID naming the second; another version or section is kept', () => {
    fc.assert(
      fc.property(validIndex, fc.nat(), fc.nat(), fc.constantFrom('same', 'other-version', 'other-section'), ({ doc, expected }, pickEntry, pickTier, how) => {
        fc.pre(expected.length > 0);
        const original = expected[pickEntry % expected.length]!;
        const section = how === 'other-section' ? (original.section === 'extensions' ? 'personas' : 'extensions') : original.section;
        const tiers = (doc[section] ?? {}) as Record<string, unknown[]>;
        // Not an integer-like name: JavaScript orders those first in an object whatever the insertion order.
        const tierNames = [...Object.keys(tiers), 'community'].filter((name) => !/^(0|[1-9]\d*)$/.test(name));
        const tier = tierNames[pickTier % tierNames.length]!;
        const source = (doc[original.section] as Record<string, Array<Record<string, unknown>>>)[original.tier]!.find(
          (r) => r.id === original.id && r.version === original.version,
        )!;
        const copy: Record<string, unknown> = { ...source, ...(how === 'other-version' ? { version: `${original.version}-next` } : {}) };
        const changed = structuredClone(doc) as Record<string, Record<string, unknown[]>>;
        changed[section] ??= {};
        // The copy goes after every entry, so it is the second of the two whichever tier it is in.
        const entries = Object.entries(changed[section]!).filter(([name]) => name !== tier);
        changed[section] = Object.fromEntries([...entries, [tier, [...(changed[section]![tier] ?? []), copy]]]);
        const ids = new Set(expected.filter((e) => e.section === section).map((e) => `${e.id}\0${e.version}`));
        const clash = ids.has(`${copy.id}\0${copy.version}`);
        const error = thrown(() => parse(JSON.stringify(changed)));
        if (clash) {
          expectRegistryError(error, ['E_INDEX_INVALID']);
          expect(error.message).toContain('twice');
          expect((error.details as { field: string }).field).toBe(`${section}.${tier}[${changed[section]![tier]!.length - 1}].id`);
        } else {
          expect(error).toBeUndefined();
          expect(parse(JSON.stringify(changed)).entries).toHaveLength(expected.length + 1);
        }
      }),
      runs(800),
    );
  });

  it('a "__proto__" key anywhere, written or escaped, is E_INDEX_INVALID naming it; other prototype names are plain data; Object.prototype is untouched', () => {
    const before = prototypeKeys();
    fc.assert(
      fc.property(
        validIndex,
        fc.nat(),
        fc.constantFrom('__proto__', '\\u005f_proto__', '__proto\\u005f_', ...PROTOTYPE_NAMES),
        fc.jsonValue({ maxDepth: 2 }),
        ({ doc }, pick, key, value) => {
          const objects = pathsOf(doc).filter((p) => {
            const at = valueAt(doc, p);
            return typeof at === 'object' && at !== null && !Array.isArray(at);
          });
          const target = objects[pick % objects.length]!;
          // The key is put into the JSON text as written: JSON.parse keeps `__proto__` as an own key and decodes escapes.
          const holder = structuredClone(doc);
          (valueAt(holder, target) as Record<string, unknown>)['\u0001marker'] = value;
          const textOf = JSON.stringify(holder).replace('"\\u0001marker":', `"${key}":`);
          expect(textOf).toContain(`"${key}":`);
          const error = thrown(() => parse(textOf));
          const isProto = key.replace(/\\u005f/g, '_') === '__proto__';
          if (isProto) {
            expectRegistryError(error, ['E_INDEX_INVALID']);
            expect(error.message).toContain('__proto__');
            expect((error.details as { field: string }).field).toMatch(/__proto__$/);
          } else if (error !== undefined) {
            // A prototype name where the schema wants something else (an `extensions.constructor` tier that is not a
            // list…) is an ordinary invalid field.
            expectRegistryError(error, PARSE_CODES);
          }
          expect(prototypeKeys()).toEqual(before);
        },
      ),
      runs(800),
    );
  });

  it('a byte order mark and JSON whitespace around the document are accepted, as bytes or text; anything else around it is not', () => {
    const space = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), maxLength: 4 });
    fc.assert(
      fc.property(validIndex, fc.boolean(), space, space, fc.boolean(), ({ doc, expected }, bom, before, after, asBytes) => {
        const textOf = `${bom ? '\ufeff' : ''}${before}${JSON.stringify(doc, null, before.length % 3)}${after}`;
        const parsed = parse(asBytes ? new TextEncoder().encode(textOf) : textOf);
        expect(summary(parsed.entries)).toEqual(expected);
      }),
      runs(300),
    );
    const other = fc.constantFrom('\ufeff\ufeff', '\u00a0', '\v', '\f', '\u2028', '\u0000', 'x', '\ufffe');
    fc.assert(
      fc.property(validIndex, other, fc.boolean(), ({ doc }, junk, atEnd) => {
        const textOf = atEnd ? `${JSON.stringify(doc)}${junk}` : `${junk}${JSON.stringify(doc)}`;
        fc.pre(!(junk === '\ufeff\ufeff' && atEnd));
        expectRegistryError(
          thrown(() => parse(textOf)),
          ['E_INDEX_INVALID'],
        );
      }),
      runs(200),
    );
  });

  it('a syntax error never quotes the document: the message gives a position, not bytes', () => {
    fc.assert(
      fc.property(validIndex, fc.nat(), ({ doc }, at) => {
        const secret = 'Zq9-secret-Xw7';
        const textOf = JSON.stringify({ ...doc, note: secret });
        const cut = textOf.indexOf(secret) + (at % secret.length);
        const broken = `${textOf.slice(0, cut)}"${textOf.slice(cut)}`;
        const error = thrown(() => parse(broken));
        expectRegistryError(error, ['E_INDEX_INVALID']);
        for (let i = 0; i + 4 <= secret.length; i++) expect(error.message).not.toContain(secret.slice(i, i + 4));
        expect(error.message).toMatch(/line \d+, column \d+/);
      }),
      runs(300),
    );
  });
});

describe.skipIf(!existsSync(FIXTURE))('the real AgentOS extensions registry', () => {
  it('parses to its 117 entries, each an existing folder, and round-trips', () => {
    const bytes = readFileSync(join(FIXTURE, 'registry.json'));
    const parsed = parse(bytes);
    expect(parsed.entries).toHaveLength(117);
    // Root-relative (a path starts with `registry/`), so the three templates stay in the root's `templates/`.
    for (const e of parsed.entries) expect(statSync(join(FIXTURE, ...e.path.split('/'))).isDirectory(), e.path).toBe(true);
    expect(parsed.entries.filter((e) => !e.path.startsWith('registry/')).map((e) => e.path)).toEqual([
      'templates/basic-tool',
      'templates/guardrail',
      'templates/multi-tool',
    ]);
    expect(parse(JSON.stringify(parsed.raw)).entries).toEqual(parsed.entries);
    expect(parse(JSON.stringify(parsed.raw, null, 4)).entries).toEqual(parsed.entries);
  });
});

describe('readEntryManifest on a real manifest.json (property)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await tempDir();
  });
  const indexEntry: IndexEntry = {
    id: 'com.test.x',
    name: 'X',
    version: '1.0.0',
    section: 'extensions',
    tier: 'curated',
    path: 'registry/curated/x',
    kinds: ['tool'],
    raw: {},
  };
  const manifest = fc
    .record(
      {
        id: word,
        name: text,
        version: fc.oneof(version, fc.constant('1.0.0')),
        description: fc.string({ maxLength: 8 }),
        extensions: fc.array(fc.record({ kind: word, id: word, displayName: text }, { requiredKeys: ['kind', 'id'] }), { maxLength: 3 }),
        extra: fc.dictionary(fc.oneof(word, fc.constantFrom(...PROTOTYPE_NAMES)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      },
      { requiredKeys: ['name', 'version', 'extra'] },
    )
    .map(({ extra, ...known }) => ({ ...extra, ...known }));

  it('a valid manifest is read as written (unknown fields kept); any other JSON or bytes is E_INDEX_INVALID, never another exception', async () => {
    const written = fc.oneof(
      { weight: 2, arbitrary: manifest.map((m) => ({ bytes: JSON.stringify(m), value: m as unknown })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ bytes: JSON.stringify(v), value: undefined as unknown })) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => ({ bytes: s, value: undefined as unknown })) },
    );
    await fc.assert(
      fc.asyncProperty(written, async ({ bytes, value }) => {
        await rm(join(dir, 'manifest.json'), { force: true });
        await writeFile(join(dir, 'manifest.json'), bytes);
        const result = await readEntryManifest(dir, indexEntry, 'r').catch((error: unknown) => error);
        if (value !== undefined) {
          expect(result).not.toBeInstanceOf(Error);
          const { manifest: read, synthesized, warnings } = result as Awaited<ReturnType<typeof readEntryManifest>>;
          expect(synthesized).toBe(false);
          expect(JSON.parse(JSON.stringify(read))).toEqual(value);
          expect(warnings.some((w) => w.code === 'W_VERSION_DRIFT')).toBe((value as { version: string }).version !== indexEntry.version);
        } else if (result instanceof Error) {
          expectRegistryError(result, ['E_INDEX_INVALID']);
        }
      }),
      runs(300),
    );
  });
});
