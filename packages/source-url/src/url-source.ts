import { createHash } from 'node:crypto';
import {
  type ArchiveAnswer,
  createHttpClient,
  defineSource,
  type HttpClient,
  isLoopbackHost,
  type MaterializeRequest,
  parseIntegrity,
  RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type RevisionAnswer,
  type SourceRevision,
} from '@agentos-registry/core';
import { clientOptionsOf, credentialHeaders, URL_OPTIONS, validateUrlConfig } from './config.js';
import { statusError, throwIfAborted } from './http-errors.js';
import { describeUrl, type SiteLocation, parseSiteLocation } from './location.js';

/** Settings of the adapter itself (not of one registry). */
export interface UrlSourceOptions {
  /** `User-Agent` of every request. Default `agentos-registry-source-url`. */
  userAgent?: string;
}

const PACK_HINT = 'Publish the site with `agentos-registry pack <registry-dir> --out <site-dir>`, which writes every entry\'s tarball and its `dist`.';

/**
 * The `url` source: a registry that any static web server hosts (nginx, S3, an intranet server, GitHub Pages), in
 * the layout `agentos-registry pack` writes: `<location>/registry.json`, whose entries name a tarball and its SRI
 * integrity in `dist`.
 *
 * The revision is a conditional GET of registry.json (`If-None-Match`/`If-Modified-Since`): unchanged costs one
 * request and no body. Every tarball streams into core's extractor through an integrity check, and what it produced
 * is accepted only when the bytes match the published integrity. Requests go
 * through core's HTTP client, one keep-alive pool per registry, with its proxy, CA, retry and credential rules: the
 * token (or `headers`) goes to the registry's origin only, never across a redirect to another one.
 *
 * @example
 * ```ts
 * const registry = await createRegistry(
 *   { registries: { hosted: { type: 'url', location: 'https://extensions.yourcompany.example' } } },
 *   { sources: [urlSource()] },
 * );
 * ```
 */
export function urlSource(options: UrlSourceOptions = {}): SourceAdapter {
  return defineSource({
    type: 'url',
    options: URL_OPTIONS,
    validate: validateUrlConfig,
    create: (config, ctx) => new UrlRegistrySource(config, ctx, options.userAgent ?? 'agentos-registry-source-url'),
  });
}

/**
 * The revision id of an index: `sha256:<hex>` of its bytes. A content hash rather than the ETag, because a revision
 * id must mean "equal content": ETags are opaque per server (two nodes behind a load balancer or two CDN edges give
 * different ones for the same bytes, and weak ETags do not promise equal bytes at all). The ETag and Last-Modified
 * still drive the conditional request; they travel in the revision's `validators`.
 */
export function revisionIdOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** What `materialize` reads of an index entry. */
interface IndexedEntry {
  id: string;
  version: string;
  dist: unknown;
}

/** One configured static registry. Holds one HTTP client (a keep-alive pool), released by `close()`. */
class UrlRegistrySource implements RegistrySource {
  readonly displayLocation: string;
  readonly #site: SiteLocation;
  readonly #http: HttpClient;
  readonly #hasCredentials: boolean;

