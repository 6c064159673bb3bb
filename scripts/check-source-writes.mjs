#!/usr/bin/env node
// Fails when a source package writes to the file system itself. DESIGN.md: sources are thin transports and core owns
// path safety, so every write of a source goes through core — its TreeWriter (entry trees), `writeFileInside`, and the
// work-folder helpers of core's work-dir.ts (`withWorkLock`, `removeInside`, `replaceFolderInside`, `withTempFolder`).
// A library the source drives (git, isomorphic-git given `fs`, pacote) writing on its own is allowed: that is the
// transport; what is refused is the source's own code calling a write function of `fs`:
//
//   import { writeFile } from 'node:fs/promises'        named import of a write function (or its Sync form)
//   import * as fs from 'node:fs'; fs.mkdirSync(…)       member access on a namespace/default import (`fs.promises.rm` too)
//   const { rm } = fs.promises                           destructuring a write function out of one
//   open(path, 'w') / open(path, flags)                  `open` with write flags, or flags it cannot read
//   import('node:fs') / require('fs')                    a dynamic load, whose use cannot be followed
//
// Reading (readFile, stat, readdir, open(path) / open(path, 'r')) is fine. Passing the module on whole
// (`git.readBlob({ fs, … })`) is fine. The modules: node:fs, node:fs/promises (with or without `node:`), fs-extra,
// graceful-fs.
//
//   node scripts/check-source-writes.mjs [folder …]   default: packages/source-*/src except source-testkit
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceFiles as allSourceFiles, tokenize } from './check-cycles.mjs';

/** Source files of a package, tests left out (they may write fixtures). */
const sourceFiles = (folder) => allSourceFiles(folder).filter((path) => !/\.(?:test|spec)\.[cm]?tsx?$/.test(path));

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FS_MODULES = new Set(['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'fs-extra', 'graceful-fs']);
const WRITES = [
  'writeFile',
  'appendFile',
  'mkdir',
  'mkdtemp',
  'rm',
  'rmdir',
  'rename',
  'symlink',
  'link',
  'copyFile',
  'cp',
  'unlink',
  'utimes',
  'lutimes',
  'futimes',
  'chmod',
  'lchmod',
  'fchmod',
  'chown',
  'lchown',
  'fchown',
  'truncate',
  'ftruncate',
  'write',
  'writev',
  'fsync',
  'fdatasync',
];
const WRITE_NAMES = new Set([...WRITES, ...WRITES.map((name) => `${name}Sync`), 'createWriteStream']);
const OPEN_NAMES = new Set(['open', 'openSync']);
/** `open` flags that only read. */
const READ_FLAGS = new Set(['r', 'rs', 'sr']);

const isWord = (t, v) => t?.type === 'word' && (v === undefined || t.value === v);
const isPunct = (t, v) => t?.type === 'punct' && t.value === v;

/** The write calls a file makes itself: `{ at, what }` for each. */
export function writesOf(text) {
  const tokens = tokenize(text);
  const found = [];
  const namespaces = new Set(); // local names bound to an fs module (or its `promises`)
  const opens = new Set(); // local names bound to `open`/`openSync`
  const flag = (token, what) => found.push({ at: token.at, what });

  // Bindings made by imports.
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (isPunct(tokens[k - 1], '.')) continue;
    if ((isWord(t, 'import') || isWord(t, 'require')) && isPunct(tokens[k + 1], '(') && tokens[k + 2]?.type === 'string') {
      if (FS_MODULES.has(tokens[k + 2].value)) flag(t, `${t.value}('${tokens[k + 2].value}'): load it statically, so its use can be checked`);
      continue;
    }
    if (!isWord(t, 'import')) continue;
    let j = k + 1;
    while (j < tokens.length && !(isWord(tokens[j], 'from') && tokens[j + 1]?.type === 'string')) {
      if (tokens[j].type === 'string' || isPunct(tokens[j], ';')) break;
      j++;
    }
    if (!isWord(tokens[j], 'from') || !FS_MODULES.has(tokens[j + 1]?.value)) continue;
    const module = tokens[j + 1].value;
    let depth = 0;
    for (let m = k + 1; m < j; m++) {
      const u = tokens[m];
      if (isPunct(u, '{')) depth++;
      else if (isPunct(u, '}')) depth--;
      else if (isPunct(u, '*') && isWord(tokens[m + 1], 'as') && isWord(tokens[m + 2])) namespaces.add(tokens[m + 2].value);
      else if (depth === 0 && isWord(u) && !isWord(u, 'type') && !isWord(u, 'as') && !isPunct(tokens[m - 1], '*') && !isWord(tokens[m - 1], 'as')) {
        namespaces.add(u.value); // default import
      } else if (depth > 0 && isWord(u) && !isWord(u, 'type') && !isWord(u, 'as') && !isWord(tokens[m - 1], 'as')) {
        const local = isWord(tokens[m + 1], 'as') ? tokens[m + 2]?.value : u.value;
        if (isWord(tokens[m - 1], 'type')) continue; // a type-only name brings no function
        if (WRITE_NAMES.has(u.value)) flag(u, `\`${u.value}\` imported from '${module}'`);
        else if (OPEN_NAMES.has(u.value)) opens.add(local);
        else if (u.value === 'promises') namespaces.add(local);
      }
    }
    k = j + 1;
  }

  // Uses of the bindings.
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (isWord(t) && namespaces.has(t.value) && !isPunct(tokens[k - 1], '.') && isPunct(tokens[k + 1], '.')) {
      // ns.name, ns.promises.name
      let m = k + 2;
      if (isWord(tokens[m], 'promises') && isPunct(tokens[m + 1], '.')) m += 2;
      const member = tokens[m];
      if (isWord(member) && WRITE_NAMES.has(member.value)) flag(member, `\`${t.value}.${member.value}\``);
      else if (isWord(member) && OPEN_NAMES.has(member.value) && isPunct(tokens[m + 1], '(')) checkOpen(tokens, m + 1, member, flag);
      continue;
    }
    if (isWord(t) && opens.has(t.value) && !isPunct(tokens[k - 1], '.') && isPunct(tokens[k + 1], '(')) {
      checkOpen(tokens, k + 1, t, flag);
      continue;
    }
    // const { rm, writeFile: w } = ns  /  = ns.promises
    if (isPunct(t, '=') && isWord(tokens[k + 1]) && namespaces.has(tokens[k + 1].value) && isPunct(tokens[k - 1], '}')) {
      const after = tokens[k + 2];
      if (after && isPunct(after, '.') && !isWord(tokens[k + 3], 'promises')) continue;
      let m = k - 2;
      let depth = 1;
      for (; m >= 0 && depth > 0; m--) {
        if (isPunct(tokens[m], '}')) depth++;
        else if (isPunct(tokens[m], '{')) depth--;
        else if (depth === 1 && isWord(tokens[m]) && !isPunct(tokens[m - 1], ':') && WRITE_NAMES.has(tokens[m].value))
          flag(tokens[m], `\`${tokens[m].value}\` taken out of \`${tokens[k + 1].value}\``);
      }
    }
  }
  return found;
}

