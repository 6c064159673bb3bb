/**
 * Runs before every test file (vitest `setupFiles`). The source honours the user's npm config, so a test must never
 * see the developer's: HOME and `npm_config_userconfig` point at a private folder whose .npmrc sends any request
 * that names no registry to a closed port on 127.0.0.1, never to a public registry. `npm_config_*` variables set by
 * a package manager running the tests are dropped for the same reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { DEAD_REGISTRY } from './dead-registry.js';

const home = mkdtempSync(join(tmpdir(), 'source-npm-home-'));
for (const name of Object.keys(process.env)) if (/^npm_config_/i.test(name)) delete process.env[name];
writeFileSync(join(home, '.npmrc'), `registry=${DEAD_REGISTRY}\n`);
process.env.HOME = home;
process.env.USERPROFILE = home;
process.env.npm_config_userconfig = join(home, '.npmrc');

afterAll(() => rmSync(home, { recursive: true, force: true }));
