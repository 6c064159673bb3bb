import { homedir } from 'node:os';
import {
  defineSource,
  isLoopbackHost,
  type MaterializeRequest,
  normalizeRelativePath,
  RegistryError,
  type RegistrySource,
  type SourceAdapter,
  type SourceCallContext,
  type SourceConfig,
  type SourceCreateContext,
  type SourceRevision,
  throwIfAborted,
} from '@agentos-registry/core';
import { authorizationValue, defaultUsername, type GitAuthScheme } from './auth.js';
import type { GitEngine, GitRemote } from './engine.js';
import { type GitLocation, GitLocationError, type GitTransport, parseGitLocation } from './location.js';
import { tokenConfig } from './native/environment.js';
import { NativeEngine } from './native/native-engine.js';
import { detectGit, GitRunner, usableForNative } from './native/runner.js';
import { GIT_SOURCE_OPTION_ROLES, type GitEngineChoice, type GitSourceOptions, optionProblems, validateGitConfig } from './options.js';
import { describeCommit, FULL_SHA, type ResolvedRef, resolveRef } from './refs.js';
import { gitTransport } from './transport.js';

/** Name of the index file at the root of a registry repository. */
const INDEX_FILE = 'registry.json';

/** The engine a git registry gets, and what was found on PATH when it is not native git. */
export interface GitEngineDecision {
  /** `undefined`: the registry needs native git (`engine: 'native'`, an ssh:// or git:// location) and none is usable. */
  engine: 'native' | 'isomorphic' | undefined;
  /** The git on PATH, when one was asked (not for `engine: 'isomorphic'`). */
  version?: { major: number; minor: number };
  /** Why native git is not used, e.g. "no git was found on PATH"; '' when it is. */
  found: string;
}

/**
 * The rule every git registry's engine is chosen by: `engine: 'isomorphic'` is isomorphic-git; otherwise native git
 * when git 2.25 or newer is on PATH; otherwise isomorphic-git, unless the registry needs native git. Exported so
 * that tools (the CLI's `doctor`) report the same choice the source makes.
 */
export async function chooseGitEngine(choice: GitEngineChoice, transport: GitTransport): Promise<GitEngineDecision> {
  if (choice === 'isomorphic') return { engine: 'isomorphic', found: '' };
  const version = await detectGit();
  if (version !== undefined && usableForNative(version)) return { engine: 'native', version, found: '' };
  const found = version ? `git ${version.major}.${version.minor} is too old` : 'no git was found on PATH';
  const needsNative = choice === 'native' || transport === 'ssh' || transport === 'git';
  return { engine: needsNative ? undefined : 'isomorphic', ...(version ? { version } : {}), found };
}

/**
 * The `git` source: a registry that is a git repository on any server — the page's "Self-Hosted Git" and
 * "Enterprise with Private Git" — over https/http (with a token), ssh, git:// or a local path.
 *
 * The revision is the commit sha the configured `branch` (a branch, a tag or a sha; default the remote's HEAD)
 * points at, found with one `ls-remote` round trip; a sha names its content forever, so revisions are immutable.
 * Reading the index and an entry fetches depth 1 of that one commit into a bare mirror kept in core's work folder,
 * and with the native engine only `registry.json` and the requested entry's files (partial clone).
 *
 * @param options Defaults for every `git` registry; a registry's own fields win.
 * @example
 * ```ts
 * const registry = await createRegistry(
 *   { registries: { custom: { type: 'git', location: 'https://git.yourcompany.com/extensions.git', branch: 'production' } } },
 *   { sources: [gitSource()] },
 * );
 * ```
 */
export function gitSource(options: GitSourceOptions = {}): SourceAdapter {
  const problems = optionProblems(options as Record<string, unknown>);
  if (problems.length > 0) {
    const [first] = problems;
    throw new RegistryError('E_CONFIG', `gitSource(): option \`${first!.field}\` ${first!.message}.`, { details: { field: first!.field } });
  }
  const defaults = { ...options };
  return defineSource({
    type: 'git',
    options: GIT_SOURCE_OPTION_ROLES,
    validate: (config) => validateGitConfig(config, defaults),
    create: (config, ctx) => createGitRegistrySource(config, ctx, defaults),
  });
}

/** The settings of one registry, after defaults. */
interface Settings {
  engine: GitEngineChoice;
  sparse: boolean;
  branch: string | undefined;
}