/** `open(` at `paren`: fine without flags or with a read-only literal; anything else may write. */
function checkOpen(tokens, paren, name, flag) {
  let depth = 0;
  const args = [[]];
  for (let m = paren; m < tokens.length; m++) {
    const u = tokens[m];
    if (isPunct(u, '(') || isPunct(u, '[') || isPunct(u, '{')) {
      depth++;
      if (depth === 1) continue;
    } else if (isPunct(u, ')') || isPunct(u, ']') || isPunct(u, '}')) {
      depth--;
      if (depth === 0) break;
    } else if (depth === 1 && isPunct(u, ',')) {
      args.push([]);
      continue;
    }
    args[args.length - 1].push(u);
  }
  const flags = args[1];
  if (flags === undefined || flags.length === 0) return;
  if (flags.length === 1 && flags[0].type === 'string' && READ_FLAGS.has(flags[0].value)) return;
  const shown = flags.length === 1 && flags[0].type === 'string' ? `'${flags[0].value}'` : 'flags it cannot read as read-only';
  flag(name, `\`${name.value}\` with ${shown}`);
}

function lineAndColumn(text, at) {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `${line}:${at - before.lastIndexOf('\n')}`;
}

function main() {
  const args = process.argv.slice(2);
  const folders =
    args.length > 0
      ? args.map((a) => resolve(a))
      : readdirSync(join(root, 'packages'))
          .filter((p) => p.startsWith('source-') && p !== 'source-testkit')
          .map((p) => join(root, 'packages', p, 'src'))
          .filter((p) => existsSync(p));
  const name = (f) => relative(process.cwd(), f) || f;
  let total = 0;
  for (const folder of folders) {
    for (const file of sourceFiles(folder)) {
      const text = readFileSync(file, 'utf8');
      for (const { at, what } of writesOf(text)) {
        console.error(`${name(file)}:${lineAndColumn(text, at)}: ${what}`);
        total++;
      }
    }
  }
  if (total === 0) {
    console.log(`check-source-writes: no file system write of its own in ${folders.map(name).join(', ')}`);
    return;
  }
  console.error(
    `check-source-writes: ${total} write(s) a source makes itself. Sources are thin transports: write entry trees with core's ` +
      "TreeWriter, single files with writeFileInside, and the work folder through core's work-dir helpers " +
      '(withWorkLock, removeInside, replaceFolderInside, withTempFolder).',
  );
  process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
