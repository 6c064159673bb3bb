/**
 * Which proxy, if any, a request goes through. Enterprise networks configure proxies through the environment
 * (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, upper or lower case); we read them from the environment the client was
 * given rather than from `process.env`, so a registry config and the tests can pass their own.
 */
import { BlockList, isIP } from 'node:net';
import { RegistryError, registerSecret } from '../errors.js';

/** The proxies a client uses, already parsed. */
export interface ProxySettings {
  /** Proxy for `http:` URLs. */
  http?: URL;
  /** Proxy for `https:` URLs. */
  https?: URL;
  /** Hosts that bypass the proxy, in `NO_PROXY` syntax. */
  noProxy: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first non-empty variable among `names`; lower case comes first, as curl and undici read them. */
function fromEnv(env: Env, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

function parseProxyUrl(value: string, source: string, registry: string): URL {
  // `HTTPS_PROXY=proxy.corp:3128` (no scheme) is common in the wild and means an HTTP proxy.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new RegistryError(
      'E_CONFIG',
      `The proxy set in ${source} is not a valid URL. Use the form http://host:port (credentials, if any, as http://user:password@host:port).`,
      {
        registry,
        details: { source },
      },
    );
  }
  if (!['http:', 'https:', 'socks:', 'socks5:'].includes(url.protocol)) {
    throw new RegistryError('E_CONFIG', `The proxy set in ${source} uses the unsupported scheme "${url.protocol}". Use http:, https: or socks5:.`, {
      registry,
      details: { source },
    });
  }
  // A proxy password must never show up in a message, even when the proxy's own error echoes the URL.
  if (url.password) {
    registerSecret(url.password);
    registerSecret(decodeURIComponent(url.password));
  }
  return url;
}

/**
 * Reads the proxy configuration. An explicit `proxy` wins over the environment for both schemes; `NO_PROXY` applies
 * either way, so a host listed there is always reached directly. Without `HTTPS_PROXY`, `https:` falls back to
 * `HTTP_PROXY` (what undici and npm do), because many networks set only one of them.
 */
export function readProxySettings(explicit: string | undefined, env: Env, registry: string): ProxySettings {
  const noProxy = fromEnv(env, 'no_proxy', 'NO_PROXY')?.value ?? '';
  if (explicit?.trim()) {
    const url = parseProxyUrl(explicit.trim(), 'the "proxy" option', registry);
    return { http: url, https: url, noProxy };
  }
  const httpVar = fromEnv(env, 'http_proxy', 'HTTP_PROXY');
  const httpsVar = fromEnv(env, 'https_proxy', 'HTTPS_PROXY');
  const http = httpVar ? parseProxyUrl(httpVar.value, httpVar.name, registry) : undefined;
  const https = httpsVar ? parseProxyUrl(httpsVar.value, httpsVar.name, registry) : http;
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy };
}

/** The proxy for `url`, or `undefined` when it is reached directly. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  return matchesNoProxy(url, settings.noProxy) ? undefined : proxy;
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

function bareHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** Splits one NO_PROXY entry into host and optional port; IPv6 addresses may be bare or in brackets. */
function splitEntry(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  // More than one colon and no brackets: a bare IPv6 address, which cannot carry a port.
  if ((entry.match(/:/g) ?? []).length > 1) return { host: entry };
  const withPort = /^(.+):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!, port: Number(withPort[2]) } : { host: entry };
}

/**
 * True when `url` must bypass the proxy according to a `NO_PROXY` value: `*`; a host name, which also covers its
 * subdomains (a leading `.` or `*.` is accepted); an IP address; an IP range in CIDR form (`10.0.0.0/8`); any of them
 * with `:port`. Loopback is *not* implied: list `localhost,127.0.0.1,::1` to keep local traffic direct (test servers
 * behind a proxy on the same machine are a real setup).
 */
export function matchesNoProxy(url: URL, noProxy: string): boolean {
  const host = bareHost(url.hostname);
  const port = defaultPort(url);
  const family = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const base = bareHost(cidr[1]!);
      const baseFamily = isIP(base);
      if (family !== 0 && baseFamily === family) {
        const list = new BlockList();
        const type = family === 4 ? 'ipv4' : 'ipv6';
        try {
          list.addSubnet(base, Number(cidr[2]), type);
          if (list.check(host, type)) return true;
        } catch {
          // A malformed range is skipped, like a malformed host name would be.
        }
      }
      continue;
    }
    const { host: entryHost, port: entryPort } = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    const name = bareHost(entryHost.replace(/^\*?\./, ''));
    if (!name) continue;
    if (isIP(name) !== 0) {
      if (family !== 0 && sameAddress(name, host)) return true;
      continue;
    }
    if (host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // Compare IPv6 spellings through the URL parser's canonical form.
  try {
    return new URL(`http://[${a}]/`).hostname === new URL(`http://[${b}]/`).hostname;
  } catch {
    return false;
  }
}
