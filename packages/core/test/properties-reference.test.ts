/**
 * Property tests of entry references (issue 14): `parseReference` takes any string to a reference or to a
 * RegistryError (E_CONFIG), never another exception; `formatReference` and `parseReference` round-trip; and a parsed
 * reference has the documented shape.
 */
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { type EntryReference, formatReference, parseReference } from '../src/reference.js';
import { expectRegistryError, runs, thrown } from './support/properties.js';

/** Characters that mean something in a reference, and some that should mean nothing. */
const REF_CHARS = ['@', ':', '/', ' ', '\t', '^', '~', '>', '<', '=', '|', '*', 'x', '.', '-', '+', '1', '0', 'a', 'z', 'é', '\0', '\n', '\u00a0', '\ufeff'];
const anyRef = fc.oneof(
  fc.string({ unit: fc.constantFrom(...REF_CHARS), maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('', ':', '@', '/'),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('', '@', '@@'),
      fc.string({ maxLength: 12 }),
    )
    .map((p) => p.join('')),
);

const word = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,14}$/);
const registryName = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}$/);
const id = fc.oneof(
  word,
  fc.tuple(word, word).map(([scope, name]) => `@${scope}/${name}`),
  fc.tuple(word, word).map(([a, b]) => `${a}/${b}`),
);
const version = fc
  .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.option(fc.constantFrom('alpha.1', 'rc.2', 'beta'), { nil: undefined }))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`);
const range = fc.oneof(
  version,
  version.map((v) => `^${v}`),
  version.map((v) => `~${v}`),
  fc.tuple(fc.nat(9), fc.nat(9)).map(([a, b]) => `>=${a} <${a + b + 1}`),
  fc.constantFrom('*', '1.x', '^1.2', '1 || 2', '>=1.0.0-rc.1'),
);
const reference: fc.Arbitrary<EntryReference> = fc.record({ registry: registryName, id, range }, { requiredKeys: ['id'] });

describe('parseReference (property)', () => {
  it('any string gives a reference or E_CONFIG, never another exception', () => {
    fc.assert(
      fc.property(anyRef, (text) => {
        const error = thrown(() => parseReference(text));
        if (error !== undefined) expectRegistryError(error, ['E_CONFIG', 'E_USAGE']);
      }),
      runs(2000),
    );
  });

  it('what it returns has the documented shape: a non-empty trimmed id, a valid range (never "latest"), a plain registry name', () => {
    fc.assert(
      fc.property(anyRef, (text) => {
        let parsed: EntryReference;
        try {
          parsed = parseReference(text);
        } catch {
          return;
        }
        expect(parsed.id).not.toBe('');
        expect(parsed.id).toBe(parsed.id.trim());
        if (parsed.range !== undefined) {
          expect(parsed.range).not.toBe('latest');
          expect(semver.validRange(parsed.range)).not.toBeNull();
        }
        if (parsed.registry !== undefined) {
          expect(parsed.registry).not.toMatch(/[@/:]/);
          expect(parsed.registry).not.toBe('');
          expect(parsed.registry).toBe(parsed.registry.trim());
        }
      }),
      runs(2000),
    );
  });

  it('parse ∘ format is the identity on references of the documented forms', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        expect(parseReference(formatReference(ref))).toEqual(ref);
      }),
      runs(1000),
    );
  });

  it('format ∘ parse is stable: what parses formats back to text that parses to the same reference', () => {
    fc.assert(
      fc.property(anyRef, (text) => {
        let parsed: EntryReference;
        try {
          parsed = parseReference(text);
        } catch {
          return;
        }
        expect(parseReference(formatReference(parsed))).toEqual(parsed);
      }),
      runs(2000),
    );
  });

  it('"latest" and an empty range both mean the preferred version', () => {
    fc.assert(
      fc.property(fc.option(registryName, { nil: undefined }), id, fc.constantFrom('@latest', '@', '', '@ latest ', '@ '), (registry, entry, tail) => {
        const expected = registry === undefined ? { id: entry } : { registry, id: entry };
        expect(parseReference(`${registry === undefined ? '' : `${registry}:`}${entry}${tail}`)).toEqual(expected);
      }),
      runs(500),
    );
  });
});
