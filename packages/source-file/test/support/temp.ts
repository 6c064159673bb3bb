import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

/** A temp folder removed after the current test. */
export async function tempDir(label = 'source-file'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  made.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Copies a (possibly read-only) tree and makes the copy writable, so a test can edit it. */
export async function writableCopy(from: string, to: string): Promise<string> {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, { recursive: true, verbatimSymlinks: true });
  const walk = async (dir: string): Promise<void> => {
    await chmod(dir, 0o755);
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await lstat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile()) await chmod(path, 0o644);
    }
  };
  await walk(to);
  return to;
}
