import { isLoopbackHost } from '@agentos-registry/core';

/** Name of the index file at the root of every static site. */
export const INDEX_FILE = 'registry.json';

/** Where a static registry lives: the site's folder URL and its `registry.json`. */
export interface SiteLocation {
  /** The folder URL, always ending in `/`; relative `dist.tarball` URLs are resolved against it. */
  base: URL;
  /** `<base>registry.json`. */
  index: URL;
}

/** A `location` that cannot be used, with the reason (for `validate`, which turns it into `E_CONFIG`). */
export class LocationProblem extends Error {}

/**
 * Turns a configured `location` into the site's folder and index URLs.
 *
 * Accepted: `https://extensions.yourcompany.example`, `https://host/some/folder` or `…/folder/` (the folder holding
 * registry.json), and `…/registry.json` itself (its folder is used). The location is always a folder, even without a
 * trailing slash, because relative tarball URLs are resolved against it: `https://host/agentos` + `tarballs/x.tgz`
 * must be `https://host/agentos/tarballs/x.tgz`, not `https://host/tarballs/x.tgz`.
 *
 * Refused: other schemes, user names or passwords in the URL (use `token` or `headers`: a URL ends up in logs and
 * cache records), and query strings or fragments (relative URLs would silently drop them).
 */
export function parseSiteLocation(location: string): SiteLocation {
  let url: URL;
  try {
    url = new URL(location.trim());
  } catch {
    throw new LocationProblem('must be an http(s) URL of the folder holding registry.json, e.g. https://extensions.yourcompany.example');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LocationProblem(`uses the ${url.protocol} scheme; a 'url' registry is served over https:// (or http:// on this machine)`);
  }
  if (url.username || url.password) {
    throw new LocationProblem('carries a user name or password; remove them and configure `token` (sent as Bearer) or `headers` instead');
  }
  if (url.search || url.hash) {
    throw new LocationProblem('has a query string or fragment; give the plain URL of the folder holding registry.json');
  }
  let path = url.pathname;
  if (path.endsWith(`/${INDEX_FILE}`)) path = path.slice(0, -INDEX_FILE.length);
  if (!path.endsWith('/')) path += '/';
  const base = new URL(path, url.origin);
  return { base, index: new URL(INDEX_FILE, base) };
}

/** True when the location would send plain HTTP over a network (neither https: nor this machine). */
export function isInsecureRemote(site: SiteLocation): boolean {
  return site.base.protocol === 'http:' && !isLoopbackHost(site.base.hostname);
}

/** A URL for messages: origin and path, never the query (a signed URL's query is a credential). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
