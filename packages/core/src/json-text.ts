/**
 * Parsing JSON that a registry or a user supplied, so that no message ever quotes it. V8's SyntaxError quotes the
 * bytes at the fault (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`): a registry.json linked to
 * /etc/passwd put that file into an error message. On a syntax error this gives the line, column and offset and a
 * reason from a fixed list instead — found by a small scanner, since V8 gives no position for most errors.
 *
 * It also finds `__proto__` keys. JSON.parse keeps one as an own property, but every later copy either drops it
 * (zod skips it, so a tier named `__proto__` would vanish silently) or, by plain assignment, turns it into the
 * prototype of the copy. Callers refuse such documents, naming the field.
 */

import { RegistryError } from './errors.js';

export interface JsonSyntaxProblem {
  /** 0-based offset in the text (UTF-16 code units, after a leading byte order mark). */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** What is wrong there, in words that never include the text. */
  reason: string;
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; problem: JsonSyntaxProblem };

/** Parses `text` (a leading byte order mark is ignored). A syntax error is returned as its position, not thrown. */
export function parseJsonText(text: string): JsonParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // Before JSON.parse: millions of nested brackets are a few megabytes of text but cost gigabytes once parsed and
  // walked. No registry document nests anywhere near this deep.
  const deep = tooDeepAt(body, MAX_JSON_DEPTH);
  if (deep !== undefined) {
    return { ok: false, problem: { offset: deep, reason: `nests deeper than ${MAX_JSON_DEPTH} levels`, ...lineAndColumn(body, deep) } };
  }
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    // The SyntaxError is dropped on purpose: its message quotes the text.
    const found = locateSyntaxError(body) ?? { offset: body.length, reason: 'not valid JSON' };
    return { ok: false, problem: { ...found, ...lineAndColumn(body, found.offset) } };
  }
}

/** `line 3, column 7: expected ',' or '}'`. */
export function describeJsonProblem(problem: JsonSyntaxProblem): string {
  return `line ${problem.line}, column ${problem.column}: ${problem.reason}`;
}

/** How deep objects and arrays may nest in a JSON document. */
export const MAX_JSON_DEPTH = 256;

/** The offset of the bracket that opens level `max + 1`, outside strings, or `undefined`. One pass, no allocation. */
function tooDeepAt(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return undefined;
}

/**
 * Whether `text` could hold a `__proto__` key at all: written out, or hidden behind a `\u` escape. Most documents
 * hold neither, and then the walk below is skipped.
 */
export function mayHoldProtoKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('\\u');
}

/** The path (`extensions.curated[0].__proto__`) of a `__proto__` key in a parsed JSON value (the shallowest), if any. */
export function findProtoKey(value: unknown): string | undefined {
  // A queue, not recursion (JSON.parse accepts nesting deeper than a recursive walk could follow), of containers only,
  // each with a link to its parent: the path is built for the one key reported, not kept for every value.
  type Node = { value: object; parent: number; key: string | number };
  const queue: Node[] = [];
  if (typeof value === 'object' && value !== null) queue.push({ value, parent: -1, key: '' });
  const pathOf = (index: number, last: string): string => {
    const keys: Array<string | number> = [last];
    for (let at = index; at > 0; at = queue[at]!.parent) keys.push(queue[at]!.key);
    let path = '';
    for (const key of keys.reverse()) path += typeof key === 'number' ? `[${key}]` : path === '' ? key : `.${key}`;
    return path;
  };
  for (let next = 0; next < queue.length; next++) {
    const current = queue[next]!.value;
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const child: unknown = current[i];
        if (typeof child === 'object' && child !== null) queue.push({ value: child, parent: next, key: i });
      }
      continue;
    }
    for (const key of Object.keys(current)) {
      if (key === '__proto__') return pathOf(next, key);
      const child = (current as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) queue.push({ value: child, parent: next, key });
    }
  }
  return undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
/** Characters allowed after a backslash: " \ / b f n r t (u is handled apart). */
const SIMPLE_ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/**
 * The offset of the first JSON syntax error in `text` (RFC 8259), or `undefined` when there is none. Iterative, with
 * an explicit stack of open containers, for the same reason as `findProtoKey`.
 */
