/**
 * The secrets an extension declares, and how a load hands them over. The real AgentOS manifests name them as
 * `requiredSecrets` / `optionalSecrets` (ids such as `discord.botToken`, top level or per entry of `extensions[]`,
 * as strings or AgentOS's `{ id, optional }`; older ones as `configuration.properties.<id>.secret: true`), and the real packages read them in one of three ways: the context's
 * `getSecret(id)`, the AgentOS convention `options.secrets[id]` (what AgentOS's ExtensionManager fills from a pack
 * entry's options), or an environment variable named after the id (`discord.botToken` → `DISCORD_BOT_TOKEN`, the
 * name AgentOS's own secret catalog gives nearly every id). Core serves all three from one place: the host's
 * `getSecret` (by default the environment, under the id and under that name) also fills `options.secrets`.
 */
import { registerSecret } from './errors.js';

/** A secret a manifest declares. */
export interface DeclaredSecret {
  id: string;
  /** False for `requiredSecrets` (and `{ optional: false }`), true for `optionalSecrets`. */
  optional: boolean;
}

/** `discord.botToken` → `DISCORD_BOT_TOKEN`; `google.refreshToken` → `GOOGLE_REFRESH_TOKEN`. */
export function secretEnvName(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

/** The secrets `manifest` declares, each id once (required wins over optional), in the manifest's order. */
export function declaredSecrets(manifest: Record<string, unknown>): DeclaredSecret[] {
  const found = new Map<string, boolean>();
  const add = (list: unknown, optional: boolean) => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const id =
        typeof item === 'string'
          ? item
          : typeof item === 'object' && item !== null && typeof (item as { id?: unknown }).id === 'string'
            ? (item as { id: string }).id
            : undefined;
      if (!id || id.trim() === '') continue;
      const isOptional = optional || (typeof item === 'object' && item !== null && (item as { optional?: unknown }).optional === true);
      found.set(id, (found.get(id) ?? true) && isOptional);
    }
  };
  add(manifest.requiredSecrets, false);
  add(manifest.optionalSecrets, true);
  // The older shape (the real telegram package): `configuration.properties.<id>.secret: true`.
  const properties = (manifest.configuration as { properties?: unknown } | undefined)?.properties;
  if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
    add(
      Object.entries(properties as Record<string, unknown>).flatMap(([id, spec]) =>
        typeof spec === 'object' && spec !== null && (spec as { secret?: unknown }).secret === true ? [id] : [],
      ),
      false,
    );
  }
  for (const extension of Array.isArray(manifest.extensions) ? manifest.extensions : []) {
    if (typeof extension !== 'object' || extension === null) continue;
    add((extension as Record<string, unknown>).requiredSecrets, false);
    add((extension as Record<string, unknown>).optionalSecrets, true);
  }
  return [...found].map(([id, optional]) => ({ id, optional }));
}

/** The default `getSecret`: the environment's own variable named by the id, else the one named after it. */
export function environmentSecrets(env: Readonly<Record<string, string | undefined>>): (id: string) => string | undefined {
  // Own variables only: an extension asking for `constructor` gets nothing, not Object.prototype's function.
  const read = (name: string) => (Object.hasOwn(env, name) && env[name] !== '' ? env[name] : undefined);
  return (id: string) => (typeof id === 'string' ? (read(id) ?? read(secretEnvName(id))) : undefined);
}

/**
 * The options a pack is built with: `options` plus, under `options.secrets`, every declared secret `getSecret`
 * answers that `options.secrets` does not already hold (what the caller passed wins). `options` itself is not changed.
 */
export function withDeclaredSecrets(
  options: Record<string, unknown>,
  declared: readonly DeclaredSecret[],
  getSecret: (id: string) => string | undefined,
): Record<string, unknown> {
  if (declared.length === 0) return options;
  const given = options.secrets;
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) return options;
  const secrets: Record<string, unknown> = { ...((given as Record<string, unknown> | undefined) ?? {}) };
  let added = false;
  for (const { id } of declared) {
    if (Object.hasOwn(secrets, id)) continue;
    const value = askSafely(getSecret, id);
    if (value !== undefined) {
      // Kept out of every message and log line, like any token.
      registerSecret(value);
      secrets[id] = value;
      added = true;
    }
  }
  return added ? { ...options, secrets } : options;
}

/** The required secrets the load could not provide: neither in `options.secrets` nor from `getSecret`. */
export function missingSecrets(
  options: Record<string, unknown>,
  declared: readonly DeclaredSecret[],
  getSecret: (id: string) => string | undefined,
): DeclaredSecret[] {
  const given = typeof options.secrets === 'object' && options.secrets !== null ? (options.secrets as Record<string, unknown>) : {};
  return declared.filter(({ id, optional }) => {
    if (optional) return false;
    if (Object.hasOwn(given, id) && typeof given[id] === 'string' && given[id] !== '') return false;
    return askSafely(getSecret, id) === undefined;
  });
}

/** `getSecret(id)` as a non-empty string, or `undefined` (also when the host's function throws). */
function askSafely(getSecret: (id: string) => string | undefined, id: string): string | undefined {
  try {
    const value = getSecret(id);
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}
