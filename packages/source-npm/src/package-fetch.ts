/**
 * Resolving a package spec to one published version and downloading that version's tarball, through pacote, which
 * checks the tarball against the integrity the registry published (and its cache against the same hash); core's
 * guarded extractor writes it, so what lands on disk is byte for byte what was published and stays inside.
 */
import { readdir } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { extractTarball, RegistryError, removeInside, type TransferPurpose, throwIfAborted } from '@agentos-registry/core';
import { withinDeadline } from './deadline.js';
import { abortedError, deadlineError, type NpmErrorContext, toNpmError } from './npm-errors.js';
import { type PacoteOptions, pacote } from './pacote.js';
import { fetchPackument, packumentCacheOf } from './packument.js';

/** One published version of a package, as the registry describes it. */
export interface ResolvedPackage {
  name: string;
  version: string;
  /** npm's SRI of the tarball. */
  integrity: string;
  /** Tarball URL (credentials stripped). */
  resolved: string;
}

/** Error context minus what the helper fills in itself, plus the total deadlines of a resolve and of a download. */
export type FetchContext = Omit<NpmErrorContext, 'action'> & {
  /** How long one resolve (`index`, `timeouts.index`) or one download (`entry`, `timeouts.entry`) may take, retries included (ms). */
  deadlines: Record<TransferPurpose, number>;
};

/** What each call is, in messages, and which deadline bounds it. */
const ACTIONS = { index: 'Resolving', entry: 'Downloading' } as const satisfies Record<TransferPurpose, string>;

/** How long a stopped download may take to stop writing (ms). */
const DOWNLOAD_SETTLE_MS = 2000;

/** Runs one pacote call within `timeouts.<purpose>`, core's signal still winning; every failure a RegistryError. */
export async function npmCall<T>(context: FetchContext, purpose: TransferPurpose, selector: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { deadlines, ...rest } = context;
  const errorContext: NpmErrorContext = { ...rest, selector, action: ACTIONS[purpose] };
  const ms = deadlines[purpose];
  try {
    return await withinDeadline(
      {
        ms,
        signal: context.signal,
        // A download that stops writes into a folder the caller then removes: let pacote stop first.
        settleMs: purpose === 'entry' ? DOWNLOAD_SETTLE_MS : 0,
        timedOut: () => deadlineError(errorContext, ms, `timeouts.${purpose}`),
        aborted: () => abortedError(errorContext),
      },
      work,
    );
  } catch (error) {
    throw toNpmError(error, errorContext);
  }
}

/**
 * Asks the registry which version `name@selector` is now. `preferOnline` revalidates the cached packument (a
 * conditional request) instead of trusting it, which is what a moving dist-tag or range needs; it also refuses a
 * cached copy npm falls back on when the registry cannot be reached (see packument.ts), while an exact version,
 * which never changes, takes one.
 */
export async function resolvePackage(options: PacoteOptions, context: FetchContext, preferOnline: boolean): Promise<ResolvedPackage> {
  throwIfAborted(context.signal, `${ACTIONS.index} ${context.name}@${context.selector}`, context.registry);
  const manifest = await npmCall(context, 'index', context.selector, async (signal) => {
    const errorContext = { ...context, action: ACTIONS.index };
    const packument = await fetchPackument({ name: context.name, options, preferOnline, acceptStale: !preferOnline, signal }, errorContext);
    return pacote().manifest(`${context.name}@${context.selector}`, { ...options, preferOnline, signal, packumentCache: packumentCacheOf(packument) });
  });
  const integrity = manifest._integrity;
  if (!integrity) {
    throw new RegistryError(
      'E_INTEGRITY',
      `${context.name}@${manifest.version} on ${context.registryUrl} has no integrity (dist.integrity or dist.shasum), so its tarball cannot be verified (registry '${context.registry}'). Republish it with a current npm.`,
      { registry: context.registry, details: { package: context.name, version: manifest.version } },
    );
  }
  const resolved = manifest._resolved ?? '';
  if (resolved !== '' && !isHttpUrl(resolved)) {
    // A packument whose dist.tarball is file:, git+ssh: or the like: pacote would fail on it deep inside (a TypeError,
    // E_INTERNAL) or, for a folder, read this machine. The registry's fault; the URL is not shown (it names a path here).
    const scheme = /^([a-z][a-z0-9+.-]{0,15}):/i.exec(resolved)?.[1]?.toLowerCase() ?? 'unknown';
    throw new RegistryError(
      'E_POLICY',
      `${context.name}@${manifest.version} on ${context.registryUrl} names its tarball with a ${scheme}: URL, not an http(s) one (registry '${context.registry}'); only tarballs the registry serves are downloaded. Report it to the registry's owner.`,
      { registry: context.registry, details: { package: context.name, version: manifest.version, scheme } },
    );
  }
  return { name: manifest.name, version: manifest.version, integrity, resolved: withoutCredentials(resolved) };
}

