/**
 * `registryConfig.policy` and the `onBeforeActivate` hook (issue 14): what a host refuses to activate, whatever its
 * registries serve. Every refusal is `E_POLICY` with `details.rule` naming the rule, thrown before the entry's code
 * is imported (or a persona is handed to the host).
 *
 * When each rule is judged, and why:
 * * `allowTypes` — at `createRegistry`, before any adapter is imported or any request made: the types are in the config.
 * * `allowHosts` for a registry's location — at `createRegistry` too, from what the source built from its config
 *   (`displayLocation`) and every URL-valued option: known before any request, so a wrong host fails at start-up.
 * * `allowHosts` for the package registry entry code comes from — per request, just before the package is fetched:
 *   whether an entry's code comes from npm is known only then, and a config that never takes code from npm must not
 *   fail at start-up for it.
 * * `requireVerified` — per `load`, before anything is fetched when the registry is unverified, and again after the
 *   fetch on the result's `provenance.verified` (code taken from an npm package under a signed index is not verified).
 * * `onBeforeActivate` — per `load`, after the fetch (and its checks) and before dependencies are installed or
 *   anything is imported.
 */
import type { OptionRole, RegistrySource } from './contract.js';
import { RegistryError } from './errors.js';
import { hostAllowed } from './host-rules.js';
import type { BeforeActivateHook, FetchedEntry } from './types.js';

export type PolicyRule = 'requireVerified' | 'allowTypes' | 'allowHosts' | 'onBeforeActivate';

export interface NormalizedPolicy {
  requireVerified: true | ReadonlySet<string> | undefined;
  allowTypes: ReadonlySet<string> | undefined;
  allowHosts: readonly string[] | undefined;
}

const POLICY_FIELDS = ['requireVerified', 'allowTypes', 'allowHosts'];

function configError(message: string, field: string): RegistryError {
  return new RegistryError('E_CONFIG', message, { details: { field } });
}

function stringList(value: unknown, field: string, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.trim() !== '')) {
    throw configError(`${field} must be a list of ${what} (non-empty strings).`, field);
  }
  return value.map((v: string) => v.trim());
}

/** Validates `registryConfig.policy`; `E_CONFIG` naming the field. */
export function normalizePolicy(raw: unknown): NormalizedPolicy | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw configError(
      'policy must be an object such as { requireVerified: true, allowTypes: ["file", "url"], allowHosts: ["registry.example.com"] }.',
      'policy',
    );
  }
  for (const key of Object.keys(raw)) {
    if (!POLICY_FIELDS.includes(key)) throw configError(`policy.${key} is not a policy rule (the rules are ${POLICY_FIELDS.join(', ')}).`, `policy.${key}`);
  }
  const { requireVerified, allowTypes, allowHosts } = raw as Record<string, unknown>;
  let verified: NormalizedPolicy['requireVerified'];
  if (requireVerified === true) verified = true;
  else if (requireVerified === undefined || requireVerified === false) verified = undefined;
  else verified = new Set(stringList(requireVerified, 'policy.requireVerified', 'kinds, or true for every kind'));
  const hosts = allowHosts === undefined ? undefined : stringList(allowHosts, 'policy.allowHosts', 'host names').map((h) => h.toLowerCase());
  for (const host of hosts ?? []) {
    if (/[/\s@]/.test(host) || host.includes('://'))
      throw configError(`policy.allowHosts: "${host}" is not a host name (write example.com, example.com:8443 or *.example.com).`, 'policy.allowHosts');
  }
  return {
    requireVerified: verified,
    allowTypes: allowTypes === undefined ? undefined : new Set(stringList(allowTypes, 'policy.allowTypes', 'source types')),
    allowHosts: hosts,
  };
}

function policyError(rule: PolicyRule, message: string, registry: string | undefined, details: Record<string, unknown> = {}): RegistryError {
  return new RegistryError('E_POLICY', message, { registry, details: { rule, ...details } });
}

