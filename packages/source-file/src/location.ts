import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Turns a configured `location` into the absolute folder of a file registry.
 *
 * Accepted spellings: an absolute path; a path relative to `baseDir` (the config file's folder, else the working
 * directory); `~` or `~/…` for the home folder; a `file:` URL. `~user` is not expanded: that needs a password-database
 * lookup that Node does not offer, and a path that really starts with `~user` would then be misread.
 *
 * @param location The registry's `location` as configured (after `${ENV}` expansion by core).
 * @param baseDir Folder that relative locations are relative to.
 * @param home Home folder used for `~`; defaults to `os.homedir()` (a parameter so tests need not touch `$HOME`).
 * @returns The absolute, normalized folder path. Nothing is checked on disk.
 * @throws TypeError when `location` is a `file:` URL that Node cannot turn into a local path.
 */
export function resolveFileLocation(location: string, baseDir: string, home: string = homedir()): string {
  if (location.startsWith('file:')) return resolve(fileURLToPath(location));
  if (location === '~') return resolve(home);
  // Both separators, so a config written on Windows (`~\\registry`) also works there.
  if (location.startsWith('~/') || location.startsWith('~\\')) return resolve(home, location.slice(2));
  return resolve(baseDir, location);
}