function createGitRegistrySource(config: SourceConfig, ctx: SourceCreateContext, defaults: GitSourceOptions): RegistrySource {
  let location: GitLocation;
  try {
    location = parseGitLocation(config.location, ctx.baseDir, ctx.env.HOME || homedir());
  } catch (error) {
    if (!(error instanceof GitLocationError)) throw error;
    throw new RegistryError('E_CONFIG', `Registry '${ctx.registry}': \`location\` ${error.message}.`, {
      registry: ctx.registry,
      details: { field: 'location' },
    });
  }
  const pick = <K extends keyof GitSourceOptions>(key: K): GitSourceOptions[K] => (config[key] as GitSourceOptions[K]) ?? defaults[key];
  const token = typeof config.token === 'string' && config.token !== '' ? config.token : undefined;
  let authorization: string | undefined;
  let scheme: GitAuthScheme | undefined;
  if (token !== undefined && location.transport === 'http') {
    scheme = pick('authScheme') ?? 'basic';
    authorization = authorizationValue(token, scheme, pick('username') ?? location.username ?? defaultUsername(location.origin));
    if (location.remote.startsWith('http:') && !isLoopbackHost(new URL(location.origin!).hostname)) {
      ctx.logger.warn(
        `Registry '${ctx.registry}' sends its token over plain http to ${location.origin}: anyone on the network path can read it. Use an https:// location.`,
      );
    }
  } else if (token !== undefined) {
    ctx.logger.warn(
      `Registry '${ctx.registry}': \`token\` is only sent over http(s); this ${location.transport === 'file' ? 'local repository' : `${location.transport} location`} does not use it${location.transport === 'ssh' ? ' (ssh authenticates with your SSH agent and keys)' : ''}.`,
    );
  }
  const remote: GitRemote = {
    location,
    env: ctx.env,
    ...(authorization === undefined ? {} : { authorization }),
    context: {
      registry: ctx.registry,
      display: location.display,
      transport: location.transport,
      hasToken: authorization !== undefined,
      ...(authorization !== undefined && scheme !== undefined ? { authScheme: scheme } : {}),
      engine: 'native',
      ...(ctx.allowHosts ? { allowHosts: true } : {}),
    },
    transport: gitTransport(config, defaults, { registry: ctx.registry, baseDir: ctx.baseDir, allowHosts: ctx.allowHosts }),
    ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
  };
  const branch = typeof config.branch === 'string' && config.branch !== '' ? config.branch : undefined;
  return new GitRegistrySource(remote, { engine: pick('engine') ?? 'auto', sparse: pick('sparse') ?? true, branch });
}

/** One configured git registry; its mirrors live in core's work folder for it. */
class GitRegistrySource implements RegistrySource {
  readonly displayLocation: string;
  private engine: Promise<GitEngine> | undefined;
  private chosen: GitEngine | undefined;

  constructor(
    private readonly remote: GitRemote,
    private readonly settings: Settings,
  ) {
    this.displayLocation = remote.location.display;
  }

  async revision(ctx: SourceCallContext): Promise<SourceRevision> {
    throwIfAborted(ctx.signal, 'checking the revision', ctx.registry);
    const { branch } = this.settings;
    // A pinned commit is its own revision: nothing to ask the server.
    if (branch !== undefined && FULL_SHA.test(branch.toLowerCase())) return { id: branch.toLowerCase() };
    const engine = await this.select(ctx);
    const refs = await engine.listRefs(ctx);
    const resolved = resolveRef(refs, branch, { registry: ctx.registry, display: this.displayLocation });
    return { id: resolved.sha, validators: { ref: resolved.ref } };
  }

  async readIndex(revision: SourceRevision, ctx: SourceCallContext): Promise<Uint8Array> {
    throwIfAborted(ctx.signal, `reading ${INDEX_FILE}`, ctx.registry);
    const commit = this.commitOf(revision, ctx.registry);
    const engine = await this.select(ctx);
    const bytes = await engine.readFile(commit, INDEX_FILE, ctx);
    if (bytes === undefined) {
      throw new RegistryError(
        'E_NOT_FOUND',
        `The repository of registry '${ctx.registry}' (${this.displayLocation}) has no ${INDEX_FILE} at ${describeCommit(commit)}. \`location\` must be the repository whose root holds ${INDEX_FILE} and registry/; check \`branch\` too.`,
        { registry: ctx.registry, details: { revision: commit.sha, ref: commit.ref } },
      );
    }
    return bytes;
  }

  async materialize(request: MaterializeRequest, ctx: SourceCallContext): Promise<void> {
    throwIfAborted(ctx.signal, `fetching entry '${request.path}'`, ctx.registry);
    const path = normalizeRelativePath(request.path, { registry: ctx.registry, field: 'path' });
    const commit = this.commitOf(request.revision, ctx.registry);
    const engine = await this.select(ctx);
    await engine.materialize(commit, path, request.destination, ctx);
  }

