import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A directory under the OS temp folder that `close()` removes with everything in it. */
export interface TempDir {
  path: string;
  close(): Promise<void>;
}

/** Creates a fresh temp directory; `prefix` makes leftovers recognisable if a test crashes. */
export async function makeTempDir(prefix = 'agentos-registry-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    close: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
