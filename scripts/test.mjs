#!/usr/bin/env node
// Runs every check of the repository through turbo (typecheck, lint incl. publint, tests), then prints one total
// from the JSON reports the workspace's vitest runs wrote, as a final "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
// Every workspace folder with tests: the packages, and examples/verify, which runs every example end to end.
const reports = ['packages', 'examples'].flatMap((folder) =>
  readdirSync(join(root, folder)).map((name) => join(root, folder, name, 'test-results', 'vitest.json')),
);
for (const report of reports) rmSync(report, { force: true });

const tasks = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['typecheck', 'lint', 'test'];
const result = spawnSync(join(root, 'node_modules', '.bin', 'turbo'), ['run', ...tasks, '--output-logs=new-only', '--continue'], {
  cwd: root,
  stdio: 'inherit',
  env,
});

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const data = JSON.parse(readFileSync(report, 'utf8'));
  passed += data.numPassedTests ?? 0;
  failed += data.numFailedTests ?? 0;
  skipped += (data.numPendingTests ?? 0) + (data.numTodoTests ?? 0);
}
const status = result.status ?? 1;
if (status !== 0 && failed === 0) failed = 1; // a failed typecheck/lint/build counts as a failure too
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
