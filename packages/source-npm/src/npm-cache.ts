import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs `work` with npm's cache (cacache) folder: `cacheDir` when core gave one (its work folder, kept), else a temp
 * folder removed afterwards, whatever `work` does.
 */
export async function withNpmCache<T>(cacheDir: string | undefined, work: (cache: string) => Promise<T>): Promise<T> {
  if (cacheDir) return work(cacheDir);
  const temporary = await mkdtemp(join(tmpdir(), 'agentos-npm-cache-'));
  try {
    return await work(join(temporary, '_cacache'));
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}