  async close(): Promise<void> {
    const engine = this.chosen;
    this.engine = undefined;
    this.chosen = undefined;
    await engine?.close();
  }

  private commitOf(revision: SourceRevision, registry: string): ResolvedRef {
    const sha = revision.id.toLowerCase();
    if (!FULL_SHA.test(sha)) {
      throw new RegistryError(
        'E_INTERNAL',
        `Registry '${registry}': revision '${revision.id}' is not a commit sha; clear the cache of this registry and try again.`,
        { registry },
      );
    }
    return { sha, ref: revision.validators?.ref ?? sha };
  }

  /** The engine, chosen on first use (detecting git is asynchronous, `create` is not). */
  private select(ctx: SourceCallContext): Promise<GitEngine> {
    this.engine ??= this.choose(ctx).then(
      (engine) => {
        this.chosen = engine;
        return engine;
      },
      (error: unknown) => {
        this.engine = undefined;
        throw error;
      },
    );
    return this.engine;
  }

  private async choose(ctx: SourceCallContext): Promise<GitEngine> {
    const { engine } = this.settings;
    const { engine: chosen, version, found } = await chooseGitEngine(engine, this.remote.location.transport);
    if (chosen === 'native') return this.native(version!, ctx);
    if (chosen === undefined) {
      const why = engine === 'native' ? "because `engine` is 'native'" : `to reach ${this.displayLocation}`;
      const instead = engine === 'native' ? "or set `engine: 'isomorphic'`" : "or use an https:// location with `engine: 'isomorphic'`";
      throw new RegistryError('E_UNSUPPORTED', `Registry '${ctx.registry}' needs git 2.25 or newer on PATH ${why} (${found}). Install git, ${instead}.`, {
        registry: ctx.registry,
      });
    }
    if (found) ctx.logger.debug(`Registry '${ctx.registry}' uses the isomorphic git engine (${found}).`);
    return await this.isomorphic();
  }

  /** Loaded on demand: isomorphic-git is a large module that hosts with a git binary never need. */
  private async isomorphic(): Promise<GitEngine> {
    const { IsomorphicEngine } = await import('./isomorphic/isomorphic-engine.js');
    return new IsomorphicEngine({ ...this.remote, context: { ...this.remote.context, engine: 'isomorphic' } });
  }

  private async native(version: { major: number; minor: number }, ctx: SourceCallContext): Promise<GitEngine> {
    const { location, authorization, transport } = this.remote;
    let sshCommand: string | undefined;
    if (location.transport === 'ssh') sshCommand = await batchModeSshCommand(version, ctx.signal);
    if (transport.notForNative.length > 0 && location.transport !== 'file') {
      // Said once, when the engine is chosen: an option that silently did nothing would be worse than none.
      const names = transport.notForNative.map((name) => `\`${name}\``).join(', ');
      const ca = transport.notForNative.includes('ca') ? 'For a private CA, set http.sslCAInfo in your git config or GIT_SSL_CAINFO. ' : '';
      ctx.logger.warn(
        `Registry '${ctx.registry}': the native git engine does not apply ${names} (the deadlines timeouts.index and timeouts.entry still end every transfer). ${ca}To have them applied, use \`engine: 'isomorphic'\`.`,
      );
    }
    const runner = new GitRunner({
      version,
      // The remote `origin` of the mirror lives in per-command config, never in its .git/config; partial-clone
      // lazy fetches (child processes of git) inherit it with the token's header and the transport settings.
      config: [
        ['remote.origin.url', location.remote],
        ...transport.nativeConfig,
        ...(authorization === undefined ? [] : tokenConfig(location.remote, authorization)),
      ],
      ...(sshCommand === undefined ? {} : { sshCommand }),
    });
    return new NativeEngine(this.remote, runner, this.settings.sparse);
  }
}

/**
 * The ssh command for git, with `BatchMode=yes` so ssh fails instead of asking for a passphrase or a host-key
 * confirmation on a terminal. Built on the user's `core.sshCommand` when there is one; a `GIT_SSH_COMMAND` or
 * `GIT_SSH` in the environment is left alone (the environment builder keeps it).
 */
async function batchModeSshCommand(version: { major: number; minor: number }, signal: AbortSignal): Promise<string> {
  let configured = 'ssh';
  try {
    const out = await new GitRunner({ version, config: [] }).text({ args: ['config', '--get', 'core.sshCommand'], signal });
    if (out.trim() !== '') configured = out.trim();
  } catch {
    // Not set: plain ssh.
  }
  return `${configured} -o BatchMode=yes`;
}
