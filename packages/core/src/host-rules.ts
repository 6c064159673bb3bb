/**
 * The host rules of `policy.allowHosts`: `example.com` (any port), `example.com:8443` (that port only) and
 * `*.example.com` (any subdomain, not the domain itself). One matcher, used where a registry is set up and by core's
 * HTTP client for every request and redirect hop.
 */

/** True when `host` (a URL, or its hostname and port) matches one of `allowed`. Rules are lower case. */
export function hostAllowed(allowed: readonly string[], host: { hostname: string; port: string }): boolean {
  const hostname = host.hostname.toLowerCase();
  return allowed.some((rule) => {
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(rule);
    const name = withPort ? withPort[1]! : rule;
    if (withPort && withPort[2] !== host.port) return false;
    if (name.startsWith('*.')) return hostname.endsWith(name.slice(1));
    return hostname === name;
  });
}
