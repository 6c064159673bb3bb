/**
 * The slices of npm's fetch stack this package uses directly, typed here because none of them ships types: the same
 * `npm-registry-fetch`, `@npmcli/agent` and `cacache` that pacote and arborist run on (one copy each), so a packument
 * fetched here and one fetched by pacote share npm's cache and connection pools. Loaded on first use, like pacote.
 */
import type { Agent as HttpAgent, ClientRequest, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';

/** What npm-registry-fetch's `getAuth` decided for a URL: the credential npm would send there, if any. */
export interface NpmAuth {
  token: string | null;
  /** base64 `user:password` for Basic. */
  auth: string | null;
}

/** A minipass-fetch response, reduced to what is read here. */
export interface NpmResponse {
  status: number;
  headers: { get(name: string): string | null };
  body: { resume?(): void };
  text(): Promise<string>;
}

export interface NpmRegistryFetch {
  (url: string, options: Record<string, unknown>): Promise<NpmResponse>;
  getAuth(url: string, options: Record<string, unknown>): NpmAuth;
}

/** `@npmcli/agent`'s Agent: an agent-base agent (one instance serves http and https) with npm's proxy and timeouts. */
export type NpmcliAgentClass = new (
  options: Record<string, unknown>,
) => HttpAgent & {
  addRequest(request: ClientRequest, options: RequestOptions): void;
};

export interface NpmcliAgent {
  Agent: NpmcliAgentClass;
  /** The agent npm itself would use for `url` with these options (proxy from the options or the environment, pooled). */
  getAgent(url: string, options: Record<string, unknown>): HttpAgent;
}

export interface Cacache {
  rm: {
    entry(cache: string, key: string, options?: { removeFully?: boolean }): Promise<unknown>;
    content(cache: string, integrity: string): Promise<unknown>;
  };
  get: { info(cache: string, key: string): Promise<{ integrity?: string | null } | null> };
}

const load = createRequire(import.meta.url);
let registryFetch: NpmRegistryFetch | undefined;
let agent: NpmcliAgent | undefined;
let cacache: Cacache | undefined;

export function npmRegistryFetch(): NpmRegistryFetch {
  registryFetch ??= load('npm-registry-fetch') as NpmRegistryFetch;
  return registryFetch;
}

export function npmcliAgent(): NpmcliAgent {
  agent ??= load('@npmcli/agent') as NpmcliAgent;
  return agent;
}

export function npmCacache(): Cacache {
  cacache ??= load('cacache') as Cacache;
  return cacache;
}