  constructor(config: SourceConfig, ctx: SourceCreateContext, userAgent: string) {
    this.#site = parseSiteLocation(config.location);
    this.displayLocation = this.#site.base.href;
    this.#hasCredentials = Object.keys(credentialHeaders(config)).length > 0;
    if (config.branch !== undefined) {
      ctx.logger.warn(`Registry '${ctx.registry}' is a 'url' registry: \`branch\` is ignored (a static site serves one state).`);
    }
    this.#http = createHttpClient({
      registry: ctx.registry,
      ...clientOptionsOf(config, this.#site.base.origin, ctx.baseDir, ctx.registry),
      userAgent,
      env: ctx.env,
      logger: ctx.logger,
    });
  }

  /** A conditional GET of registry.json: its bytes come back with the revision, so core never asks for them again. */
  async revision(ctx: SourceCallContext): Promise<RevisionAnswer | 'unchanged'> {
    throwIfAborted(ctx.signal, ctx.registry, 'Checking the revision');
    const validators = ctx.previous?.validators ?? {};
    const conditional: Record<string, string> = {};
    if (validators.etag) conditional['if-none-match'] = validators.etag;
    if (validators.lastModified) conditional['if-modified-since'] = validators.lastModified;
    let response = await this.#getIndex(ctx, conditional);
    if (response.status === 304) {
      await response.discard();
      if (Object.keys(conditional).length > 0) return 'unchanged';
      // A 304 to a request that asked nothing conditional is a broken cache in between; ask once more, plainly.
      response = await this.#getIndex(ctx, { 'cache-control': 'no-cache' });
    }
    if (response.status !== 200) throw await statusError(response, this.#indexPurpose(ctx));
    const bytes = await response.bytes();
    const next: Record<string, string> = {};
    if (response.headers.etag) next.etag = response.headers.etag;
    if (response.headers['last-modified']) next.lastModified = response.headers['last-modified'];
    return { id: revisionIdOf(bytes), ...(Object.keys(next).length > 0 ? { validators: next } : {}), index: bytes };
  }

  /** Only when core holds no bytes of the revision: registry.json again, which must still be that revision. */
  async readIndex(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array> {
    throwIfAborted(ctx.signal, ctx.registry, 'Reading registry.json');
    const response = await this.#getIndex(ctx, { 'cache-control': 'no-cache' });
    if (response.status !== 200) throw await statusError(response, this.#indexPurpose(ctx));
    const bytes = await response.bytes();
    const id = revisionIdOf(bytes);
    if (id !== revision.id) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `Registry '${ctx.registry}': registry.json changed since its index was read (revision ${revision.id.slice(0, 19)}…, now ${id.slice(0, 19)}…). Refresh the index (--refresh, or the \`refresh\` option) and try again.`,
        { registry: ctx.registry, details: { revision: revision.id, current: id } },
      );
    }
    return bytes;
  }

  /** The entry's tarball, named with its integrity in the index entry core hands over; core extracts and checks it. */
  async materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<ArchiveAnswer> {
    throwIfAborted(ctx.signal, ctx.registry, `Fetching entry '${request.path}'`);
    const entry = { id: String(request.entry.id ?? request.path), version: String(request.entry.version ?? ''), dist: request.entry.dist };
    const { url, integrity } = this.#distOf(entry, request.path, ctx.registry);
    const purpose = {
      registry: ctx.registry,
      what: `the tarball of ${entry.id}@${entry.version}`,
      credentials: this.#hasCredentials,
    };

    const response = await this.#http.request(url, { signal: ctx.signal, purpose: 'entry', headers: { accept: 'application/gzip, application/octet-stream' } });
    if (response.status !== 200) {
      const error = await statusError(response, purpose);
      if (error.code !== 'E_NOT_FOUND') throw error;
      throw new RegistryError(
        'E_NOT_FOUND',
        `${error.message} ${(await this.#republishedHint(request.revision, ctx)) || 'Upload the tarballs folder of the site together with (and before) registry.json.'}`,
        { registry: ctx.registry, details: error.details },
      );
    }
    // Streamed, not buffered: core's extractor parses (and stops a bomb) as the bytes arrive, the client counts them
    // against limits.entry, and nothing they produced is kept unless they match the published integrity.
    return { archive: response, strip: 1, integrity, label: `The tarball of ${entry.id}@${entry.version} (${describeUrl(url)})` };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #getIndex(ctx: SourceCallContext, headers: Record<string, string>) {
    return this.#http.request(this.#site.index, { signal: ctx.signal, purpose: 'index', headers: { accept: 'application/json', ...headers } });
  }

  #indexPurpose(ctx: SourceCallContext) {
    return {
      registry: ctx.registry,
      what: 'registry.json',
      credentials: this.#hasCredentials,
      notFoundHint: `Point \`location\` at the folder of the site that holds registry.json. ${PACK_HINT}`,
    };
  }

  /** The tarball URL and integrity of an entry, or `E_INDEX_INVALID` saying how to publish them. */
  #distOf(entry: IndexedEntry, path: string, registry: string): { url: URL; integrity: string } {
    const invalid = (why: string) =>
      new RegistryError('E_INDEX_INVALID', `Registry '${registry}': entry ${entry.id}@${entry.version} in registry.json ${why}. ${PACK_HINT}`, {
        registry,
        details: { path, field: 'dist' },
      });
    const dist = entry.dist as { tarball?: unknown; integrity?: unknown } | undefined;
    if (dist === undefined || dist === null) throw invalid('has no `dist`, so a static server cannot deliver its files');
    if (typeof dist.tarball !== 'string' || dist.tarball === '') throw invalid('has no `dist.tarball` URL');
    if (typeof dist.integrity !== 'string') throw invalid('has no `dist.integrity`, and an unchecked download is never used');
    const integrity = parseIntegrity(dist.integrity);
    if (!integrity) throw invalid(`has a \`dist.integrity\` that is not an SRI sha512, sha384 or sha256 hash ("${dist.integrity.slice(0, 24)}…")`);
    let url: URL;
    try {
      url = new URL(dist.tarball, this.#site.base);
    } catch {
      throw invalid(`has a \`dist.tarball\` that is not a URL ("${dist.tarball}")`);
    }
    // The index chose this URL, so a password in it is the index's fault, not the host's configuration (core's client
    // would call it E_CONFIG). It is never shown.
    if (url.username || url.password) throw invalid(`has a \`dist.tarball\` URL (for ${url.host}) that carries a user name or password`);
    // A site elsewhere may not send the client to this machine's own services (core's client refuses the same as a
    // redirect); a site on this machine may name tarballs on it.
    if (isLoopbackHost(url.hostname) && !isLoopbackHost(this.#site.base.hostname)) {
      throw new RegistryError(
        'E_POLICY',
        `Registry '${registry}': entry ${entry.id}@${entry.version} names a tarball on this machine (${url.host}) while the site is elsewhere (${this.#site.base.host}); a remote registry may not send the client to local services. ${PACK_HINT}`,
        { registry, details: { path, field: 'dist', host: url.host } },
      );
    }
    return { url, integrity: dist.integrity };
  }

  /** A hint when registry.json no longer is this revision: the site was re-published after the index was read. */
  async #republishedHint(revision: SourceRevision, ctx: SourceCallContext): Promise<string> {
    try {
      const validators = revision.validators ?? {};
      const headers: Record<string, string> = { 'cache-control': 'no-cache' };
      if (validators.etag) headers['if-none-match'] = validators.etag;
      const response = await this.#getIndex(ctx, headers);
      if (response.status === 304) {
        await response.discard();
        return '';
      }
      if (response.status !== 200) {
        await response.discard();
        return '';
      }
      if (revisionIdOf(await response.bytes()) === revision.id) return '';
      return 'The site was re-published after this index was read: refresh the index (--refresh, or the `refresh` option) and try again.';
    } catch {
      return '';
    }
  }
}
