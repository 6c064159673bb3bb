// The page's caching semantics with the real file source: the source is wrapped only to count its calls.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, defineSource, fileSource, type RegistryError } from '../src/index.js';
import { templateRegistry } from './helpers.js';

const HOUR = 3_600_000;
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'cache-file-'));
  temps.push(root);
  const location = join(root, 'registry');
  await cp(templateRegistry, location, { recursive: true });
  const calls = { revision: 0, readIndex: 0 };
  const real = fileSource();
  const counted = defineSource({
    type: 'file',
    options: real.options,
    create(config, ctx) {
      const source = real.create(config, ctx);
      return {
        ...source,
        flags: source.flags,
        displayLocation: source.displayLocation,
        revision: (c) => {
          calls.revision++;
          return source.revision(c);
        },
        readIndex: (r, c) => {
          calls.readIndex++;
          return source.readIndex!(r, c);
        },
        materialize: (r, c) => source.materialize!(r, c),
        locate: (p, r, c) => source.locate!(p, r, c),
      };
    },
  });
  let now = Date.UTC(2026, 0, 1);
  const open = (options: { offline?: boolean } = {}) =>
    createRegistry(
      {
        registries: { local: { type: 'file', location, cacheDuration: HOUR } },
        defaultRegistries: { tool: 'local' },
        cacheSettings: { directory: join(root, 'cache') },
      },
      { sources: [counted], env: {}, now: () => now, ...options },
    );
  return { location, calls, open, advance: (ms: number) => (now += ms) };
}

describe('caching with source-file', () => {
  it('fresh → no source call; expired and unchanged → one revision call and no download; changed → new index', async () => {
    const s = await setup();
    await (await s.open()).list();
    expect(s.calls).toEqual({ revision: 1, readIndex: 1 });
    s.advance(HOUR / 2);
    await (await s.open()).list();
    expect(s.calls).toEqual({ revision: 1, readIndex: 1 });
    s.advance(HOUR);
    await (await s.open()).list();
    expect(s.calls).toEqual({ revision: 2, readIndex: 1 });
    const index = join(s.location, 'registry.json');
    const doc = JSON.parse(await readFile(index, 'utf8'));
    doc.extensions.curated[0].version = '1.0.1';
    await writeFile(index, JSON.stringify(doc));
    s.advance(HOUR + 1);
    const resolved = await (await s.open()).resolve('tool', 'com.example.echo');
    expect(resolved.entry.version).toBe('1.0.1');
    expect(s.calls).toEqual({ revision: 3, readIndex: 2 });
  });

  it('a folder that disappears is E_NOT_FOUND, not a stale copy (only unreachable sources are served stale)', async () => {
    const s = await setup();
    await (await s.open()).list();
    await rm(s.location, { recursive: true });
    s.advance(HOUR + 1);
    const error = (await (await s.open()).list().catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('E_NOT_FOUND');
  });
});
