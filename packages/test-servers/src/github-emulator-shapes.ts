import { createHash } from 'node:crypto';
import type { components } from '@octokit/openapi-types';
import type { CommitInfo, TreeItem } from './github-emulator-git.js';

/**
 * The JSON bodies of the GitHub emulator, each typed against GitHub's published OpenAPI description
 * (`@octokit/openapi-types`), so a field GitHub requires cannot be left out or given the wrong type without the
 * build failing. Values that GitHub derives from its database (ids, counts) are derived from the repo name here.
 */

type Schemas = components['schemas'];
export type FullRepository = Schemas['full-repository'];
export type Commit = Schemas['commit'];
export type GitTree = Schemas['git-tree'];
export type Blob = Schemas['blob'];
export type ContentFile = Schemas['content-file'];
export type ContentDirectory = Schemas['content-directory'];
export type ContentSymlink = Schemas['content-symlink'];
export type BasicError = Schemas['basic-error'];
export type RateLimitOverview = Schemas['rate-limit-overview'];

/** Where things live: the API base (with `/api/v3` on GHES) and the web origin used for `html_url`s. */
export interface EmulatorUrls {
  /** API base without a trailing slash, e.g. `http://127.0.0.1:4321/api/v3`. */
  api: string;
  /** Web origin without a trailing slash, e.g. `http://127.0.0.1:4321`. */
  web: string;
}

/** A stable positive id from a name, standing in for GitHub's database ids. */
function idOf(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) & 0x7fffffff;
}

const nodeId = (kind: string, name: string) => Buffer.from(`${kind}:${name}`).toString('base64url');