/** `allowTypes`: every configured registry's type. Called before adapters are loaded. */
export function checkAllowedTypes(policy: NormalizedPolicy | undefined, registries: Iterable<[string, string]>): void {
  if (!policy?.allowTypes) return;
  for (const [name, type] of registries) {
    if (!policy.allowTypes.has(type)) {
      throw policyError(
        'allowTypes',
        `Registry "${name}" is of type "${type}", which policy.allowTypes does not allow (allowed: ${[...policy.allowTypes].join(', ') || 'none'}). Remove the registry or add "${type}" to policy.allowTypes.`,
        name,
        { type },
      );
    }
  }
}

/** `allowTypes` for entry code taken from an npm package: the package source is of type `npm`. */
export function checkPackageType(policy: NormalizedPolicy | undefined, registry: string, pkg: string): void {
  if (!policy?.allowTypes || policy.allowTypes.has('npm')) return;
  throw policyError(
    'allowTypes',
    `The code of this entry of registry "${registry}" is the npm package ${pkg}, and policy.allowTypes does not allow "npm". Add "npm" to policy.allowTypes, or load the entry from its registry folder (code: 'registry').`,
    registry,
    { type: 'npm', package: pkg },
  );
}

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s()<>"']+/gi;

/** Host (`name` or `name:port`, lowercase, IPv6 in brackets) of each URL in `text`, and of an scp-style `user@host:path`. */
function hostsIn(text: string): Array<{ hostname: string; port: string }> {
  const found: Array<{ hostname: string; port: string }> = [];
  for (const match of text.match(URL_PATTERN) ?? []) {
    try {
      const url = new URL(match);
      if (url.protocol === 'file:') continue;
      if (url.hostname !== '') found.push({ hostname: url.hostname.toLowerCase(), port: url.port });
    } catch {
      // Not a URL after all.
    }
  }
  const scp = /^(?:[^@\s/:]+@)?([^@\s/:]+):(?!\/\/)/.exec(text.trim());
  if (found.length === 0 && scp && !/^[a-z]:$/i.test(`${scp[1]}:`) && text.includes('@')) found.push({ hostname: scp[1]!.toLowerCase(), port: '' });
  return found;
}

const shown = (host: { hostname: string; port: string }) => (host.port ? `${host.hostname}:${host.port}` : host.hostname);

/**
 * `allowHosts` for one configured registry: the hosts in what its source displays as its location and in every
 * URL-valued option the adapter gives the `identity` role (a `baseUrl`, a package `registry`: where the registry
 * lives). `transport` options (a proxy is not where the registry lives) and `secret` ones are not hosts of the
 * registry; an adapter that declares no roles has every URL-valued option checked, the strict reading. A local folder
 * has none. A network source whose host cannot be told is refused: an allow-list that cannot judge must not let it pass.
 */