export function locateSyntaxError(text: string): { offset: number; reason: string } | undefined {
  const n = text.length;
  const open: Array<'object' | 'array'> = [];
  let i = 0;
  // What may come next: a value, a value or `]`, a key, a key or `}`, or what follows a value.
  let expect: 'value' | 'value-or-end' | 'key' | 'key-or-end' | 'after' = 'value';
  const fail = (reason: string, at = i) => ({ offset: at, reason });
  const end = () => fail('unexpected end of the file');

  /** Scans a string starting at its quote; returns an error or advances `i` past the closing quote. */
  const string = (): { offset: number; reason: string } | undefined => {
    i += 1;
    for (;;) {
      if (i >= n) return fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i += 1;
        return undefined;
      }
      if (c < 0x20) return fail('control character inside a string (write it as an escape)');
      if (c === 0x5c) {
        const next = text.charCodeAt(i + 1);
        if (SIMPLE_ESCAPES.has(next)) i += 2;
        else if (next === 0x75) {
          for (let k = 2; k < 6; k++) if (!isHex(text.charCodeAt(i + k))) return fail('invalid \\u escape', i);
          i += 6;
        } else return i + 1 >= n ? fail('unterminated string') : fail('invalid escape in a string', i);
        continue;
      }
      i += 1;
    }
  };

  const number = (): { offset: number; reason: string } | undefined => {
    if (text.charCodeAt(i) === 0x2d) i += 1;
    if (text.charCodeAt(i) === 0x30) i += 1;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i += 1;
    else return i >= n ? end() : fail('invalid number');
    if (text.charCodeAt(i) === 0x2e) {
      i += 1;
      if (!isDigit(text.charCodeAt(i))) return i >= n ? end() : fail('invalid number: digits must follow the decimal point');
      while (isDigit(text.charCodeAt(i))) i += 1;
    }
    if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45) {
      i += 1;
      if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i += 1;
      if (!isDigit(text.charCodeAt(i))) return i >= n ? end() : fail('invalid number: digits must follow the exponent');
      while (isDigit(text.charCodeAt(i))) i += 1;
    }
    return undefined;
  };

  for (;;) {
    while (i < n && isWhitespace(text.charCodeAt(i))) i += 1;
    const c = text.charCodeAt(i);
    if (expect === 'after') {
      const top = open.at(-1);
      if (top === undefined) return i < n ? fail('unexpected content after the JSON value') : undefined;
      if (i >= n) return end();
      if (c === 0x2c) {
        i += 1;
        expect = top === 'object' ? 'key' : 'value';
      } else if ((top === 'object' && c === 0x7d) || (top === 'array' && c === 0x5d)) {
        i += 1;
        open.pop();
      } else return fail(top === 'object' ? "expected ',' or '}'" : "expected ',' or ']'");
      continue;
    }
    if (i >= n) return end();
    if (expect === 'key' || expect === 'key-or-end') {
      if (expect === 'key-or-end' && c === 0x7d) {
        i += 1;
        open.pop();
        expect = 'after';
        continue;
      }
      if (c !== 0x22) return fail('expected a property name in double quotes');
      const bad = string();
      if (bad) return bad;
      while (i < n && isWhitespace(text.charCodeAt(i))) i += 1;
      if (i >= n) return end();
      if (text.charCodeAt(i) !== 0x3a) return fail("expected ':' after a property name");
      i += 1;
      expect = 'value';
      continue;
    }
    // A value (or, right after `[`, the end of the array).
    if (expect === 'value-or-end' && c === 0x5d) {
      i += 1;
      open.pop();
      expect = 'after';
      continue;
    }
    if (c === 0x7b) {
      i += 1;
      open.push('object');
      expect = 'key-or-end';
      continue;
    }
    if (c === 0x5b) {
      i += 1;
      open.push('array');
      expect = 'value-or-end';
      continue;
    }
    expect = 'after';
    if (c === 0x22) {
      const bad = string();
      if (bad) return bad;
      continue;
    }
    if (c === 0x2d || isDigit(c)) {
      const bad = number();
      if (bad) return bad;
      continue;
    }
    const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
    if (literal) {
      i += literal.length;
      continue;
    }
    const partial = ['true', 'false', 'null'].some((word) => word.startsWith(text.slice(i)));
    return partial ? fail('unexpected end of the file', n) : fail('unexpected character');
  }
}

/** Where a document comes from, for the error `parseJsonDocument` throws. */
export interface JsonDocumentSource {
  /** `E_INDEX_INVALID` for what a registry serves, `E_CONFIG` for the user's own files. */
  code: 'E_INDEX_INVALID' | 'E_CONFIG';
  /** The file as messages and `details.file` name it. */
  file: string;
  /** How a message starts: `registry.json of registry "x"`, `Config file /etc/x.json`. */
  label: string;
  registry?: string;
  /** What to do about a syntax error. */
  next: string;
}

/**
 * Parses a JSON document, refusing syntax errors (by position: line, column and offset, never content) and
 * `__proto__` keys (by field path).
 */
export function parseJsonDocument(text: string, source: JsonDocumentSource): unknown {
  const parsed = parseJsonText(text);
  const registry = source.registry === undefined ? {} : { registry: source.registry };
  if (!parsed.ok) {
    const { line, column, offset } = parsed.problem;
    throw new RegistryError(source.code, `${source.label} is not valid JSON (${describeJsonProblem(parsed.problem)}). ${source.next}`, {
      ...registry,
      details: { file: source.file, line, column, offset },
    });
  }
  const proto = mayHoldProtoKey(text) ? findProtoKey(parsed.value) : undefined;
  if (proto !== undefined) {
    throw new RegistryError(
      source.code,
      `${source.label}: field ${proto} is named "__proto__", which cannot be a field name (JavaScript objects reserve it). Rename or remove the field.`,
      { ...registry, details: { file: source.file, field: proto } },
    );
  }
  return parsed.value;
}
