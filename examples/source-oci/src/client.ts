/**
 * What the OCI distribution protocol adds to HTTP: `oci://` references, Docker/Podman logins, and 401 challenges (Basic,
 * or the Bearer token flow). A credential goes only to the registry's origin and to the token realm it names, never to
 * a blob host it redirects to: core's client drops `Authorization` on any redirect that leaves the origin.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HttpClient, type HttpRequestOptions, type HttpResponse, malformedAnswerError, registerCredential, statusError } from '@agentos-registry/core';

export const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const ARTIFACT_TYPE = 'application/vnd.agentos.registry.v1';
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** The title annotation of the layer that holds `registry.json`; every other layer is titled with its entry's path. */
export const INDEX_TITLE = 'registry.json';
export const TITLE = 'org.opencontainers.image.title';
export const digestOf = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `oci://host[:port]/name:tag` or `oci://host[:port]/name@sha256:<hex>`; a semver `+` in a tag is `_` (Helm's rule). */
export type OciReference = { host: string; name: string; reference: string; pinned: boolean }; // reference: the tag or the digest

export function parseOciReference(location: string): OciReference | undefined {
  const match = /^oci:\/\/([^/@?#\s]+)\/([^:@?#\s]+)(?::([\w][\w.+-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(location);
  if (!match || !NAME.test(match[2]!) || !URL.canParse(`http://${match[1]}`) || !(match[3] || match[4])) return undefined;
  return { host: match[1]!, name: match[2]!, reference: match[4] ?? match[3]!.replaceAll('+', '_'), pinned: !!match[4] };
}

/** The `Authorization` a config's `token` means: `user:password` is Basic, anything else a registry token (Bearer). */
export function loginHeader(token: string | undefined, host: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const header = token ? (token.includes(':') ? `Basic ${Buffer.from(token).toString('base64')}` : `Bearer ${token}`) : dockerLogin(host, env);
  if (header) registerCredential(header);
  return header;
}

/** The first `auths[host].auth` (a missing or unreadable file is none) in `$REGISTRY_AUTH_FILE`, Podman's and Docker's auth files. */
function dockerLogin(host: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const home = env.HOME ?? '/nonexistent';
  const podman = [env.XDG_RUNTIME_DIR ?? '/nonexistent', env.XDG_CONFIG_HOME ?? join(home, '.config')].map((dir) => join(dir, 'containers/auth.json'));
  for (const file of [env.REGISTRY_AUTH_FILE, ...podman, join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json')]) {
    try {
      const auth = file ? JSON.parse(readFileSync(file, 'utf8'))?.auths?.[host]?.auth : undefined;
      if (typeof auth === 'string' && /^[A-Za-z0-9+/]+=*$/.test(auth)) return `Basic ${auth}`;
    } catch {}
  }
  return undefined;
}

/** Requests below `/v2/<name>/` of one registry, answering its auth challenges. */
export class OciClient {
  readonly base: URL;
  #auth: string | undefined;

  constructor(
    readonly http: HttpClient,
    ref: OciReference,
    plainHttp: boolean,
    readonly registry: string,
    readonly login: string | undefined,
  ) {
    this.base = new URL(`${plainHttp ? 'http' : 'https'}://${ref.host}/v2/${ref.name}/`);
    this.#auth = login; // sent from the first request on, so a revalidation stays one request
  }

  /** A request to `path` (relative to `/v2/<name>/`, or a URL the registry named), retried once with the credential its 401 asks for. */
  async request(path: string | URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(path, this.base);
    const own = url.origin === this.base.origin;
    for (let attempt = 0; ; attempt++) {
      const headers = { ...options.headers, ...(own && this.#auth ? { authorization: this.#auth } : {}) };
      const res = await this.http.request(url, { ...options, headers, ...(own ? {} : { namedBy: this.base }) });
      // Only the registry's own 401 is answered: a host it redirected to gets no login, not even via a realm it names.
      if (res.status !== 401 || attempt > 0 || !own || new URL(res.url).origin !== this.base.origin) return res;
      const next = await this.#answer(res.headers['www-authenticate'] ?? '', options.signal);
      if (!next || next === this.#auth) return res;
      await res.discard();
      this.#auth = next;
    }
  }

  /** The Authorization a challenge asks for, or undefined when there is none to give. */
  async #answer(challenge: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const basic = this.login?.startsWith('Basic ') ? this.login : undefined;
    if (/^basic\b/i.test(challenge)) return basic;
    const bearer = /^bearer\s+(.*)$/i.exec(challenge);
    if (!bearer || (this.login && !basic)) return this.login; // a registry token is all there is to send
    const params = new Map([...bearer[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    const realm = URL.canParse(params.get('realm') ?? '') ? new URL(params.get('realm')!) : undefined;
    const fail = (problem: string) => malformedAnswerError({ registry: this.registry, service: this.base.host, action: 'asking for a token', problem });
    if (!realm) throw fail('its challenge names no token realm URL');
    for (const key of ['service', 'scope']) if (params.has(key)) realm.searchParams.set(key, params.get(key)!);
    const res = await this.http.request(realm, { purpose: 'index', signal, namedBy: this.base, headers: basic ? { authorization: basic } : {} });
    if (res.status !== 200) throw await this.failed(res, `a token for ${this.base.host}`, !!basic);
    const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = body.token ?? body.access_token;
    if (typeof token !== 'string' || !token) throw fail('the token service answered without a token');
    registerCredential(`Bearer ${token}`);
    return `Bearer ${token}`;
  }

  /** The error of an answer that is not the wanted one (its body discarded). */
  async failed(res: HttpResponse, what: string, authenticated = !!this.login): Promise<Error> {
    await res.discard();
    return statusError(res, { registry: this.registry, what, authenticated, hints: AUTH_HINTS });
  }
}

const AUTH_HINTS = {
  auth: 'Set `token` to user:password (or a registry token), or log in with `docker login` / `podman login` on this machine.',
  notFound: '`location` must be oci://host[:port]/repository:tag (or @sha256:…) of an artifact pushed with `agentos-registry-oci push`.',
};
