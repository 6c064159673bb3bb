/**
 * Freshness of registry indexes, the page's caching semantics:
 * - within `cacheDuration` an index is served with zero calls to its source;
 * - after it, the source is asked for its revision (conditionally where it can); unchanged → the cached index is
 *   reused and its clock restarts, with no download; changed → the new index is downloaded and stored;
 * - when the source cannot answer (unreachable, rate-limited) a cached index younger than `maxAge` is served with
 *   `stale: true` and a warning; otherwise `E_UNREACHABLE` with a hint;
 * - `offline` never asks a source, `preferOffline` takes any cached copy, `refresh` ignores `cacheDuration`.
 */
import type { RevisionAnswer, SourceRevision } from './contract.js';
import { RegistryError } from './errors.js';
import { parseRegistryIndex } from './index-format.js';
import type { IndexRecord } from './cache-store.js';
import type { ConfiguredRegistry, Runtime } from './runtime.js';
import { type VerifiedIndex, verifyIndex } from './signing.js';
import { abortError, isTransient, toRegistryError } from './source-errors.js';
import { TrustStore, trustDirectory } from './trust-store.js';
import type { RegistryIndex } from './types.js';

/** The sentence a transport error ends with when it cannot know the cache ("Copies already cached stay usable offline."). */
const CACHED_COPIES_PROMISE = /[.;]\s*copies already cached stay usable(?: offline)?\./i;

/** Default `cacheDuration` of sources with `flags.local`. */
export const LOCAL_CACHE_DURATION = 1000;

export interface IndexState {
  revision: SourceRevision;
  index: RegistryIndex;
  /** When the source last confirmed this revision. */
  checkedAt: number;
  fetchedAt: number;
  record: IndexRecord | undefined;
  /** Set for registries with `publicKeys`: the checked signature (version, expiry, h1 of every entry). */
  signed?: VerifiedIndex;
}

/** An index as served to one call: the state plus how it was obtained. */
export interface ServedIndex {
  state: IndexState;
  /** No download happened for this call. */
  fromCache: boolean;
  /** Served because the source could not answer. */
  stale: boolean;
}

export class IndexService {
  private readonly states = new Map<string, IndexState>();
  private readonly diskChecked = new Set<string>();
  /** Registries already revalidated because of the `refresh` option. */
  private readonly refreshed = new Set<string>();

  private readonly trust: TrustStore;

  constructor(private readonly rt: Runtime) {
    this.trust = new TrustStore(rt, trustDirectory(rt));
  }

  /**
   * Signature checks of an index about to be used or stored, for registries with `publicKeys`: signatures and
   * threshold, identity, every entry covered (`verifyIndex`), then rollback and same-version-other-bytes against the
   * highest version accepted (`TrustStore`). Expiry is checked each time an index is served (`checkExpiry`).
   */
  private async verify(reg: ConfiguredRegistry, bytes: Uint8Array | string, index: RegistryIndex, fetched: boolean): Promise<VerifiedIndex | undefined> {
    const trust = reg.settings.trust;
    if (!trust) return undefined;
    const verified = verifyIndex(bytes, index, trust, reg.name);
    await this.trust.check(reg.key, reg.name, verified);
    // A freshly fetched index that has already expired is not stored (a copy read back from the cache is judged
    // when it is served, so offline mode can say why it refuses it).
    if (fetched && !this.rt.options.allowExpired) this.checkExpiry(reg, { state: { signed: verified } as IndexState, fromCache: false, stale: false });
    return verified;
  }

  /** An index past its signed `expires` is refused (a frozen index replayed for ever), unless the host allows it. */
  private checkExpiry(reg: ConfiguredRegistry, served: ServedIndex): ServedIndex {
    const signed = served.state.signed;
    if (!signed || this.rt.now() <= signed.expires) return served;
    const when = new Date(signed.expires).toISOString();
    if (this.rt.options.allowExpired) {
      this.rt.warn({
        code: 'W_EXPIRED',
        message: `The signed index of registry "${reg.name}" expired at ${when}; used because allowExpired is set.`,
        registry: reg.name,
      });
      return served;
    }
    throw new RegistryError(
      'E_SIGNATURE',
      `The signed index of registry "${reg.name}" (version ${signed.version}) expired at ${when}: an index that is no longer re-signed may be a frozen copy replayed to hide updates. The registry owner must sign it again ("agentos-registry sign"); an air-gapped host can set allowExpired.`,
      { registry: reg.name, details: { expires: when, version: signed.version } },
    );
  }

