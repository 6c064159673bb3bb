#!/usr/bin/env node
// Fails when the relative imports of a package's sources form a circle. Every edge counts, `import type` and
// `export type … from` included: the aim is a layered module graph, not only one that happens to load. No
// dependencies: a small tokenizer that skips comments, strings and template text finds
//   import … from './x.js'   import './x.js'   import('./x.js')   export … from './x.js'
// with a relative specifier, maps `.js`/`.mjs`/`.cjs` to the `.ts`/`.mts`/`.cts` beside it, and prints every
// elementary circle (as a path, type-only edges marked) per strongly connected group of files, then exits 1.
//
//   node scripts/check-cycles.mjs [folder …]     default: packages/*/src; a package's lint runs it on `src`
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(?:ts|mts|cts|tsx)$/;
const MAX_CYCLES_PER_GROUP = 200;

/** Tokens of a TypeScript file that matter for imports: identifiers/keywords, string literals, punctuation (each with `at`, its offset in the text). */
export function tokenize(text) {
  const tokens = [];
  let i = 0;
  const n = text.length;
  // Whether a `/` here starts a regular expression rather than dividing: after an operator, an opening bracket,
  // a keyword that takes an expression, or at the start.
  const regexAllowed = () => {
    const last = tokens[tokens.length - 1];
    if (!last) return true;
    if (last.type === 'punct') return !/^[)\]}]$/.test(last.value);
    if (last.type === 'word') return /^(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/.test(last.value);
    return false;
  };
  const skipString = (quote) => {
    let value = '';
    i++;
    while (i < n && text[i] !== quote) {
      if (text[i] === '\\') {
        value += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (text[i] === '\n') break; // unterminated: stop at the line end
      value += text[i++];
    }
    i++;
    return value;
  };
  // Template literal text is skipped; the expressions inside `${…}` are tokenized like code.
  const braceStack = [];
  const skipTemplate = () => {
    i++;
    while (i < n) {
      if (text[i] === '\\') {
        i += 2;
        continue;
      }
      if (text[i] === '`') {
        i++;
        return;
      }
      if (text[i] === '$' && text[i + 1] === '{') {
        i += 2;
        braceStack.push('template');
        return;
      }
      i++;
    }
  };
  while (i < n) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      const at = i;
      tokens.push({ type: 'string', value: skipString(c), at });
    } else if (c === '`') {
      skipTemplate();
      tokens.push({ type: 'template' });
    } else if (c === '/' && regexAllowed()) {
      i++;
      let inClass = false;
      while (i < n && text[i] !== '\n') {
        if (text[i] === '\\') i++;
        else if (text[i] === '[') inClass = true;
        else if (text[i] === ']') inClass = false;
        else if (text[i] === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(text[i])) i++;
      tokens.push({ type: 'regex' });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(text[j])) j++;
      tokens.push({ type: 'word', value: text.slice(i, j), at: i });
      i = j;
    } else if (/\d/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(text[j])) j++;
      tokens.push({ type: 'number' });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      if (c === '{') braceStack.push('code');
      if (c === '}' && braceStack.pop() === 'template') {
        // back inside the template literal's text
        i--;
        skipTemplate();
        continue;
      }
      tokens.push({ type: 'punct', value: c, at: i });
      i++;
    }
  }
  return tokens;
}

/** The module specifiers a file names, each with whether only types come through that edge. */
export function importsOf(text) {
  const tokens = tokenize(text);
  const found = [];
  const isWord = (t, v) => t?.type === 'word' && (v === undefined || t.value === v);
  const isPunct = (t, v) => t?.type === 'punct' && t.value === v;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const prev = tokens[k - 1];
    if (isPunct(prev, '.')) continue; // obj.import(…), obj.export
    if (isWord(t, 'import')) {
      const next = tokens[k + 1];
      if (isPunct(next, '(') && tokens[k + 2]?.type === 'string') {
        // import('./x.js'): a dynamic import, or a type position such as `typeof import('./x.js')`
        found.push({ specifier: tokens[k + 2].value, typeOnly: false, dynamic: true });
        continue;
      }
      if (next?.type === 'string') {
        found.push({ specifier: next.value, typeOnly: false });
        continue;
      }
      // import [type] a, { b, type c as d } | * as ns from '…'
      let j = k + 1;
      const typeOnly = isWord(tokens[j], 'type') && !isWord(tokens[j + 1], 'from');
      let depth = 0;
      let namesAll = 0;
      let namesType = 0;
      for (; j < tokens.length; j++) {
        const u = tokens[j];
        if (isPunct(u, '{')) depth++;
        else if (isPunct(u, '}')) depth--;
        else if (depth === 0 && isWord(u, 'from') && tokens[j + 1]?.type === 'string') break;
        else if (u.type === 'word' || isPunct(u, ',') || isPunct(u, '*')) {
          if (depth > 0 && u.type === 'word' && !isWord(u, 'as') && !isWord(u, 'type') && !isWord(tokens[j - 1], 'as')) {
            namesAll++;
            if (isWord(tokens[j - 1], 'type')) namesType++;
          }
        } else break;
      }
      if (isWord(tokens[j], 'from') && tokens[j + 1]?.type === 'string') {
        // `import { type A, type B } from` brings in no value either
        const braceOnly = isPunct(tokens[k + 1], '{');
        found.push({ specifier: tokens[j + 1].value, typeOnly: typeOnly || (braceOnly && namesAll > 0 && namesAll === namesType) });
        k = j + 1;
      }
    } else if (isWord(t, 'export')) {
      // export * [as ns] from '…'   export [type] { … } from '…'
      let j = k + 1;
      let typeOnly = isWord(tokens[j], 'type');
      if (typeOnly) j++;
      if (isPunct(tokens[j], '*')) {
        j++;
        if (isWord(tokens[j], 'as')) j += 2;
      } else if (isPunct(tokens[j], '{')) {
        // `export { type A, type B } from` re-exports no value either
        let names = 0;
        let typeNames = 0;
        for (j++; j < tokens.length && !isPunct(tokens[j], '}'); j++) {
          if (tokens[j].type !== 'word' || isWord(tokens[j], 'as') || isWord(tokens[j], 'type') || isWord(tokens[j - 1], 'as')) continue;
          names++;
          if (isWord(tokens[j - 1], 'type')) typeNames++;
        }
        if (names > 0 && names === typeNames) typeOnly = true;
        j++;
      } else continue;
      if (isWord(tokens[j], 'from') && tokens[j + 1]?.type === 'string') {
        found.push({ specifier: tokens[j + 1].value, typeOnly });
        k = j + 1;
      }
    }
  }
  return found;
}

