/**
 * Where a `github` registry lives: `owner/repo` or a URL pasted from the browser, turned into the repository, ref,
 * sub-folder, REST API base and web origin. Pure functions, covered by a table-driven test that touches no network.
 */
import { unescape as percentDecode } from 'node:querystring';
import { RegistryError, type SourceConfig } from '@agentos-registry/core';

const GITHUB_API = 'https://api.github.com';
const GITHUB_WEB = 'https://github.com';
const GITHUB_HOSTS = new Set(['github.com', 'www.github.com']);

// GitHub's rules: owner names are alphanumeric with inner hyphens; repository names add `.` and `_`.
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

/** A parsed `location`. */
interface GitHubLocation {
  owner: string;
  repo: string;
  /** The web origin the location names (`https://github.com`, `https://ghe.example.com`); undefined for `owner/repo`. */
  webOrigin?: string;
  /** The rest of a `/tree/<ref>/<subdir>` URL, undivided: a ref may contain slashes, so only `branch` can end it ({@link splitTreePath}). */
  treePath?: string;
}

/** The repository and the API to reach it, once `location`, `branch`, `subdir` and `baseUrl` are combined. */
export interface ResolvedGitHubLocation {
  owner: string;
  repo: string;
  /** The configured or URL-given ref; undefined means the repository's default branch. */
  ref?: string;
  /** Folder of the repository that holds `registry.json`, POSIX, no leading or trailing slash; '' for the root. */
  subdir: string;
  /** REST API base without a trailing slash: `https://api.github.com` or `https://ghe.example.com/api/v3`. */
  apiBase: string;
  /** The web origin of that API: `https://github.com`, `https://ghe.example.com`. */
  webOrigin: string;
}

/** A location, `baseUrl` or combination that cannot work: `E_CONFIG`, with the config field to fix as `details.field`. */
function configError(field: string, message: string): RegistryError {
  return new RegistryError('E_CONFIG', message, { details: { field } });
}

function checkNames(owner: string, repo: string, location: string): void {
  if (!OWNER.test(owner) || !REPO.test(repo) || repo === '.' || repo === '..') {
    throw configError('location', `'${location}' does not name a GitHub repository (expected owner/repo, e.g. your-org/extensions)`);
  }
}

/** `text` as an http(s) URL without credentials, or {@link configError} for `field` that says what was `expected`. */
function httpUrl(text: string, field: string, expected: string): URL {
  if (!URL.canParse(text.trim())) throw configError(field, `'${text}' is not a valid URL; expected ${expected}`);
  const url = new URL(text.trim());
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(field, `'${text}' is not an http(s) URL; expected ${expected}`);
  if (url.username || url.password) {
    throw configError(field, 'must not carry credentials in the URL; put the token in `token` (e.g. token: process.env.GITHUB_TOKEN)');
  }
  return url;
}

/**
 * Parses `owner/repo`, `https://github.com/owner/repo(.git)`, `…/tree/<ref>/<subdir>`, `git@github.com:owner/repo.git`,
 * and the same URLs on a GitHub Enterprise Server host.
 */
function parseGitHubLocation(location: string): GitHubLocation {
  // `git@host:owner/repo.git` names the repository `https://host/owner/repo.git` names: one parse for both.
  const text = location.trim().replace(/^git@([^:/]+):(?!\/)/, 'https://$1/');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const parts = text.replace(/\/+$/, '').split('/');
    if (parts.length !== 2) {
      throw configError('location', `'${location}' is not owner/repo or a GitHub URL (e.g. your-org/extensions or https://github.com/your-org/extensions)`);
    }
    const owner = parts[0] ?? '';
    const repo = (parts[1] ?? '').replace(/\.git$/, '');
    checkNames(owner, repo, location);
    return { owner, repo };
  }
  const url = httpUrl(text, 'location', 'the address of a repository (https://github.com/owner/repo) or owner/repo');
  if (url.hostname.toLowerCase() === 'api.github.com') {
    throw configError('location', `'${location}' is an API URL; use the repository's address (https://github.com/owner/repo) or owner/repo`);
  }
  const [owner = '', rawRepo = '', kind, ...rest] = url.pathname.split('/').filter(Boolean);
  const repo = rawRepo.replace(/\.git$/, '');
  checkNames(owner, repo, location);
  const webOrigin = GITHUB_HOSTS.has(url.hostname.toLowerCase()) ? GITHUB_WEB : url.origin;
  if (kind === undefined) return { owner, repo, webOrigin };
  if (kind !== 'tree' || rest.length === 0) {
    throw configError('location', `'${location}' points inside the repository; use the repository URL or a …/tree/<branch>/<folder> URL`);
  }
  // Decoded as decodeURIComponent does, except that a malformed escape (`%zz`) stays as typed instead of throwing.
  return { owner, repo, webOrigin, treePath: percentDecode(rest.join('/')) };
}