  private expired(state: IndexState): boolean {
    return state.signed !== undefined && this.rt.now() > state.signed.expires && !this.rt.options.allowExpired;
  }

  /**
   * Local folders revalidate after one second by default instead of an hour: their revision is a walk of the local
   * disk, so edits show almost at once, while a burst of loads still walks the folder only once.
   */
  private cacheDuration(reg: ConfiguredRegistry): number {
    if (reg.settings.config.cacheDuration === undefined && reg.source.flags?.local) return LOCAL_CACHE_DURATION;
    return reg.settings.cacheDuration;
  }

  /** The state held in memory, or read from the disk cache once per process. */
  private async held(reg: ConfiguredRegistry): Promise<IndexState | undefined> {
    const inMemory = this.states.get(reg.name);
    if (inMemory || !this.rt.store || this.diskChecked.has(reg.name)) return inMemory;
    this.diskChecked.add(reg.name);
    const got = await this.rt.store.readIndex(reg.key);
    if (!got) return undefined;
    if ('damaged' in got) {
      this.rt.logger.warn(`The cached index of registry "${reg.name}" was damaged; it was discarded and will be fetched again.`);
      return undefined;
    }
    try {
      // These bytes passed the schema before they were stored, and their hash was just checked: only the schema step
      // is skipped (it is most of a warm start's cost: zod is not even loaded), paths and ids are checked again.
      const index = parseRegistryIndex(got.bytes, { registry: reg.name, schemaChecked: true });
      // Checked again on every read: the keys may have been rotated, and an older copy than the highest version
      // accepted (another process moved on) is not served.
      const signed = await this.verify(reg, got.bytes, index, false);
      const state: IndexState = {
        revision: got.record.revision,
        index,
        checkedAt: got.record.checkedAt,
        fetchedAt: got.record.fetchedAt,
        record: got.record,
        ...(signed ? { signed } : {}),
      };
      this.states.set(reg.name, state);
      return state;
    } catch (error) {
      if (reg.settings.trust)
        this.rt.logger.warn(`The cached index of registry "${reg.name}" failed its signature checks (${(error as Error).message}); it is not used.`);
      return undefined;
    }
  }

  /**
   * The index to serve. `locked` is a revision a lockfile pinned: a cached copy at exactly that revision is served
   * whatever its age, with no call to the source (what it holds is what the lockfile was written from).
   */
  /**
   * The index a lockfile was written from, out of the store (`indexHash`: sha512 hex of its bytes), with no call to the
   * source, when the store still holds it — also after the registry's cached index moved to another revision.
   * Checked like a cached index (signatures, for registries with `publicKeys`); `undefined` when absent or refused.
   */
  async lockedIndex(reg: ConfiguredRegistry, revision: string, indexHash: string): Promise<ServedIndex | undefined> {
    const store = this.rt.store;
    if (!store) return undefined;
    const bytes = await store.readIndexBlob(indexHash);
    if (!bytes) return undefined;
    try {
      const index = parseRegistryIndex(bytes, { registry: reg.name });
      const signed = await this.verify(reg, bytes, index, false);
      const now = this.rt.now();
      const state: IndexState = { revision: { id: revision }, index, checkedAt: now, fetchedAt: now, record: undefined, ...(signed ? { signed } : {}) };
      this.rt.logger.debug(`cache: index of "${reg.name}": the index the lockfile pins (revision ${revision}) is in the cache: no call to the source`, {
        registry: reg.name,
      });
      return this.checkExpiry(reg, { state, fromCache: true, stale: false });
    } catch {
      return undefined;
    }
  }

  async get(reg: ConfiguredRegistry, signal: AbortSignal | undefined, refreshNow = false, locked?: string): Promise<ServedIndex> {
    return this.checkExpiry(reg, await this.serve(reg, signal, refreshNow, locked));
  }

