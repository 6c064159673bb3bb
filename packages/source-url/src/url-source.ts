import { createHash } from 'node:crypto';
import {
  type ArchiveAnswer,
  createSourceHttpClient,
  defineSource,
  type HttpClient,
  type HttpResponse,
  type MaterializeRequest,
  parseIntegrity,
  RegistryError,
  type RegistrySource,
  type RevisionAnswer,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceRevision,
  statusError,
  throwIfAborted,
} from '@agentos-registry/core';
import { credentialHeaders, URL_OPTIONS, validateUrlConfig } from './config.js';
import { describeUrl, parseSiteLocation, type SiteLocation } from './location.js';

/** Settings of the adapter itself (not of one registry). */
export interface UrlSourceOptions {
  /** `User-Agent` of every request. Default `agentos-registry-source-url`. */
  userAgent?: string;
}

const PACK_HINT = "Publish the site with `agentos-registry pack <registry-dir> --out <site-dir>`, which writes every entry's tarball and its `dist`.";
const REFRESH_HINT = 'refresh the index (--refresh, or the `refresh` option) and try again.';

/**
 * The `url` source: a registry that any static web server hosts (nginx, S3, an intranet server, GitHub Pages), in
 * the layout `agentos-registry pack` writes: `<location>/registry.json`, whose entries name a tarball and its SRI
 * integrity in `dist`. A thin transport: the revision is a conditional GET of registry.json whose bytes come back with
 * it; an entry is its tarball, handed to core as an archive answer that core extracts and checks against the
 * integrity. Everything else is core's HTTP client (proxy, CA, retries, limits, deadlines, status errors, and the
 * token sent to the registry's origin only) and core's extractor.
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
 * different ones for the same bytes). The ETag and Last-Modified still drive the conditional request, as validators.
 */
export function revisionIdOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One configured static registry. Holds one HTTP client (a keep-alive pool), released by `close()`. */
class UrlRegistrySource implements RegistrySource {
  readonly displayLocation: string;
  readonly #site: SiteLocation;
  readonly #http: HttpClient;
  readonly #authenticated: boolean;