/**
 * Divides a `/tree/` path into ref and sub-folder. When `branch` is configured and the path starts with it, the branch
 * wins (that is how `feature/x` can be told from a folder `x`); otherwise the first segment is the ref, as a URL of a
 * branch without slashes reads.
 */
export function splitTreePath(treePath: string, branch: string | undefined): { ref: string; subdir: string } {
  if (branch && (treePath === branch || treePath.startsWith(`${branch}/`))) {
    return { ref: branch, subdir: treePath.slice(branch.length + 1) };
  }
  const slash = treePath.indexOf('/');
  return slash < 0 ? { ref: treePath, subdir: '' } : { ref: treePath.slice(0, slash), subdir: treePath.slice(slash + 1) };
}

/** Normalizes a sub-folder to `a/b` form (outer slashes dropped, backslashes read as slashes); refuses `..` and NUL. */
function normalizeSubdir(subdir: string, field = 'subdir'): string {
  const segments = subdir.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..') || subdir.includes('\0')) throw configError(field, `'${subdir}' must be a folder inside the repository (no '..')`);
  return segments.join('/');
}

/**
 * Combines the config fields into one resolved location, or throws {@link configError} naming the field. `location` and
 * `branch` are typed as core's config check leaves them (a non-empty string; `branch` optional).
 */
export function resolveGitHubLocation(config: Pick<SourceConfig, 'location' | 'branch'> & { subdir?: unknown; baseUrl?: unknown }): ResolvedGitHubLocation {
  const branch = config.branch?.trim();
  if (branch === '') throw configError('branch', 'must be a branch, tag or commit sha');
  if (config.subdir !== undefined && typeof config.subdir !== 'string') throw configError('subdir', 'must be a folder path inside the repository');
  const parsed = parseGitHubLocation(config.location);

  // github.com's API is api.github.com; a GHES host's is `https://host/api/v3`.
  let webOrigin = parsed.webOrigin ?? GITHUB_WEB;
  let apiBase = webOrigin === GITHUB_WEB ? GITHUB_API : `${webOrigin}/api/v3`;
  if (config.baseUrl !== undefined) {
    const url = httpUrl(String(config.baseUrl), 'baseUrl', 'the REST API base URL, e.g. https://ghe.example.com/api/v3');
    if (url.search || url.hash) throw configError('baseUrl', 'must not have a query or fragment');
    apiBase = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    webOrigin = url.hostname === 'api.github.com' ? GITHUB_WEB : url.origin;
    if (parsed.webOrigin && new URL(parsed.webOrigin).host !== new URL(webOrigin).host) {
      throw configError(
        'location',
        `is on ${new URL(parsed.webOrigin).host} but \`baseUrl\` is the API of ${new URL(webOrigin).host}; make them name the same server`,
      );
    }
  }

  let ref = branch;
  let subdir = typeof config.subdir === 'string' ? normalizeSubdir(config.subdir) : '';
  if (parsed.treePath !== undefined) {
    const fromUrl = splitTreePath(parsed.treePath, branch);
    if (branch && fromUrl.ref !== branch) {
      throw configError('branch', `is '${branch}' but the location URL names '${fromUrl.ref}'; drop one of them`);
    }
    const urlSubdir = normalizeSubdir(fromUrl.subdir, 'location');
    if (typeof config.subdir === 'string' && subdir !== urlSubdir) {
      throw configError('subdir', `is '${subdir}' but the location URL names the folder '${urlSubdir}'; drop one of them`);
    }
    ref = fromUrl.ref;
    subdir = urlSubdir;
  }
  return { owner: parsed.owner, repo: parsed.repo, ...(ref ? { ref } : {}), subdir, apiBase, webOrigin };
}