  private async serve(reg: ConfiguredRegistry, signal: AbortSignal | undefined, refreshNow: boolean, locked: string | undefined): Promise<ServedIndex> {
    if (signal?.aborted) throw abortError(signal, 'Reading the index', reg.name);
    const { options } = this.rt;
    const held = await this.held(reg);
    // A local folder is not the network: offline mode still reads it, so air-gapped hosts work with offline on.
    const offline = options.offline && !reg.source.flags?.local;
    const log = (message: string) => this.rt.logger.debug(`cache: index of "${reg.name}": ${message}`, { registry: reg.name });
    if (offline) {
      if (held) {
        log('offline: the cached copy is used');
        return { state: held, fromCache: true, stale: false };
      }
      throw new RegistryError(
        'E_NOT_CACHED',
        `Registry "${reg.name}" has no cached index, and offline mode forbids asking its source. Run once without --offline to fill the cache.`,
        { registry: reg.name },
      );
    }
    if (held && options.preferOffline) {
      log('preferOffline: the cached copy is used whatever its age');
      return { state: held, fromCache: true, stale: false };
    }
    // `refresh` revalidates each registry once for this registry object, not on every call made with it.
    const refresh = refreshNow || (options.refresh === true && !this.refreshed.has(reg.name));
    // An expired signed index is asked for again however fresh: the registry may have re-signed it.
    if (held && !refresh && locked !== undefined && held.revision.id === locked && !this.expired(held)) {
      log('the cached copy is at the revision the lockfile pins: no call to the source');
      return { state: held, fromCache: true, stale: false };
    }
    if (held && !refresh && !this.expired(held) && this.rt.now() - held.checkedAt < this.cacheDuration(reg)) {
      log(`fresh (checked ${this.rt.now() - held.checkedAt} ms ago, cacheDuration ${this.cacheDuration(reg)} ms): no call to the source`);
      return { state: held, fromCache: true, stale: false };
    }
    log(
      held
        ? refresh
          ? 'refresh asked: revalidating with the source'
          : 'past cacheDuration: revalidating with the source'
        : 'nothing cached: asking the source',
    );
    return this.rt.once(`index\0${reg.name}`, async () => {
      const served = await this.revalidate(reg, held, signal);
      this.refreshed.add(reg.name);
      return served;
    });
  }

  /**
   * Asks the source now, ignoring `cacheDuration` and `preferOffline` (a user asking for an update means it), and never
   * serves a stale copy in place of an answer: a failure is thrown. Answers the revision held before, if any.
   */
  async update(reg: ConfiguredRegistry, signal: AbortSignal | undefined): Promise<{ previous: string | undefined; served: ServedIndex }> {
    if (signal?.aborted) throw abortError(signal, 'Updating the index', reg.name);
    const held = await this.held(reg);
    if (this.rt.options.offline && !reg.source.flags?.local) {
      throw new RegistryError('E_USAGE', `Registry "${reg.name}" cannot be updated in offline mode, which forbids asking its source.`, { registry: reg.name });
    }
    this.rt.logger.debug(`cache: index of "${reg.name}": update asked: revalidating with the source`, { registry: reg.name });
    const previous = held?.revision.id;
    const served = await this.rt.once(`index\0${reg.name}`, () => this.revalidate(reg, held, signal, false));
    this.refreshed.add(reg.name);
    return { previous, served: this.checkExpiry(reg, served) };
  }

