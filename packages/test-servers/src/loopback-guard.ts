/** Host names that resolve to this machine without asking DNS. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * True when `host` (no port) is a loopback address. The proxies refuse everything else, so a test
 * that is wired up wrongly fails loudly instead of reaching the internet.
 */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  return LOOPBACK_HOSTS.has(lower) || /^127(?:\.\d{1,3}){3}$/.test(lower);
}
