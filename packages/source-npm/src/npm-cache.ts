import { join } from 'node:path';
import { withTempFolder } from '@agentos-registry/core';

/**
 * Runs `work` with npm's cache (cacache) folder: `cacheDir` when core gave one (its work folder, kept), else a temp
 * folder of core's, removed afterwards whatever `work` does.
 */
export async function withNpmCache<T>(cacheDir: string | undefined, work: (cache: string) => Promise<T>): Promise<T> {
  return cacheDir ? work(cacheDir) : withTempFolder('npm-cache', (dir) => work(join(dir, '_cacache')));
}