  private async revalidate(reg: ConfiguredRegistry, held: IndexState | undefined, signal: AbortSignal | undefined, serveStale = true): Promise<ServedIndex> {
    try {
      const ctx = await this.rt.callContext(reg, signal, held?.revision);
      let answer = await this.rt.checking(reg.name, () => reg.source.revision(ctx));
      const log = (message: string) => this.rt.logger.debug(`cache: index of "${reg.name}": ${message}`, { registry: reg.name });
      if (answer === 'unchanged') {
        if (held) {
          log('the source says unchanged: the cached index is kept');
          return { state: await this.restartClock(held), fromCache: true, stale: false };
        }
        answer = await reg.source.revision({ ...ctx, previous: undefined } as typeof ctx);
        if (answer === 'unchanged') {
          throw new RegistryError('E_CONTRACT', `The source of "${reg.name}" answered "unchanged" with no previous revision.`, { registry: reg.name });
        }
      }
      checkRevisionAnswer(answer, reg.name);
      // The index bytes a revision() answer carries are core's to keep, never part of the revision stored.
      const { index: given, ...revision } = answer;
      if (held && held.revision.id === revision.id) {
        log(`same revision ${revision.id}: the cached index is kept`);
        held.revision = revision;
        return { state: await this.restartClock(held), fromCache: true, stale: false };
      }
      log(`new revision ${revision.id}: downloading the index`);
      const bytes = given ?? (await this.rt.reader(reg).readIndex(revision, ctx));
      const index = parseRegistryIndex(bytes, { registry: reg.name });
      // Before anything is stored: an index that fails its signature checks leaves the cache as it was.
      const signed = await this.verify(reg, bytes, index, true);
      const now = this.rt.now();
      const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      const record = this.rt.store
        ? await this.rt.store.writeIndex(
            { registry: reg.name, key: reg.key, sourceType: reg.sourceType, location: reg.source.displayLocation, revision, checkedAt: now, fetchedAt: now },
            data,
          )
        : undefined;
      if (signed) await this.trust.accept(reg.key, reg.name, signed);
      const state: IndexState = { revision, index, checkedAt: now, fetchedAt: now, record, ...(signed ? { signed } : {}) };
      this.states.set(reg.name, state);
      return { state, fromCache: false, stale: false };
    } catch (thrown) {
      const error = toRegistryError(thrown, reg.name, 'reading the index');
      if (!isTransient(error)) throw error;
      const age = held ? this.rt.now() - held.checkedAt : Number.POSITIVE_INFINITY;
      if (held && age < this.rt.config.cache.maxAge && serveStale) {
        this.rt.warn({
          code: 'W_STALE',
          message: `Registry "${reg.name}" could not be checked (${error.code}: ${error.message}); serving its cached index from ${Math.round(age / 1000)} s ago.`,
          registry: reg.name,
        });
        return { state: held, fromCache: true, stale: true };
      }
      // The transport's message may promise that cached copies stay usable; here the cache is known, so that promise
      // gives way to what is true, and "check the network" is said once.
      const said = error.message.replace(CACHED_COPIES_PROMISE, '.').trim();
      const minutes = Math.round(age / 60000);
      const why = !held
        ? 'Nothing of it is cached yet, so there is no copy to fall back on.'
        : age < this.rt.config.cache.maxAge
          ? `Its cached index (checked ${minutes} min ago) stays in use until it is older than cacheSettings.maxAge.`
          : `Its cached index is ${minutes} min old, past cacheSettings.maxAge: run with --prefer-offline (or offline mode) to use it anyway.`;
      const check = /check the network/i.test(said) ? '' : ' Check the network and any token.';
      throw new RegistryError(error.code, `${said} ${why}${check}`, { registry: reg.name, cause: error });
    }
  }

  private async restartClock(held: IndexState): Promise<IndexState> {
    held.checkedAt = this.rt.now();
    if (this.rt.store && held.record) {
      held.record = { ...held.record, revision: held.revision, checkedAt: held.checkedAt };
      await this.rt.store.touchIndex(held.record);
    }
    return held;
  }
}

/** A revision() answer core can keep: a non-empty string id, string validators, index bytes or text if any. */
function checkRevisionAnswer(answer: unknown, registry: string): asserts answer is RevisionAnswer {
  const a = answer as Partial<RevisionAnswer> | null;
  const problem =
    typeof a !== 'object' || a === null
      ? 'is not an object'
      : typeof a.id !== 'string' || a.id === ''
        ? 'has no non-empty string `id`'
        : a.validators !== undefined &&
            (typeof a.validators !== 'object' || a.validators === null || Object.values(a.validators).some((v) => typeof v !== 'string'))
          ? 'has `validators` that are not strings'
          : a.index !== undefined && typeof a.index !== 'string' && !(a.index instanceof Uint8Array)
            ? 'has an `index` that is neither bytes nor text'
            : undefined;
  if (problem) {
    throw new RegistryError(
      'E_SOURCE_CONTRACT',
      `The source of registry "${registry}" answered revision() with a value that ${problem}; a revision is { id, validators?, index? }. Report it to the adapter's author.`,
      {
        registry,
      },
    );
  }
}
