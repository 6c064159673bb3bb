/**
 * Handing registries to AgentOS, structurally (no runtime dependency on `@framers/agentos`): an `ExtensionManifest`
 * for `agentos.initialize({ extensionManifest })`, and an `IPersonaLoader` over the registries that serve personas.
 */
import { isRegistryError, RegistryError } from './errors.js';
import { environmentSecrets, missingSecrets, secretEnvName } from './secrets.js';
import type { ExtensionDescriptor, ExtensionPack, FetchedEntry, LoadedExtension, PersonaDefinition, Provenance, Registry } from './types.js';

/** One pack entry of AgentOS's `ExtensionManifest`, in the `factory` form. */
export interface AgentOSPackEntry {
  factory: () => Promise<ExtensionPack> | ExtensionPack;
  identifier: string;
  priority?: number;
  enabled?: boolean;
  options?: Record<string, unknown>;
}

/** AgentOS's `ExtensionManifest`, structurally. */
export interface AgentOSExtensionManifest {
  packs: AgentOSPackEntry[];
}

/** A reference with per-pack settings. */
export interface ManifestRef {
  ref: string;
  kind?: string;
  priority?: number;
  enabled?: boolean;
  options?: Record<string, unknown>;
}

export interface ToExtensionManifestOptions {
  /** Kind used to choose the registry of plain string references (default `tool`). */
  kind?: string;
  priority?: number;
  enabled?: boolean;
  signal?: AbortSignal;
}

/** Provenance as AgentOS's descriptor `source` reads it, plus the registry's own facts in `metadata`. */
function withProvenance(descriptor: ExtensionDescriptor, identifier: string, version: string, provenance: Provenance): ExtensionDescriptor {
  const metadata = (typeof descriptor.metadata === 'object' && descriptor.metadata !== null ? descriptor.metadata : {}) as Record<string, unknown>;
  return {
    ...descriptor,
    source: { sourceName: `registry:${provenance.registry}`, sourceVersion: version, identifier },
    metadata: {
      ...metadata,
      registry: {
        name: provenance.registry,
        type: provenance.sourceType,
        location: provenance.location,
        revision: provenance.revision,
        integrity: provenance.integrity,
        verified: provenance.verified,
        ...(provenance.package ? { package: provenance.package } : {}),
      },
    },
  };
}

/**
 * The identifier AgentOS's ExtensionManager records a loaded entry under (`registry:<registry>:<id>@<version>`), and
 * a copy of its pack whose descriptors say where they came from (`source`, and `metadata.registry`).
 */
export function stampPack(pack: ExtensionPack, fetched: FetchedEntry): { identifier: string; pack: ExtensionPack } {
  const identifier = `registry:${fetched.registry}:${fetched.id}@${fetched.version}`;
  return {
    identifier,
    pack: { ...pack, descriptors: pack.descriptors.map((d) => withProvenance(d, identifier, fetched.version, fetched.provenance)) },
  };
}

/**
 * Many real packages (bluesky, the cloud and domain packs, …) look for their credential only when AgentOS's
 * ExtensionManager activates them, and then throw a message of their own. When a required secret of the manifest was
 * provided by none of the ways (the load's `getSecret` and `options.secrets`, AgentOS's `getSecret`, the
 * environment), the error AgentOS reports names it and says how to give it: `E_LOAD` with `details.secrets`, the
 * package's error as `cause`. Any other failure, or a pack without `onActivate`, is left exactly as it is.
 */
function activationWithSecretAdvice(loaded: LoadedExtension, ref: string): Partial<ExtensionPack> {
  const { pack, fetched } = loaded;
  const original = pack.onActivate;
  // Only the required secrets the load itself did not have (its getSecret and options.secrets were asked already).
  const unprovided = (loaded.secrets ?? []).filter((secret) => !secret.provided).map(({ id }) => ({ id, optional: false }));
  if (typeof original !== 'function' || unprovided.length === 0) return {};
  const fromEnvironment = environmentSecrets(process.env);
  return {
    async onActivate(context?: { getSecret?: (id: string) => string | undefined }) {
      try {
        return await (original as (context: unknown) => unknown).call(pack, context);
      } catch (error) {
        const missing = missingSecrets({}, unprovided, (id) => context?.getSecret?.(id) ?? fromEnvironment(id));
        if (missing.length === 0) throw error;
        const secrets = missing.map(({ id }) => ({ id, env: secretEnvName(id) }));
        const one = secrets.length === 1;
        throw new RegistryError(
          'E_LOAD',
          `Activating ${fetched.id} failed: ${(error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '')}. Its manifest declares the secret${one ? '' : 's'} ${secrets.map(({ id }) => `"${id}"`).join(', ')}, which neither this load nor AgentOS provided. Provide ${one ? 'it' : 'them'} as options.secrets of its reference ({ ref: ${JSON.stringify(ref)}, options: { secrets: { ${secrets.map(({ id }) => `"${id}": …`).join(', ')} } } }), which both the registry and AgentOS's ExtensionManager read, or in the environment variable${one ? '' : 's'} ${secrets.map(({ env }) => env).join(', ')}.`,
          { registry: fetched.registry, cause: error, details: { secrets } },
        );
      }
    },
  };
}

