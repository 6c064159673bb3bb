/**
 * Judging a symlink by where it really leads, never by its text. In `d/l/d/l/../../x` every `..` climbs from
 * wherever the path has got to, and `d/l` may itself be a link (`d/l` → `..`), so the text can look like a folder
 * inside while the kernel ends up far outside. So every component is followed the way the kernel follows it: a link
 * met on the way is replaced by its own target, read from the folder the link is in. The link is refused the moment
 * any step is outside the root — not only when the end is — and when the chain of links is a loop.
 *
 * Both places that decide links use this: `scanTree` (links already on disk) and the tree writer (links it is about
 * to create, judged against the tree it has written, before any of them exists).
 */

/** What a root-relative path is, as far as following a link needs to know. */
export type TreeNode = { type: 'folder' } | { type: 'file' } | { type: 'link'; target: string } | { type: 'missing' };

/**
 * Looks up a root-relative, `/`-separated path. Only called with paths whose parents are real folders inside the
 * root (the walk below never passes a link without replacing it), so a lookup must not follow a link itself.
 */
export type TreeLookup = (path: string) => Promise<TreeNode>;

/** Links followed for one path before giving up, as Linux does (MAXSYMLINKS): a longer chain is a loop or an attack. */
export const MAX_LINK_HOPS = 40;

/** Components handled for one link; real links need a few dozen, and a hostile tree must not make a scan endless. */
const MAX_STEPS = 4096;

// On POSIX a backslash is an ordinary character of a name: splitting on it would look up the wrong file and miss a
// link the kernel follows. On Windows both are separators.
const SEPARATOR = process.platform === 'win32' ? /[\\/]/ : '/';

function isAbsoluteTarget(target: string): boolean {
  return target.startsWith('/') || target.startsWith('\\') || /^[a-zA-Z]:/.test(target);
}

function segments(target: string): string[] {
  return target.split(SEPARATOR).filter((segment) => segment !== '' && segment !== '.');
}

/**
 * What the text of a link proves on its own, or `undefined`: an empty or NUL-holding target, an absolute one, or more
 * leading `..` than the link is deep. The last holds whatever else the tree holds, because the folders a link sits in
 * are real folders (nothing is ever placed below a link), so its leading `..` climb through real folders only.
 */
export function linkTextProblem(linkPath: string, target: string): string | undefined {
  if (target === '') return 'is a symlink with an empty target';
  if (target.includes('\0')) return 'is a symlink whose target contains a NUL byte';
  if (isAbsoluteTarget(target)) return `is a symlink to the absolute path "${target}"`;
  let ups = 0;
  for (const segment of segments(target)) {
    if (segment !== '..') break;
    ups += 1;
  }
  if (ups > linkPath.split('/').length - 1) return `is a symlink to "${target}", which points outside the tree`;
  return undefined;
}

/**
 * Why the link at `linkPath` (root-relative, `/`-separated) with `target` is unsafe, or `undefined` when following it
 * stays inside the root at every step. A target that does not exist (yet) is judged by its text from the first
 * missing component on, since that is all there is to judge, and may not climb out either.
 */
export async function linkProblem(linkPath: string, target: string, lookup: TreeLookup): Promise<string | undefined> {
  const text = linkTextProblem(linkPath, target);
  if (text) return text;
  const outside = (how: string) => `is a symlink to "${target}", which ${how}`;
  const folder = linkPath.split('/').slice(0, -1);
  const pending = segments(target);
  let hops = 0;
  let steps = 0;
  let resolvable = true;
  while (pending.length > 0) {
    steps += 1;
    if (steps > MAX_STEPS) return outside(`takes more than ${MAX_STEPS} steps to follow`);
    const segment = pending.shift()!;
    if (segment === '..') {
      if (folder.length === 0) return outside('leads outside the tree once the symlinks on its way are followed');
      folder.pop();
      continue;
    }
    if (!resolvable) {
      folder.push(segment);
      continue;
    }
    const path = [...folder, segment].join('/');
    const node = await lookup(path);
    if (node.type === 'link') {
      hops += 1;
      if (hops > MAX_LINK_HOPS) return outside(`goes round a loop of symlinks (or a chain of more than ${MAX_LINK_HOPS})`);
      if (node.target === '' || node.target.includes('\0') || isAbsoluteTarget(node.target)) {
        return outside(`passes through the symlink "${path}", whose target is absolute or empty`);
      }
      // The link's target is read from the folder the link is in, which is where the walk is now.
      pending.unshift(...segments(node.target));
      continue;
    }
    // Past a file or a missing name the kernel stops resolving; what follows is only text.
    if (node.type !== 'folder') resolvable = false;
    folder.push(segment);
  }
  return undefined;
}
