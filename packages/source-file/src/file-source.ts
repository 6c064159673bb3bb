import { homedir } from 'node:os';
import {
  type ConfigProblem,
  copyDirectory,
  defineSource,
  isRegistryError,
  type MaterializeRequest,
  RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceRevision,
  throwIfAborted,
} from '@agentos-registry/core';
import { resolveFileLocation } from './location.js';
import { readIndexBytes, resolveEntryFolder } from './registry-folder.js';
import { computeFileRevision } from './revision.js';

/** The config of a `file` registry: only the common fields, since a folder needs nothing else. */
export interface FileSourceConfig extends SourceConfig {
  type: 'file';
  /** The registry folder: absolute, relative to the config file's folder, `~/…`, or a `file:` URL. */
  location: string;
}

/**
 * The `file` source: a registry that is a folder on this machine (a checkout, a mounted share, an air-gapped copy).
 *
 * It is `local`, so core may serve entries in place through `locate` instead of copying them into its cache; edits
 * to the folder are seen on the next freshness check, because the revision is derived from the folder's contents.
 *
 * @example
 * ```ts
 * const registry = await createRegistry(
 *   { registries: { internal: { type: 'file', location: '/opt/agentos/extensions' } } },
 *   { sources: [fileSource()] },
 * );
 * ```
 */
export function fileSource(): SourceAdapter {
  return defineSource({
    type: 'file',
    options: [],
    validate: validateFileConfig,
    create: (config, ctx) => createFileRegistrySource(config, ctx),
  });
}

function validateFileConfig(config: SourceConfig): ConfigProblem[] {
  const { location } = config;
  if (typeof location !== 'string' || location.trim() === '') {
    return [{ field: 'location', message: 'must be the path of the registry folder (the folder holding registry.json)' }];
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !location.startsWith('file:')) {
    return [{ field: 'location', message: "is a URL; a 'file' registry takes a folder path (use type 'url' or 'git' for a server)" }];
  }
  if (location.startsWith('file:')) {
    try {
      resolveFileLocation(location, '/');
    } catch (error) {
      return [{ field: 'location', message: `is not a local file: URL (${(error as Error).message})` }];
    }
  }
  return [];
}

function createFileRegistrySource(config: SourceConfig, ctx: SourceCreateContext): RegistrySource {
  // `~` follows the environment core expanded the config with (as core does for `cacheSettings.directory`).
  const root = resolveFileLocation(config.location, ctx.baseDir, ctx.env.HOME || homedir());
  // Fields that mean something for remote sources are accepted (the page's configs are copied between types) but
  // would silently do nothing here, so say so once. Never print the token itself.
  if (config.branch !== undefined) {
    ctx.logger.warn(`Registry '${ctx.registry}' is a 'file' registry: \`branch\` is ignored (a folder has one state).`);
  }
  if (config.token !== undefined) {
    ctx.logger.debug(`Registry '${ctx.registry}' is a 'file' registry: \`token\` is not used.`);
  }
  return new FileRegistrySource(root);
}

/** One configured folder registry. Holds nothing open, so `close` is not needed. */
class FileRegistrySource implements RegistrySource {
  readonly flags = { local: true } as const;
  readonly displayLocation: string;

  constructor(private readonly root: string) {
    this.displayLocation = root;
  }

  async revision(ctx: SourceCallContext): Promise<SourceRevision> {
    throwIfAborted(ctx.signal, 'Checking the revision', ctx.registry);
    const index = await readIndexBytes(this.root, ctx.registry);
    return { id: await computeFileRevision(this.root, index, ctx.signal, ctx.registry) };
  }

  // A folder has no history: the index is read as it is now, whatever `revision` says. If it changed since, the next
  // `revision()` call reports a new id and core reads it again.
  async readIndex(_revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array> {
    throwIfAborted(ctx.signal, 'Reading registry.json', ctx.registry);
    return readIndexBytes(this.root, ctx.registry);
  }

  async materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<void> {
    throwIfAborted(ctx.signal, `Copying entry '${request.path}'`, ctx.registry);
    const from = await resolveEntryFolder(this.root, request.path, ctx.registry);
    throwIfAborted(ctx.signal, `Copying entry '${request.path}'`, ctx.registry);
    try {
      await copyDirectory(from, request.destination, { signal: ctx.signal, registry: ctx.registry });
    } catch (error) {
      // An abort mid-copy is reported like one before it: with this registry's name in the error.
      throwIfAborted(ctx.signal, `Copying entry '${request.path}'`, ctx.registry);
      if (isRegistryError(error)) throw error;
      throw new RegistryError('E_UNREACHABLE', `Copying entry '${request.path}' of registry '${ctx.registry}' from ${from} failed.`, {
        registry: ctx.registry,
        cause: error,
        details: { path: request.path },
      });
    }
  }

  async locate(path: string, _revision: SourceRevision, ctx: SourceCallContext): Promise<string> {
    throwIfAborted(ctx.signal, `Locating entry '${path}'`, ctx.registry);
    return resolveEntryFolder(this.root, path, ctx.registry);
  }
}