export function checkRegistryHosts(
  policy: NormalizedPolicy | undefined,
  name: string,
  source: RegistrySource,
  config: Record<string, unknown>,
  roles: ReadonlyMap<string, OptionRole>,
): void {
  if (!policy?.allowHosts) return;
  // A local folder (a local source, or one whose location is an absolute path or a file: URL) is on no host.
  if (source.flags?.local || /^(\/|[a-z]:[\\/]|file:)/i.test(source.displayLocation)) return;
  const hosts = hostsIn(source.displayLocation);
  for (const [field, value] of Object.entries(config)) {
    const role = roles.size === 0 ? 'identity' : roles.get(field);
    if (field !== 'token' && role === 'identity' && typeof value === 'string' && /:\/\//.test(value)) hosts.push(...hostsIn(value));
  }
  if (hosts.length === 0) {
    throw policyError(
      'allowHosts',
      `policy.allowHosts is set, but the host of registry "${name}" (${source.displayLocation}) cannot be told; it is refused. Use a location URL with its host.`,
      name,
    );
  }
  for (const host of hosts) {
    if (!hostAllowed(policy.allowHosts, host)) {
      throw policyError(
        'allowHosts',
        `Registry "${name}" is on ${shown(host)}, which policy.allowHosts does not allow (allowed: ${policy.allowHosts.join(', ')}). Add "${shown(host)}" to policy.allowHosts or remove the registry.`,
        name,
        { host: shown(host) },
      );
    }
  }
}

/**
 * `allowHosts` for the package registry entry code is taken from. Its URL must be known to core (createRegistry's
 * `packages.registry`, or the `registry` option of the first npm registry): the one `.npmrc` picks is the npm
 * source's business and core cannot judge it, so with `allowHosts` set an unnamed package registry is refused.
 */
export function checkPackageHost(policy: NormalizedPolicy | undefined, registry: string, pkg: string, packageRegistry: string | undefined): void {
  if (!policy?.allowHosts) return;
  const host = packageRegistry ? hostsIn(packageRegistry)[0] : undefined;
  if (!host) {
    throw policyError(
      'allowHosts',
      `The code of this entry of registry "${registry}" is the npm package ${pkg}, but no package registry URL is configured, so policy.allowHosts cannot judge where it would come from (.npmrc decides). Set createRegistry's packages.registry (or the npm registry's "registry" option) to an allowed host.`,
      registry,
      { package: pkg },
    );
  }
  if (!hostAllowed(policy.allowHosts, host)) {
    throw policyError(
      'allowHosts',
      `The code of this entry of registry "${registry}" is the npm package ${pkg} from ${shown(host)}, which policy.allowHosts does not allow (allowed: ${policy.allowHosts.join(', ')}).`,
      registry,
      { host: shown(host), package: pkg },
    );
  }
}

/** Whether `requireVerified` covers a load of `kinds` (the kind asked for and those the entry declares). */
function verifiedRequired(policy: NormalizedPolicy | undefined, kinds: readonly string[]): string | undefined {
  const rule = policy?.requireVerified;
  if (rule === undefined) return undefined;
  if (rule === true) return kinds[0];
  return kinds.find((kind) => rule.has(kind));
}

/** `requireVerified`: `E_POLICY` when one of `kinds` requires a verified registry and `verified` is false. */
export function checkVerified(
  policy: NormalizedPolicy | undefined,
  registry: string,
  id: string,
  kinds: readonly string[],
  verified: boolean,
  what = 'its registry',
): void {
  if (verified) return;
  const kind = verifiedRequired(policy, kinds);
  if (kind === undefined) return;
  throw policyError(
    'requireVerified',
    `${id} (${kind}) is not verified (${what}), and policy.requireVerified requires ${policy?.requireVerified === true ? 'every entry' : `"${kind}" entries`} to be. Mark registry "${registry}" verified over a trusted transport or sign it (publicKeys), or load the code from its signed registry folder.`,
    registry,
    { kind, id },
  );
}

/** Runs `onBeforeActivate`; a `false` answer or a throw is `E_POLICY` (rule `onBeforeActivate`), its message redacted. */
export async function runBeforeActivate(hook: BeforeActivateHook | undefined, fetched: FetchedEntry, dir: string, kind: string): Promise<void> {
  if (!hook) return;
  let answer: unknown;
  try {
    answer = await hook(fetched, dir, { kind });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RegistryError('E_POLICY', `onBeforeActivate vetoed ${fetched.id}@${fetched.version} from registry "${fetched.registry}": ${reason}`, {
      registry: fetched.registry,
      cause: error,
      details: { rule: 'onBeforeActivate', id: fetched.id },
    });
  }
  if (answer === false) {
    throw policyError('onBeforeActivate', `onBeforeActivate vetoed ${fetched.id}@${fetched.version} from registry "${fetched.registry}".`, fetched.registry, {
      id: fetched.id,
    });
  }
}
