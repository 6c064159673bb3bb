/** The JSON syntax scanner behind every "is not valid JSON" message: agrees with JSON.parse and gives positions. */
import { describe, expect, it } from 'vitest';
import { findProtoKey, locateSyntaxError, parseJsonText } from '../src/json-text.js';

const VALID = [
  '{}',
  '[]',
  ' {"a": [1, -2.5e+3, 0, true, false, null, "x\\n\\u00e9\\"\\\\\\/"]} ',
  '"just a string"',
  '0',
  '-0.0E-0',
  '{"nested": {"deeper": [[[]], {}]}}',
  '\t\r\n[\n1\n]\n',
];

const INVALID: Array<[text: string, line: number, column: number, reason: string]> = [
  ['root:x:0:0:root:/root:/bin/bash\n', 1, 1, 'unexpected character'],
  ['{"a": 1,,}', 1, 9, 'expected a property name in double quotes'],
  ['{"a":', 1, 6, 'unexpected end of the file'],
  ['', 1, 1, 'unexpected end of the file'],
  ['{"a":1} x', 1, 9, 'unexpected content after the JSON value'],
  ['[1,2', 1, 5, 'unexpected end of the file'],
  ['{"a": tru}', 1, 7, 'unexpected character'],
  ['{"a": "\u0001"}', 1, 8, 'control character inside a string (write it as an escape)'],
  ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}'"],
  ['[1 2]', 1, 4, "expected ',' or ']'"],
  ['{"a" 1}', 1, 6, "expected ':' after a property name"],
  ['"\\x"', 1, 2, 'invalid escape in a string'],
  ['"\\u12G4"', 1, 2, 'invalid \\u escape'],
  ['"open', 1, 6, 'unterminated string'],
  ['01', 1, 2, 'unexpected content after the JSON value'],
  ['1.', 1, 3, 'unexpected end of the file'],
  ['1.x', 1, 3, 'invalid number: digits must follow the decimal point'],
  ['-', 1, 2, 'unexpected end of the file'],
  ['nul', 1, 4, 'unexpected end of the file'],
  ["{'a': 1}", 1, 2, 'expected a property name in double quotes'],
  ['\u001b]0;pwned\u0007', 1, 1, 'unexpected character'],
];

describe('parseJsonText', () => {
  it.each(VALID)('accepts %j', (text) => {
    expect(locateSyntaxError(text)).toBeUndefined();
    expect(parseJsonText(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it.each(INVALID)('refuses %j at line %i, column %i: %s', (text, line, column, reason) => {
    const parsed = parseJsonText(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problem).toMatchObject({ line, column, reason });
  });

  it('ignores a byte order mark', () => {
    expect(parseJsonText('\ufeff{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('agrees with JSON.parse on every one-character change of a document', () => {
    const doc = '{"id": "x", "list": [1, 2.5e3, true, null, "a\\"b"], "o": {}}';
    const alphabet = ['', '"', '{', '}', '[', ']', ',', ':', ' ', '0', '-', 'e', '.', '\\', 'x', 't', '\u0001'];
    for (let i = 0; i <= doc.length; i++) {
      for (const char of alphabet) {
        for (const text of [doc.slice(0, i) + char + doc.slice(i), doc.slice(0, i) + char + doc.slice(i + 1)]) {
          let valid = true;
          try {
            JSON.parse(text);
          } catch {
            valid = false;
          }
          expect(locateSyntaxError(text) === undefined, JSON.stringify(text)).toBe(valid);
        }
      }
    }
  });

  it('follows nesting deeper than the call stack', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(locateSyntaxError(deep)).toBeUndefined();
    expect(locateSyntaxError(`${deep}]`)?.offset).toBe(400_000);
  });
});

describe('findProtoKey', () => {
  it('names the path of a __proto__ key that JSON.parse kept', () => {
    expect(findProtoKey(JSON.parse('{"extensions": {"curated": [{"id": "x", "__proto__": {}}]}}'))).toBe('extensions.curated[0].__proto__');
    expect(findProtoKey(JSON.parse('{"__proto__": 1}'))).toBe('__proto__');
    expect(findProtoKey(JSON.parse('{"a": [{"constructor": 1}]}'))).toBeUndefined();
  });
});
