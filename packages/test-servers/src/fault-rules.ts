/** What a fault does to one response. */
export type Fault =
  /**
   * Send the upstream headers and `afterBytes` body bytes, then reset the connection (RST). A shorter
   * body is sent whole and then reset all the same; only a chunked one is then visibly incomplete.
   */
  | { kind: 'reset'; afterBytes: number }
  /** Keep the full Content-Length but send only `bytes` body bytes (default: half), then close cleanly (FIN). */
  | { kind: 'truncate'; bytes?: number }
  /** Answer `status` (default 503) without contacting the target, optionally with Retry-After. */
  | { kind: 'status'; status?: number; retryAfter?: number | string; body?: string }
  /** Replace the body with deterministic garbage of the same length (or `length`), headers unchanged. */
  | { kind: 'garbage'; length?: number }
  /**
   * Accept the request and never answer: nothing is forwarded and not a byte comes back until the client gives up or
   * the proxy closes (a server whose process hangs while the kernel still accepts connections).
   */
  | { kind: 'silent' }
  /** Hold the response headers back for `ms` milliseconds (slow server), then pass it through. */
  | { kind: 'delay'; ms: number }
  /** Send the upstream status and headers, then nothing more until the client gives up or the proxy closes. */
  | { kind: 'stall' }
  /**
   * Send the upstream status and headers at once (chunked), then the upstream body one byte every `intervalMs`: never
   * idle long enough for an idle timeout, and done only after bytes × interval.
   */
  | { kind: 'trickle'; intervalMs: number }
  /**
   * Keep the upstream status and headers but replace the body with `bytes` bytes of `fill` (default `a`), chunked and
   * as fast as the client reads; without `bytes`, endless.
   */
  | { kind: 'flood'; bytes?: number; fill?: string }
  /**
   * Keep the upstream status and headers but replace the body with gzip (`Content-Encoding: gzip`) that inflates to
   * `inflatedBytes` zero bytes: about 1 KB on the wire per MiB inflated.
   */
  | { kind: 'gzip-bomb'; inflatedBytes: number };

/**
 * A fault plus when it applies. `path` is an exact request path, a pattern where `*` matches
 * anything (`/registry/*`), or a RegExp; without it every path matches. `times` limits the rule to
 * the next N matching requests (e.g. `503` for the first K); without it the rule never runs out.
 */
export type FaultRule = Fault & { path?: string | RegExp; times?: number };

/** The rules in force, with how many uses each has left. First matching rule wins. */
export class FaultTable {
  private rules: { rule: FaultRule; matcher: (path: string) => boolean; left: number }[] = [];

  constructor(rules: FaultRule[] = []) {
    this.set(rules);
  }

  /** Replaces every rule; counts start over. */
  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, matcher: compilePath(rule.path), left: rule.times ?? Number.POSITIVE_INFINITY }));
  }

  /** Adds a rule after the existing ones. */
  add(rule: FaultRule): void {
    this.rules.push({ rule, matcher: compilePath(rule.path), left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Finds the fault for a request path and uses it up once; `undefined` means pass through. */
  take(path: string): Fault | undefined {
    const found = this.rules.find((entry) => entry.left > 0 && entry.matcher(path));
    if (!found) return undefined;
    found.left -= 1;
    return found.rule;
  }
}

function compilePath(pattern: string | RegExp | undefined): (path: string) => boolean {
  if (pattern === undefined) return () => true;
  if (pattern instanceof RegExp) return (path) => pattern.test(path);
  if (!pattern.includes('*')) return (path) => path === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`);
  return (path) => regex.test(path);
}

/** Deterministic bytes that are neither valid JSON, gzip, tar nor a git pack, so a client must notice. */
export function garbageBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    // xorshift32: cheap, reproducible, and never produces a recognisable file header by accident.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  if (length > 0) bytes[0] = 0xff;
  return bytes;
}
