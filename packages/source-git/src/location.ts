import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How git reaches a repository. Only `http` carries a token; `ssh` and `git` need the native engine. */
export type GitTransport = 'http' | 'ssh' | 'git' | 'file';

/** A parsed `location`: what git is given, and what may be shown. */
export interface GitLocation {
  transport: GitTransport;
  /** What is handed to git: a URL without credentials (http, ssh, git), scp-like `user@host:path`, or an absolute path. */
  remote: string;
  /** For `http`: the origin (`https://git.corp.com`) that alone may receive the token. */
  origin?: string;
  /** For `http`: a user name written in the URL (`https://deploy@host/…`), used as the default `username`. */
  username?: string;
  /** Public form for provenance and messages: never holds a secret. */
  display: string;
}

/** A `location` that cannot be used; the message says why, and what to write instead. */
export class GitLocationError extends Error {
  override readonly name = 'GitLocationError';
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// `<transport>::<address>` runs a remote helper (`ext::sh -c …` runs any command): never accepted.
const REMOTE_HELPER = /^[a-z][a-z0-9+.-]*::/i;
const WINDOWS_DRIVE = /^[a-z]:[\\/]/i;
// git's own rule: `[user@]host:path` is scp-like when a colon comes before the first slash.
const SCP_LIKE = /^(?:([^@/:\s]+)@)?([^/:\s]+):(.*)$/;

/**
 * Turns a configured `location` into what git needs.
 *
 * | written as | transport |
 * |---|---|
 * | `https://git.corp.com/extensions.git`, `http://…` | `http` (both engines; the only one a token is sent on) |
 * | `ssh://git@host[:port]/path.git`, `git@host:org/repo.git` | `ssh` (native engine) |
 * | `git://host/repo.git` | `git` (native engine) |
 * | `file:///srv/registry.git`, `/srv/registry.git`, `../registry`, `~/registry` | `file` (a repository on this machine) |
 *
 * Credentials in the URL are refused (a password would end up in argv, logs and the cache key): the token goes in
 * `token`. A user name alone is fine and becomes the default `username`.
 *
 * @param baseDir Folder that relative paths are relative to (the config file's folder, else the working directory).
 * @param home Home folder used for `~`.
 * @throws GitLocationError when the location cannot be used.
 */
export function parseGitLocation(location: string, baseDir: string, home: string = homedir()): GitLocation {
  if (typeof location !== 'string' || location.trim() === '') {
    throw new GitLocationError('must be the URL or path of a git repository');
  }
  if (location !== location.trim()) throw new GitLocationError('must not start or end with white space');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(location)) throw new GitLocationError('must not contain control characters');
  // Anything starting with '-' would reach git as an option (`--upload-pack=…`).
  if (location.startsWith('-')) throw new GitLocationError("must not start with '-'");

  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme !== undefined) return parseUrl(location, scheme);
  if (REMOTE_HELPER.test(location)) {
    throw new GitLocationError('names a git remote helper (`transport::address`); use an https://, ssh://, git:// or file:// URL or a path');
  }
  if (WINDOWS_DRIVE.test(location)) return localPath(resolve(location));
  if (location === '~' || location.startsWith('~/') || location.startsWith('~\\')) {
    return localPath(resolve(home, location.slice(2)));
  }
  const scp = SCP_LIKE.exec(location);
  if (scp) {
    const host = scp[2] ?? '';
    if (host.startsWith('-')) throw new GitLocationError("has a host name starting with '-'");
    if ((scp[3] ?? '') === '') throw new GitLocationError('has no repository path after the colon (`git@host:org/repo.git`)');
    return { transport: 'ssh', remote: location, display: location };
  }
  return localPath(resolve(baseDir, location));
}

function parseUrl(location: string, scheme: string): GitLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new GitLocationError('is not a valid URL');
  }
  if (url.password !== '') {
    throw new GitLocationError("contains a password: remove it from the URL and put the token in the registry's `token` field");
  }
  switch (scheme) {
    case 'http':
    case 'https': {
      if (url.hostname === '') throw new GitLocationError('has no host name');
      if (url.hash !== '') throw new GitLocationError('must not contain a #fragment');
      const username = url.username === '' ? undefined : decodeURIComponent(url.username);
      url.username = '';
      const remote = url.href;
      return { transport: 'http', remote, origin: url.origin, ...(username ? { username } : {}), display: remote };
    }
    case 'ssh':
    case 'git+ssh':
    case 'ssh+git': {
      if (url.hostname === '' || url.hostname.startsWith('-')) throw new GitLocationError('has no usable host name');
      const remote = scheme === 'ssh' ? location : `ssh://${location.slice(location.indexOf('://') + 3)}`;
      return { transport: 'ssh', remote, display: remote };
    }
    case 'git':
      if (url.hostname === '' || url.hostname.startsWith('-')) throw new GitLocationError('has no usable host name');
      return { transport: 'git', remote: location, display: location };
    case 'file': {
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch (error) {
        throw new GitLocationError(`is not a local file: URL (${(error as Error).message})`);
      }
      return localPath(resolve(path));
    }
    default:
      throw new GitLocationError(`uses the unsupported scheme '${scheme}:'; use https://, http://, ssh://, git://, file:// or a path`);
  }
}

function localPath(path: string): GitLocation {
  return { transport: 'file', remote: path, display: path };
}
