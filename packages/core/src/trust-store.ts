/**
 * The highest signed index version core has accepted, per registry: what makes a replayed older index (rollback) or
 * another index under the same version refusable after a restart.
 *
 * Kept in memory, and in one small JSON file per registry under a trust folder: `<cache directory>/trust/` when the
 * cache is on — beside `v1/`, not in it, so `cache clean` and `cache prune` never reset it — and the install area's
 * `trust/` (`dependencies.directory`, default `<hostDir>/node_modules/.agentos-registry/trust/`) when it is off.
 * `trustDirectory` overrides both. A file that cannot be written is a warning, not a failure: the check still holds
 * for this process.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RegistryError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { VerifiedIndex } from './signing.js';

interface TrustRecord {
  v: 1;
  registry: string;
  version: number;
  digest: string;
  acceptedAt: number;
}

/** Where the trust folder is for a runtime (see the file comment). */
export function trustDirectory(rt: Runtime): string {
  const { options, config } = rt;
  const base = options.baseDir ?? process.cwd();
  if (options.trustDirectory) return resolve(base, options.trustDirectory);
  if (config.cache.enabled) return join(config.cache.directory, 'trust');
  const installArea = options.dependencies?.directory
    ? resolve(base, options.dependencies.directory)
    : join(resolve(options.dependencies?.hostDir ?? base), 'node_modules', '.agentos-registry');
  return join(installArea, 'trust');
}

export class TrustStore {
  private readonly memory = new Map<string, TrustRecord>();
  private readonly read = new Set<string>();

  constructor(
    private readonly rt: Runtime,
    private readonly dir: string,
  ) {}

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** The highest accepted version of a registry (by its cache key), from memory or its file. */
  async highest(key: string): Promise<TrustRecord | undefined> {
    if (!this.read.has(key)) {
      this.read.add(key);
      const text = await readFile(this.file(key), 'utf8').catch(() => undefined);
      if (text !== undefined) {
        try {
          const record = JSON.parse(text) as TrustRecord;
          const held = this.memory.get(key);
          if (Number.isSafeInteger(record.version) && typeof record.digest === 'string' && (!held || record.version > held.version))
            this.memory.set(key, record);
        } catch {
          this.rt.logger.warn(
            `The trust record ${this.file(key)} is damaged; the highest signed version seen before is unknown until an index is accepted again.`,
          );
        }
      }
    }
    return this.memory.get(key);
  }

  /** Throws `E_SIGNATURE` when `verified` is older than, or differs at the same version from, what was accepted. */
  async check(key: string, registry: string, verified: VerifiedIndex): Promise<void> {
    const highest = await this.highest(key);
    if (!highest) return;
    if (verified.version < highest.version) {
      throw new RegistryError(
        'E_SIGNATURE',
        `Registry "${registry}" served a signed index of version ${verified.version}, older than version ${highest.version} accepted before: a replayed old index (rollback) is refused. The registry must serve its current index.`,
        { registry, details: { version: verified.version, highest: highest.version } },
      );
    }
    if (verified.version === highest.version && verified.digest !== highest.digest) {
      throw new RegistryError(
        'E_SIGNATURE',
        `Registry "${registry}" served a signed index of version ${verified.version} whose content differs from the version ${highest.version} accepted before; each signing must bump the version ("agentos-registry sign" does). Refused.`,
        { registry, details: { version: verified.version } },
      );
    }
  }

  /** Records `verified` as the highest accepted version (after `check`). */
  async accept(key: string, registry: string, verified: VerifiedIndex): Promise<void> {
    const highest = await this.highest(key);
    if (highest && highest.version >= verified.version) return;
    const record: TrustRecord = { v: 1, registry, version: verified.version, digest: verified.digest, acceptedAt: this.rt.now() };
    this.memory.set(key, record);
    try {
      await mkdir(this.dir, { recursive: true });
      const temp = join(this.dir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
      await writeFile(temp, JSON.stringify(record), { flag: 'wx' });
      await rename(temp, this.file(key));
    } catch (error) {
      this.rt.warn({
        code: 'W_TRUST_STATE',
        message: `The highest signed version of registry "${registry}" could not be saved in ${this.dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}); rollback protection holds for this process only. Set trustDirectory to a folder this process can write.`,
        registry,
      });
    }
  }
}
