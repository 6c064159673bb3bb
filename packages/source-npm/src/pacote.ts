/**
 * The slice of pacote this package uses, typed here because pacote ships no types (and `@types/pacote` is not a
 * dependency). Loaded on first use: pacote pulls in sigstore, tar and the npm fetch stack, which a registry that
 * never touches npm should not pay for at start-up.
 */
import { createRequire } from 'node:module';

/** Options passed through to pacote and npm-registry-fetch (registry, nerf-darted credentials, cache, signal…). */
export type PacoteOptions = Record<string, unknown>;

/** What pacote's `manifest()` returns, reduced to the fields read here. */
export interface PacoteManifest {
  name: string;
  version: string;
  /** The tarball URL. */
  _resolved?: string;
  /** SRI of the tarball as published (`sha512-…`, or `sha1-…` for very old packages). */
  _integrity?: string;
}

/** What pacote's `extract()` returns. */
export interface PacoteExtractResult {
  from: string;
  resolved: string;
  integrity: string;
}

export interface Pacote {
  manifest(spec: string, options: PacoteOptions): Promise<PacoteManifest>;
  extract(spec: string, destination: string, options: PacoteOptions): Promise<PacoteExtractResult>;
  /** The tarball as a stream, checked against `options.integrity`; settles when `handler`'s promise does. */
  tarball: {
    /** The whole tarball, resolved only once it matched `options.integrity`. */
    (spec: string, options: PacoteOptions): Promise<Buffer>;
    stream<T>(spec: string, handler: (stream: NodeJS.ReadableStream) => Promise<T>, options: PacoteOptions): Promise<T>;
  };
  RegistryFetcher: new (spec: string, options: PacoteOptions) => { registry: string; packumentUrl: string };
}

let loaded: Pacote | undefined;

export function pacote(): Pacote {
  loaded ??= createRequire(import.meta.url)('pacote') as Pacote;
  return loaded;
}

/**
 * pacote's own default registry (with a trailing slash), read from pacote itself: this package never names a
 * registry host, and follows the client library if its default ever changes.
 */
export function pacoteDefaultRegistry(): string {
  return `${new (pacote().RegistryFetcher)('default-registry-probe@0.0.0', {}).registry.replace(/\/+$/, '')}/`;
}
