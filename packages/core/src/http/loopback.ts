/**
 * Which hosts count as "this machine". Plain `http:` is only allowed to them (traffic that never leaves the host
 * cannot be read or changed on the wire), so the test is deliberately narrow: names that *might* resolve elsewhere
 * are not loopback.
 */
import { isIP } from 'node:net';

// An IPv4 loopback address written as an IPv4-mapped IPv6 address, in the compressed form WHATWG URL produces
// (`[::ffff:127.0.0.1]` becomes `[::ffff:7f00:1]`).
const MAPPED_V4_LOOPBACK = /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/;

/**
 * True for `localhost`, any address in 127.0.0.0/8, and `::1` (with or without brackets, in any spelling a URL
 * accepts). Pass a host name without a port, e.g. `new URL(u).hostname`. Other names ending in `.localhost` are not
 * trusted: nothing guarantees the resolver keeps them on this machine.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  // A trailing dot is the fully qualified spelling of the same name.
  if (name.endsWith('.') && !name.endsWith('..')) name = name.slice(0, -1);
  if (name === 'localhost') return true;
  const family = isIP(name);
  if (family === 4) return name.split('.')[0] === '127';
  if (family === 6) {
    // Let the URL parser canonicalize the address so `0:0:0:0:0:0:0:1` and `::1` compare equal.
    // Addresses with a zone id (`fe80::1%eth0`) make the parser throw; none of them is loopback.
    try {
      const canonical = new URL(`http://[${name}]/`).hostname.slice(1, -1);
      return canonical === '::1' || MAPPED_V4_LOOPBACK.test(canonical);
    } catch {
      return false;
    }
  }
  return false;
}
