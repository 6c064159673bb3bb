import { RegistryError } from '@agentos-registry/core';

/** One ref a server advertises, as `git ls-remote --symref` prints it. */
export interface RemoteRef {
  /** `HEAD`, `refs/heads/main`, `refs/tags/v1.0.0`… */
  name: string;
  /** The object the ref points at: a commit, or a tag object for annotated tags. */
  oid: string;
  /** For annotated tags: the commit the tag points at (`^{}`). */
  peeled?: string;
  /** For a symbolic ref (`HEAD`): the ref it points at. */
  target?: string;
}

/** What a configured `branch` resolved to. */
export interface ResolvedRef {
  /** The commit. */
  sha: string;
  /** The ref it was read from (`refs/heads/production`, `refs/tags/v1`, `HEAD`), or the sha itself when pinned. */
  ref: string;
}

/** A full commit id: SHA-1, or SHA-256 for repositories in that format. */
export const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** How many branch names an "unknown branch" message lists. */
const LISTED_BRANCHES = 5;

/**
 * Parses the output of `git ls-remote --symref <url>`: `<oid>\t<name>` lines, `<oid>\t<tag>^{}` lines for peeled
 * annotated tags, and `ref: <target>\t<name>` lines for symbolic refs.
 */
export function parseLsRemote(output: string): RemoteRef[] {
  const refs = new Map<string, RemoteRef>();
  const targets = new Map<string, string>();
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const left = line.slice(0, tab).trim();
    const name = line.slice(tab + 1).trim();
    if (left.startsWith('ref: ')) {
      targets.set(name, left.slice(5).trim());
      continue;
    }
    const oid = left.toLowerCase();
    if (!FULL_SHA.test(oid)) continue;
    if (name.endsWith('^{}')) {
      const base = name.slice(0, -3);
      const tag = refs.get(base);
      if (tag) tag.peeled = oid;
      else refs.set(base, { name: base, oid, peeled: oid });
      continue;
    }
    const known = refs.get(name);
    refs.set(name, known ? { ...known, oid } : { name, oid });
  }
  for (const [name, target] of targets) {
    const ref = refs.get(name);
    if (ref) ref.target = target;
  }
  return [...refs.values()];
}

/** Where the message of an unknown branch points. */
export interface RefContext {
  registry: string;
  display: string;
}

/**
 * Resolves the configured `branch` against the refs a server advertised, the way `git clone --branch` does: a full
 * commit sha is taken as is; otherwise a full ref name (`refs/…`), then a branch, then a tag (annotated tags are
 * peeled to their commit). Without a `branch`, the remote's HEAD.
 *
 * @throws RegistryError `E_NOT_FOUND` naming the registry and listing a few branches that do exist.
 */
export function resolveRef(refs: readonly RemoteRef[], branch: string | undefined, context: RefContext): ResolvedRef {
  const byName = new Map(refs.map((ref) => [ref.name, ref]));
  const commitOf = (ref: RemoteRef) => ref.peeled ?? ref.oid;
  if (branch === undefined) {
    const head = byName.get('HEAD');
    if (head) return { sha: commitOf(head), ref: head.target ?? 'HEAD' };
    throw new RegistryError(
      'E_NOT_FOUND',
      `The repository of registry '${context.registry}' (${context.display}) has no HEAD${refs.length === 0 ? ': it is empty' : ''}. ${refs.length === 0 ? 'Push a commit holding registry.json, or fix `location`.' : `Set \`branch\`${describeBranches(refs)}.`}`,
      { registry: context.registry, details: { branches: branchNames(refs) } },
    );
  }
  const lower = branch.toLowerCase();
  if (FULL_SHA.test(lower)) return { sha: lower, ref: lower };
  for (const name of [branch.startsWith('refs/') ? branch : undefined, `refs/heads/${branch}`, `refs/tags/${branch}`]) {
    const ref = name === undefined ? undefined : byName.get(name);
    if (ref) return { sha: commitOf(ref), ref: ref.name };
  }
  const shortSha = /^[0-9a-f]{4,39}$/i.test(branch) ? ' An abbreviated commit id cannot be looked up remotely: give all 40 characters.' : '';
  throw new RegistryError(
    'E_NOT_FOUND',
    `Registry '${context.registry}': the repository ${context.display} has no branch or tag '${branch}'.${shortSha} Fix \`branch\`${describeBranches(refs)}.`,
    { registry: context.registry, details: { branch, branches: branchNames(refs) } },
  );
}

/** Branch names, the remote's default branch first, then alphabetical. */
export function branchNames(refs: readonly RemoteRef[]): string[] {
  const head = refs.find((ref) => ref.name === 'HEAD')?.target;
  return refs
    .filter((ref) => ref.name.startsWith('refs/heads/'))
    .map((ref) => ref.name)
    .sort((a, b) => (a === head ? -1 : b === head ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map((name) => name.slice('refs/heads/'.length));
}

function describeBranches(refs: readonly RemoteRef[]): string {
  const names = branchNames(refs);
  if (names.length === 0) return ' (the repository has no branches)';
  const shown = names
    .slice(0, LISTED_BRANCHES)
    .map((name) => `'${name}'`)
    .join(', ');
  const more = names.length > LISTED_BRANCHES ? ` and ${names.length - LISTED_BRANCHES} more` : '';
  const tags = refs.filter((ref) => ref.name.startsWith('refs/tags/')).length;
  return ` (branches: ${shown}${more}${tags > 0 ? `; ${tags} tag${tags === 1 ? '' : 's'}` : ''})`;
}

/** `production = 0123456789ab`, or the short sha alone for a pinned commit: how messages name a revision. */
export function describeCommit(commit: ResolvedRef): string {
  const name = commit.ref === commit.sha ? '' : `${commit.ref.replace(/^refs\/(?:heads|tags)\//, '')} = `;
  return `${name}${commit.sha.slice(0, 12)}`;
}