export function simpleUser(login: string, urls: EmulatorUrls): Schemas['simple-user'] {
  const url = `${urls.api}/users/${login}`;
  return {
    login,
    id: idOf(`user:${login}`),
    node_id: nodeId('User', login),
    avatar_url: `${urls.web}/avatars/${login}`,
    gravatar_id: '',
    url,
    html_url: `${urls.web}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'Organization',
    site_admin: false,
  };
}

export function fullRepository(
  fullName: string,
  repo: { private: boolean; defaultBranch: string; created: string; pushed: string },
  urls: EmulatorUrls,
): FullRepository {
  const [owner = '', name = ''] = fullName.split('/');
  const url = `${urls.api}/repos/${fullName}`;
  const host = new URL(urls.web).host;
  return {
    id: idOf(`repo:${fullName}`),
    node_id: nodeId('Repository', fullName),
    name,
    full_name: fullName,
    owner: simpleUser(owner, urls),
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    html_url: `${urls.web}/${fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://${host}/${fullName}.git`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@${host}:${fullName}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${urls.web}/${fullName}.git`,
    mirror_url: null,
    hooks_url: `${url}/hooks`,
    svn_url: `${urls.web}/${fullName}`,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: 0,
    open_issues: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: repo.pushed,
    created_at: repo.created,
    updated_at: repo.pushed,
    subscribers_count: 0,
    network_count: 0,
    license: null,
    ...(repo.private ? { permissions: { admin: false, maintain: false, push: false, triage: false, pull: true } } : {}),
  };
}

function gitUser(user: CommitInfo['author']): NonNullable<Schemas['nullable-git-user']> {
  return { name: user.name, email: user.email, date: user.date.replace(/\+00:00$/, 'Z') };
}

export function commit(fullName: string, info: CommitInfo, urls: EmulatorUrls): Commit {
  const url = `${urls.api}/repos/${fullName}/commits/${info.sha}`;
  return {
    url,
    sha: info.sha,
    node_id: nodeId('Commit', `${fullName}@${info.sha}`),
    html_url: `${urls.web}/${fullName}/commit/${info.sha}`,
    comments_url: `${url}/comments`,
    commit: {
      url: `${urls.api}/repos/${fullName}/git/commits/${info.sha}`,
      author: gitUser(info.author),
      committer: gitUser(info.committer),
      message: info.message,
      comment_count: 0,
      tree: { sha: info.tree, url: `${urls.api}/repos/${fullName}/git/trees/${info.tree}` },
      verification: { verified: false, reason: 'unsigned', payload: null, signature: null, verified_at: null },
    },
    // Commits made by the test identity belong to no GitHub account, which GitHub reports as null.
    author: null,
    committer: null,
    parents: info.parents.map((sha) => ({
      sha,
      url: `${urls.api}/repos/${fullName}/commits/${sha}`,
      html_url: `${urls.web}/${fullName}/commit/${sha}`,
    })),
    stats: { additions: 0, deletions: 0, total: 0 },
    files: [],
  };
}

export function gitTree(fullName: string, sha: string, items: TreeItem[], urls: EmulatorUrls): GitTree {
  const base = `${urls.api}/repos/${fullName}/git`;
  return {
    sha,
    url: `${base}/trees/${sha}`,
    truncated: false,
    tree: items.map((item) => ({
      path: item.path,
      mode: item.mode,
      type: item.type,
      sha: item.sha,
      ...(item.size === undefined ? {} : { size: item.size }),
      ...(item.type === 'commit' ? {} : { url: `${base}/${item.type === 'tree' ? 'trees' : 'blobs'}/${item.sha}` }),
    })),
  };
}

export function blob(fullName: string, sha: string, bytes: Buffer, urls: EmulatorUrls): Blob {
  return {
    sha,
    node_id: nodeId('Blob', `${fullName}@${sha}`),
    size: bytes.length,
    url: `${urls.api}/repos/${fullName}/git/blobs/${sha}`,
    content: base64Lines(bytes),
    encoding: 'base64',
  };
}

/** GitHub wraps base64 content at 60 characters per line, with a trailing newline. */
function base64Lines(bytes: Buffer): string {
  const text = bytes.toString('base64');
  let out = '';
  for (let i = 0; i < text.length; i += 60) out += `${text.slice(i, i + 60)}\n`;
  return out;
}

function contentLinks(fullName: string, item: TreeItem, ref: string, urls: EmulatorUrls) {
  const self = `${urls.api}/repos/${fullName}/contents/${item.path}?ref=${encodeURIComponent(ref)}`;
  const kind = item.type === 'tree' ? 'tree' : 'blob';
  const git = `${urls.api}/repos/${fullName}/git/${kind === 'tree' ? 'trees' : 'blobs'}/${item.sha}`;
  const html = `${urls.web}/${fullName}/${kind}/${ref}/${item.path}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

/** The name of a tree item (its last path segment). */
const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

export function contentFile(fullName: string, item: TreeItem, bytes: Buffer, ref: string, urls: EmulatorUrls): ContentFile {
  return {
    type: 'file',
    encoding: 'base64',
    size: bytes.length,
    name: baseName(item.path),
    path: item.path,
    content: base64Lines(bytes),
    sha: item.sha,
    download_url: `${urls.web}/raw/${fullName}/${ref}/${item.path}`,
    ...contentLinks(fullName, item, ref, urls),
  };
}

export function contentSymlink(fullName: string, item: TreeItem, target: string, ref: string, urls: EmulatorUrls): ContentSymlink {
  return {
    type: 'symlink',
    target,
    size: Buffer.byteLength(target),
    name: baseName(item.path),
    path: item.path,
    sha: item.sha,
    download_url: `${urls.web}/raw/${fullName}/${ref}/${item.path}`,
    ...contentLinks(fullName, item, ref, urls),
  };
}

export function contentDirectory(fullName: string, items: TreeItem[], ref: string, urls: EmulatorUrls): ContentDirectory {
  return items.map((item) => {
    const type = item.type === 'tree' ? 'dir' : item.type === 'commit' ? 'submodule' : item.mode === '120000' ? 'symlink' : 'file';
    return {
      type,
      size: item.size ?? 0,
      name: baseName(item.path),
      path: item.path,
      sha: item.sha,
      download_url: type === 'file' || type === 'symlink' ? `${urls.web}/raw/${fullName}/${ref}/${item.path}` : null,
      ...contentLinks(fullName, item, ref, urls),
    };
  });
}

export function basicError(message: string, documentationUrl: string, status: number): BasicError {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function rateLimitOverview(core: { limit: number; remaining: number; reset: number; used: number }): RateLimitOverview {
  const bucket = { limit: core.limit, remaining: core.remaining, reset: core.reset, used: core.used };
  // The emulator meters only the core resource; search is reported untouched so the shape is complete.
  return { resources: { core: bucket, search: { limit: 10, remaining: 10, reset: core.reset, used: 0 } }, rate: bucket };
}