/**
 * Loads each reference and returns an AgentOS `ExtensionManifest` whose pack factories hand back the loaded packs,
 * each descriptor stamped with where it came from. Loading happens here, so a bad reference fails now, not inside
 * AgentOS's start-up.
 */
export async function toExtensionManifest(
  registry: Registry,
  refs: ReadonlyArray<string | ManifestRef>,
  options: ToExtensionManifestOptions = {},
): Promise<AgentOSExtensionManifest> {
  const packs: AgentOSPackEntry[] = [];
  for (const item of refs) {
    const spec: ManifestRef = typeof item === 'string' ? { ref: item } : item;
    const packOptions = spec.options ?? {};
    const kind = spec.kind ?? options.kind ?? 'tool';
    // Personas are not packs: they reach AgentOS through the persona loader.
    if (kind === 'persona') continue;
    const loaded = await registry.load(kind, spec.ref, {
      options: packOptions,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (loaded.type !== 'extension') continue;
    const stamped = stampPack(loaded.pack, loaded.fetched);
    const { identifier } = stamped;
    const pack: ExtensionPack = { ...stamped.pack, ...activationWithSecretAdvice(loaded, spec.ref) };
    const priority = spec.priority ?? options.priority;
    const enabled = spec.enabled ?? options.enabled;
    packs.push({
      factory: () => pack,
      identifier,
      ...(priority === undefined ? {} : { priority }),
      ...(enabled === undefined ? {} : { enabled }),
      options: packOptions,
    });
  }
  return { packs };
}

/** AgentOS's `IPersonaLoader`, structurally. */
export interface AgentOSPersonaLoader {
  initialize(config?: unknown): Promise<void>;
  loadPersonaById(personaId: string): Promise<PersonaDefinition | undefined>;
  loadAllPersonaDefinitions(): Promise<PersonaDefinition[]>;
  /** Revalidates the persona registries now and reloads every persona (answers nothing, as AgentOS's interface says). */
  refreshPersonas(): Promise<void>;
}

/**
 * An `IPersonaLoader` over the registry that serves `persona` (`defaultRegistries.persona`, the resolver, or
 * `default`). Unknown ids answer `undefined`, as a loader should; every other failure is thrown as it is.
 */
export function createPersonaLoader(registry: Registry): AgentOSPersonaLoader {
  let known: Map<string, PersonaDefinition> | undefined;

  const loadAll = async (refresh = false): Promise<PersonaDefinition[]> => {
    const rows = await registry.list({ kind: 'persona' }, { refresh });
    const loaded = new Map<string, PersonaDefinition>();
    for (const row of rows) {
      if (loaded.has(row.id)) continue;
      const result = await registry.load('persona', `${row.registry}:${row.id}`);
      if (result.type === 'persona') loaded.set(result.persona.id, result.persona);
    }
    known = loaded;
    return [...loaded.values()];
  };

  return {
    async initialize() {
      await loadAll();
    },
    async loadPersonaById(personaId) {
      const cached = known?.get(personaId);
      if (cached) return cached;
      try {
        const result = await registry.load('persona', personaId);
        return result.type === 'persona' ? result.persona : undefined;
      } catch (error) {
        if (isRegistryError(error, 'E_NOT_FOUND')) return undefined;
        throw error;
      }
    },
    async loadAllPersonaDefinitions() {
      return known ? [...known.values()] : loadAll();
    },
    async refreshPersonas() {
      // Asks the registry whether anything changed (one revision check), whatever `cacheDuration` says.
      await loadAll(true);
    },
  };
}