/** Every TypeScript or JavaScript file under `folder` (node_modules left out), sorted. */
export function sourceFiles(folder) {
  const out = [];
  for (const name of readdirSync(folder).sort()) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules') out.push(...sourceFiles(path));
    } else if (SOURCE.test(name)) out.push(path);
  }
  return out;
}

/** The source file a relative specifier names, or undefined for a package, a JSON file or anything not scanned. */
function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    base.replace(/\.mjs$/, '.mts'),
    base.replace(/\.cjs$/, '.cts'),
    `${base}.ts`,
    join(base, 'index.ts'),
    base,
  ];
  return candidates.find((c) => SOURCE.test(c) && existsSync(c) && statSync(c).isFile());
}

/** Strongly connected groups of more than one file, or one file importing itself (Tarjan). */
function stronglyConnected(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const idx = new Map();
  const low = new Map();
  const groups = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v).keys()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const group = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || graph.get(v).has(v)) groups.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return groups;
}

/** Every elementary circle within one group, each starting at its smallest file (bounded). */
function circlesIn(graph, group) {
  const members = new Set(group);
  const circles = [];
  let truncated = false;
  for (const start of group) {
    // circles through `start` over files not smaller than it, so each circle is found once
    const path = [start];
    const onPath = new Set(path);
    const walk = (v) => {
      if (circles.length >= MAX_CYCLES_PER_GROUP) {
        truncated = true;
        return;
      }
      for (const w of [...graph.get(v).keys()].sort()) {
        if (!members.has(w) || w < start) continue;
        if (w === start) circles.push([...path, start]);
        else if (!onPath.has(w)) {
          path.push(w);
          onPath.add(w);
          walk(w);
          onPath.delete(w);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return { circles, truncated };
}

export function checkFolders(folders) {
  const graph = new Map();
  for (const folder of folders) {
    for (const file of sourceFiles(folder)) {
      const edges = new Map();
      for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
        const target = resolveSpecifier(file, specifier);
        if (!target) continue;
        // one edge per pair; it is type-only when every import along it is
        edges.set(target, (edges.get(target) ?? true) && typeOnly);
      }
      graph.set(file, edges);
    }
  }
  for (const edges of graph.values()) for (const target of edges.keys()) if (!graph.has(target)) graph.set(target, new Map());
  return stronglyConnected(graph).map((group) => ({ group, ...circlesIn(graph, group), graph }));
}

function main() {
  const args = process.argv.slice(2);
  const folders =
    args.length > 0
      ? args.map((a) => resolve(a))
      : readdirSync(join(root, 'packages'))
          .map((p) => join(root, 'packages', p, 'src'))
          .filter((p) => existsSync(p));
  const name = (f) => relative(process.cwd(), f) || f;
  const found = checkFolders(folders);
  if (found.length === 0) {
    console.log(`check-cycles: no import circle in ${folders.map(name).join(', ')}`);
    return;
  }
  let total = 0;
  for (const { group, circles, truncated, graph } of found) {
    console.error(`import circle among ${group.length} files: ${group.map(name).join(', ')}`);
    for (const circle of circles) {
      const steps = circle.map((f, i) => (i === 0 ? name(f) : `${graph.get(circle[i - 1]).get(f) ? '-(type)->' : '->'} ${name(f)}`));
      console.error(`  ${steps.join(' ')}`);
    }
    if (truncated) console.error(`  … more circles in this group (stopped at ${MAX_CYCLES_PER_GROUP})`);
    total += circles.length;
  }
  console.error(
    `check-cycles: ${total}${found.some((f) => f.truncated) ? '+' : ''} import circle(s) in ${found.length} group(s); ` +
      'move the shared types or constants to the module that owns them (type-only imports count too)',
  );
  process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