/**
 * The tarball of `pkg` as a stream, for core to extract: fetched from its resolved URL with the published integrity
 * (pacote checks it, and its cache against the same hash; core checks it again as it extracts), within
 * `timeouts.entry`. A failure of the download ends the stream with the RegistryError saying why; a reader that stops
 * early stops the download.
 */
export function tarballStream(pkg: ResolvedPackage, options: PacoteOptions, context: FetchContext): Readable {
  const out = new PassThrough();
  const spec = isHttpUrl(pkg.resolved) ? pkg.resolved : `${pkg.name}@${pkg.version}`;
  const done = npmCall(context, 'entry', pkg.version, (signal) =>
    pacote().tarball.stream(
      spec,
      (stream) =>
        new Promise<void>((resolve, reject) => {
          const source = stream as Readable;
          // Not pipeline(): that would end `out` with pacote's raw error; `done` ends it with the RegistryError.
          source.on('error', reject);
          source.on('end', resolve);
          out.on('close', () => {
            if (!source.readableEnded) source.destroy();
            resolve();
          });
          source.pipe(out);
        }),
      { ...options, integrity: pkg.integrity, signal },
    ),
  );
  done.catch((error: unknown) => out.destroy(error as Error));
  return out;
}

/**
 * Writes the package's files into a folder the caller owns, which must be empty or absent: the tarball goes through
 * core's guarded extractor, like every other archive, once pacote has checked all of it against the published
 * integrity, with the package's top folder (`package/`) dropped.
 */
export async function extractInto(pkg: ResolvedPackage, destination: string, options: PacoteOptions, context: FetchContext): Promise<void> {
  throwIfAborted(context.signal, `${ACTIONS.entry} ${context.name}@${context.selector}`, context.registry);
  const present = await readdir(destination).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (present.length > 0) {
    throw new RegistryError('E_INTERNAL', `Refusing to extract ${pkg.name}@${pkg.version} into ${destination}: the folder is not empty.`, {
      registry: context.registry,
      details: { destination },
    });
  }
  // Read whole: pacote answers only once every byte matched the published integrity (limits.entry bounds the size),
  // and only then does core's guarded extractor write the files.
  const spec = isHttpUrl(pkg.resolved) ? pkg.resolved : `${pkg.name}@${pkg.version}`;
  const bytes = await npmCall(context, 'entry', pkg.version, (signal) => pacote().tarball(spec, { ...options, integrity: pkg.integrity, signal }));
  try {
    await extractTarball(bytes, destination, { strip: 1, signal: context.signal, registry: context.registry });
  } catch (error) {
    // A refused archive (a link out, a bomb, an abort) leaves nothing behind: the folder was empty or absent before.
    for (const name of await readdir(destination).catch(() => [] as string[])) await removeInside(destination, name).catch(() => {});
    throw error;
  }
}

/**
 * Only http(s) tarball URLs are fetched as such: a registry (or a tampered cache record) that named a `file:` or git
 * URL would otherwise make pacote read from this machine or run git. Anything else is fetched by name and version.
 */
function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** The URL without user info, for provenance and logs. */
export function withoutCredentials(url: string): string {
  if (!isHttpUrl(url)) return url;
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}