  constructor(config: SourceConfig, ctx: SourceCreateContext, userAgent: string) {
    this.#site = parseSiteLocation(config.location);
    this.displayLocation = this.#site.base.href;
    const headers = credentialHeaders(config);
    this.#authenticated = Object.keys(headers).length > 0;
    if (config.branch !== undefined) ctx.logger.warn(`Registry '${ctx.registry}' is a 'url' registry: \`branch\` is ignored (a static site serves one state).`);
    this.#http = createSourceHttpClient(config, ctx, {
      userAgent,
      ...(this.#authenticated ? { credentials: { origin: this.#site.base.origin, headers } } : {}),
    });
  }

  /** A conditional GET of registry.json: its bytes come back with the revision, so core never asks for them again. */
  async revision(ctx: SourceCallContext): Promise<RevisionAnswer | 'unchanged'> {
    throwIfAborted(ctx.signal, 'checking the revision', ctx.registry);
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
    const bytes = await this.#indexBytes(response, ctx);
    const next: Record<string, string> = {};
    if (response.headers.etag) next.etag = response.headers.etag;
    if (response.headers['last-modified']) next.lastModified = response.headers['last-modified'];
    return { id: revisionIdOf(bytes), ...(Object.keys(next).length > 0 ? { validators: next } : {}), index: bytes };
  }

  /** Only when core holds no bytes of the revision: registry.json again, which must still be that revision. */
  async readIndex(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array> {
    throwIfAborted(ctx.signal, 'reading registry.json', ctx.registry);
    const bytes = await this.#indexBytes(await this.#getIndex(ctx, { 'cache-control': 'no-cache' }), ctx);
    const id = revisionIdOf(bytes);
    if (id === revision.id) return bytes;
    throw new RegistryError(
      'E_NOT_FOUND',
      `Registry '${ctx.registry}': registry.json changed since its index was read (revision ${revision.id.slice(0, 19)}…, now ${id.slice(0, 19)}…). Then ${REFRESH_HINT}`,
      { registry: ctx.registry, details: { revision: revision.id, current: id } },
    );
  }

  /** The entry's tarball, named with its integrity in the index entry core hands over; core extracts and checks it. */
  async materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<ArchiveAnswer> {
    throwIfAborted(ctx.signal, `fetching entry '${request.path}'`, ctx.registry);
    const name = `${String(request.entry.id ?? request.path)}@${String(request.entry.version ?? '')}`;
    const { url, integrity } = this.#distOf(request.entry.dist, name, request.path, ctx.registry);
    // The index named this URL: core's client judges it like a redirect from the site (no password, no loopback
    // address unless the site is on this machine too), and sends the token only if it is on the site's origin.
    const response = await this.#http.request(url, {
      signal: ctx.signal,
      purpose: 'entry',
      namedBy: this.#site.index,
      headers: { accept: 'application/gzip, application/octet-stream' },
    });
    if (response.status !== 200) {
      await response.discard();
      const republished = response.status === 404 || response.status === 410 ? await this.#republished(request.revision, ctx) : false;
      throw statusError(response, {
        registry: ctx.registry,
        what: `the tarball of ${name} (${describeUrl(url)})`,
        authenticated: this.#authenticated,
        hints: {
          ...this.#authHints(),
          notFound: republished
            ? `The site was re-published after this index was read: ${REFRESH_HINT}`
            : 'Upload the tarballs folder of the site together with (and before) registry.json.',
        },
      });
    }
    // Streamed: core's extractor parses (and stops a bomb) as the bytes arrive, the client counts them against
    // limits.entry, and nothing they produced is kept unless they match the published integrity.
    return { archive: response, strip: 1, integrity, label: `The tarball of ${name} (${describeUrl(url)})` };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  #getIndex(ctx: SourceCallContext, headers: Record<string, string>): Promise<HttpResponse> {
    return this.#http.request(this.#site.index, { signal: ctx.signal, purpose: 'index', headers: { accept: 'application/json', ...headers } });
  }

  async #indexBytes(response: HttpResponse, ctx: SourceCallContext): Promise<Uint8Array> {
    if (response.status === 200) return response.bytes();
    await response.discard();
    throw statusError(response, {
      registry: ctx.registry,
      what: `registry.json (${describeUrl(this.#site.index)})`,
      authenticated: this.#authenticated,
      hints: { ...this.#authHints(), notFound: `Point \`location\` at the folder of the site that holds registry.json. ${PACK_HINT}` },
    });
  }

  #authHints() {
    return {
      auth: this.#authenticated
        ? 'Check that the configured token (or `headers`) is valid and allowed to read this site.'
        : 'The site needs credentials: set `token` (sent as `Authorization: Bearer …`) or `headers` for other schemes.',
    };
  }

  /** The tarball URL and integrity an index entry names, or `E_INDEX_INVALID` saying how to publish them. */
  #distOf(dist: unknown, name: string, path: string, registry: string): { url: URL; integrity: string } {
    const invalid = (why: string) =>
      new RegistryError('E_INDEX_INVALID', `Registry '${registry}': entry ${name} in registry.json ${why}. ${PACK_HINT}`, {
        registry,
        details: { path, field: 'dist' },
      });
    const { tarball, integrity } = (dist ?? {}) as { tarball?: unknown; integrity?: unknown };
    if (dist === undefined || dist === null) throw invalid('has no `dist`, so a static server cannot deliver its files');
    if (typeof tarball !== 'string' || tarball === '') throw invalid('has no `dist.tarball` URL');
    if (typeof integrity !== 'string') throw invalid('has no `dist.integrity`, and an unchecked download is never used');
    // Only the shape is read here, so that nothing is downloaded for an entry that could never be checked; the check
    // itself is core's, as the archive streams in.
    if (!parseIntegrity(integrity)) throw invalid(`has a \`dist.integrity\` that is not an SRI sha512, sha384 or sha256 hash ("${integrity.slice(0, 24)}…")`);
    try {
      return { url: new URL(tarball, this.#site.base), integrity };
    } catch {
      throw invalid(`has a \`dist.tarball\` that is not a URL ("${tarball}")`);
    }
  }

  /** Whether registry.json is no longer `revision`: the site was re-published after the index was read. */
  async #republished(revision: SourceRevision, ctx: SourceCallContext): Promise<boolean> {
    const etag = revision.validators?.etag;
    const response = await this.#getIndex(ctx, { 'cache-control': 'no-cache', ...(etag ? { 'if-none-match': etag } : {}) }).catch(() => undefined);
    if (response?.status !== 200) {
      await response?.discard();
      return false;
    }
    const bytes = await response.bytes().catch(() => undefined);
    return bytes !== undefined && revisionIdOf(bytes) !== revision.id;
  }
}
