/**
 * Signed registry indexes (issue 14): Ed25519 through Node's own `crypto`, no dependency.
 *
 * The signature travels *inside* `registry.json`, as two top-level fields that older readers ignore:
 *
 *   "signed":     { "name": "acme", "version": 7, "expires": "2026-12-31T00:00:00.000Z",
 *                   "entries": { "registry/curated/tool": "h1:…" } }
 *   "signatures": [ { "keyid": "3f9c…", "sig": "<base64 Ed25519 signature>" } ]
 *
 * What is signed is every byte of meaning of the index except `signatures`: the message is
 * `agentos-registry signed index v1\n` followed by the document without `signatures` in canonical JSON (RFC 8785
 * style: keys sorted by UTF-16 code units, no whitespace, numbers and strings as JSON.stringify writes them). So the
 * entries, their paths, `dist` integrities and the `signed` block (registry identity, monotonic version, expiry and
 * the h1 hash of every entry folder) are all covered, and a tool that re-indents the file does not break it.
 *
 * Why inside the index rather than a detached `registry.json.sig`: the source contract (`RegistrySource`) reads
 * exactly one file, `registry.json`, and has no way to fetch a sibling (a `url` source can only fetch the tarballs its
 * index names), so a detached file would need a contract change in every source. Inside, the signature reaches core
 * through `readIndex` for every source, ours and third parties', unchanged; and the index and its signature cannot
 * be out of step (a CDN or mirror serving a new `registry.json` with an old `.sig`), because they are one file with
 * one revision. The price is canonical JSON, which is a few lines here and the same idea TUF uses.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileInside } from './entry-files.js';
import { RegistryError } from './errors.js';
import { parseRegistryIndex } from './index-format.js';
import { parseJsonDocument } from './json-text.js';
import { scanTreeH1 } from './dirhash.js';
import type { RegistryIndex, SignatureStatus } from './types.js';

const DOMAIN = 'agentos-registry signed index v1\n';
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

/** The `signed` block of an index. */
export interface SignedBlock {
  /** The registry's identity, compared with the configured `identity` (default: the registry's name in the config). */
  name: string;
  /** Grows with every signing; a lower one than already accepted is a rollback. */
  version: number;
  /** ISO time after which the index is refused (a frozen index replayed for ever), unless the host allows expired ones. */
  expires: string;
  /** h1 of every entry folder, by its path from the registry root (`registry/curated/x`). */
  entries: Record<string, string>;
}

/** One signature of an index. */
export interface IndexSignature {
  keyid: string;
  sig: string;
}

/** One trusted key of a registry, as configured (`publicKeys`). */
export interface TrustedKey {
  id: string;
  key: KeyObject;
  /** The raw 32 bytes as hex: two ids for the same key count once toward the threshold. */
  fingerprint: string;
}

/** What a registry trusts: its identity, keys and how many of them must sign. */
export interface RegistryTrust {
  identity: string;
  keys: TrustedKey[];
  threshold: number;
}

/** An index whose signatures were checked. */
export interface VerifiedIndex {
  name: string;
  version: number;
  expires: number;
  entries: ReadonlyMap<string, string>;
  /** sha256 hex of the signed message: equal versions must have equal digests. */
  digest: string;
  /** Key ids whose signatures were valid. */
  keyIds: string[];
}

/** Canonical JSON: sorted keys, no whitespace. Same input value, same bytes, on every machine. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`)
    .join(',')}}`;
}

/** The bytes a signature is made over: the domain line, then the document without `signatures`. */
export function signedMessage(doc: Record<string, unknown>): Buffer {
  const { signatures: _signatures, ...rest } = doc;
  return Buffer.from(DOMAIN + canonicalJson(rest), 'utf8');
}

/** The raw 32-byte public key of an Ed25519 key, base64. */
function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** A key id derived from the key: the first 16 hex digits of sha256 of its raw 32 bytes. */
export function keyIdOf(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  return createHash('sha256')
    .update(rawPublicKey(key.type === 'private' ? createPublicKey(key) : key))
    .digest('hex')
    .slice(0, 16);
}

/** Reads a public key: base64 of the raw 32 bytes, or a PEM `PUBLIC KEY`. Throws a plain Error when it is neither Ed25519. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) key = createPublicKey(trimmed);
  else {
    const raw = Buffer.from(trimmed, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== trimmed) throw new Error('not the base64 of a 32-byte Ed25519 public key');
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key, not Ed25519`);
  return key;
}

/** A trusted key from its public key text (as `parsePublicKey` reads it) and the id signatures name it by (default: derived). */
export function trustedKey(publicKey: string | KeyObject, id?: string): TrustedKey {
  const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
  return { id: id ?? keyIdOf(key), key, fingerprint: rawPublicKey(key).toString('hex') };
}

function parsePrivateKey(key: string | KeyObject): KeyObject {
  const object = typeof key === 'string' ? createPrivateKey(key.trim()) : key;
  if (object.type !== 'private' || object.asymmetricKeyType !== 'ed25519') {
    throw new RegistryError('E_USAGE', 'The signing key must be an Ed25519 private key (PEM, as generateKeyPair() or "agentos-registry keygen" writes it).');
  }
  return object;
}

/** A new Ed25519 key pair: the public key as base64 of its raw bytes (for `publicKeys`), the private key as PEM. */
export function generateKeyPair(): { publicKey: string; privateKey: string; keyId: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: rawPublicKey(publicKey).toString('base64'),
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    keyId: keyIdOf(publicKey),
  };
}

function refuse(registry: string, message: string, details?: Record<string, unknown>): RegistryError {
  return new RegistryError('E_SIGNATURE', `Registry "${registry}": ${message}`, { registry, ...(details ? { details } : {}) });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readSignedBlock(value: unknown, registry: string): SignedBlock {
  const bad = (field: string, what: string) =>
    refuse(registry, `registry.json field signed.${field} ${what}; the index cannot be trusted. Sign it again with "agentos-registry sign".`, {
      field: `signed.${field}`,
    });
  if (!isObject(value)) throw bad('name', 'is missing (the "signed" block is not an object)');
  if (typeof value.name !== 'string' || value.name === '') throw bad('name', 'must be the registry identity');
  if (typeof value.version !== 'number' || !Number.isSafeInteger(value.version) || value.version < 1)
    throw bad('version', 'must be a whole number of 1 or more');
  if (typeof value.expires !== 'string' || !Number.isFinite(Date.parse(value.expires))) throw bad('expires', 'must be an ISO date and time');
  if (!isObject(value.entries)) throw bad('entries', 'must map entry paths to h1 hashes');
  for (const [path, h1] of Object.entries(value.entries)) {
    if (typeof h1 !== 'string' || !H1.test(h1)) throw bad(`entries.${path}`, 'is not an h1: hash');
  }
  return value as unknown as SignedBlock;
}

/** The signature fields of an index, read for their shape only (no key is needed, none is checked). */
export interface SignedIndexParts {
  signed: SignedBlock;
  signatures: IndexSignature[];
}

/**
 * The `signed` block and `signatures` of a parsed `registry.json`, checked for their shape only: `undefined` when the
 * index has neither; `E_SIGNATURE` naming the field when one is missing or malformed (a signature that is not
 * `{ keyid, sig }` with `sig` the base64 of 64 bytes). For tools that look at an index without its keys (`validate`);
 * only `verifyIndex` says whether it can be trusted.
 */
export function inspectSignedIndex(doc: unknown, registry: string): SignedIndexParts | undefined {
  if (!isObject(doc) || (doc.signed === undefined && doc.signatures === undefined)) return undefined;
  const next = 'Sign it again with "agentos-registry sign".';
  if (doc.signatures === undefined) throw refuse(registry, `registry.json has a "signed" block but no "signatures". ${next}`, { field: 'signatures' });
  if (doc.signed === undefined) throw refuse(registry, `registry.json has "signatures" but no "signed" block. ${next}`, { field: 'signed' });
  const signed = readSignedBlock(doc.signed, registry);
  if (!Array.isArray(doc.signatures) || doc.signatures.length === 0) {
    throw refuse(registry, `registry.json field signatures must be a non-empty list of { keyid, sig }. ${next}`, { field: 'signatures' });
  }
  doc.signatures.forEach((signature: unknown, i) => {
    const ok =
      isObject(signature) &&
      typeof signature.keyid === 'string' &&
      signature.keyid !== '' &&
      typeof signature.sig === 'string' &&
      Buffer.from(signature.sig, 'base64').length === 64;
    if (!ok)
      throw refuse(registry, `registry.json field signatures[${i}] must be { keyid, sig } with sig the base64 of a 64-byte Ed25519 signature. ${next}`, {
        field: `signatures[${i}]`,
      });
  });
  return { signed, signatures: doc.signatures as IndexSignature[] };
}

/**
 * Checks the signatures of an index (bytes as served) against a registry's trust, and that the signed block is for
 * this registry and covers every entry. Throws `E_SIGNATURE` saying which check failed. Rollback and expiry depend on
 * state and time, and are the caller's (see `TrustStore` and the index service).
 */
export function verifyIndex(bytes: Uint8Array | string, index: RegistryIndex, trust: RegistryTrust, registry: string): VerifiedIndex {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  const doc = parseJsonDocument(text, {
    code: 'E_INDEX_INVALID',
    file: 'registry.json',
    registry,
    label: `registry.json of registry "${registry}"`,
    next: 'Fix the file.',
  });
  if (!isObject(doc) || doc.signed === undefined || doc.signatures === undefined) {
    throw refuse(
      registry,
      'registry.json is not signed, and this registry has publicKeys, which require a signature. Sign the index ("agentos-registry sign"), or remove publicKeys from the config.',
    );
  }
  if (!Array.isArray(doc.signatures)) throw refuse(registry, 'registry.json field signatures must be a list of { keyid, sig }.', { field: 'signatures' });
  const message = signedMessage(doc);
  const byId = new Map(trust.keys.map((k) => [k.id, k]));
  const good = new Map<string, string>();
  const unknown: string[] = [];
  const failed: string[] = [];
  // Each configured key is tried once, whatever the list holds: a registry cannot make the host verify a million
  // copies of one signature (an index may be 32 MiB), and one key cannot count twice.
  const tried = new Set<string>();
  for (const signature of doc.signatures as unknown[]) {
    if (!isObject(signature) || typeof signature.keyid !== 'string' || typeof signature.sig !== 'string') continue;
    const key = byId.get(signature.keyid);
    if (!key) {
      if (unknown.length < 20) unknown.push(signature.keyid);
      continue;
    }
    if (tried.has(key.id)) continue;
    tried.add(key.id);
    const sig = Buffer.from(signature.sig, 'base64');
    if (sig.length === 64 && verify(null, message, key.key, sig)) good.set(key.fingerprint, key.id);
    else failed.push(key.id);
  }
  if (good.size < trust.threshold) {
    const why = [
      good.size > 0 ? `valid signatures by ${[...good.values()].join(', ')}` : 'no valid signature by a configured key',
      failed.length > 0 ? `signatures by ${failed.join(', ')} do not match the index (it was changed after signing, or signed for other bytes)` : '',
      unknown.length > 0 ? `signatures by keys not in publicKeys: ${unknown.slice(0, 5).join(', ')}` : '',
    ].filter(Boolean);
    throw refuse(
      registry,
      `registry.json has ${good.size} of the ${trust.threshold} signature${trust.threshold === 1 ? '' : 's'} its config requires (${why.join('; ')}). Nothing of this index is used. If the keys were rotated, add the new public key to publicKeys.`,
      {
        valid: good.size,
        threshold: trust.threshold,
        unknownKeys: unknown,
        failedKeys: failed,
      },
    );
  }
  // Only now is the content trusted enough to read.
  const signed = readSignedBlock(doc.signed, registry);
  if (signed.name !== trust.identity) {
    throw refuse(
      registry,
      `registry.json is signed for the registry "${signed.name}", not "${trust.identity}": another registry's index is being served at this location. Check the location, or set identity if this registry was signed under another name.`,
      {
        signedName: signed.name,
        identity: trust.identity,
      },
    );
  }
  const entries = new Map(Object.entries(signed.entries));
  for (const entry of index.entries) {
    if (!entries.has(entry.path)) {
      throw refuse(
        registry,
        `the signed block of registry.json has no h1 hash for ${entry.id} (${entry.path}); every entry must be covered. Sign the index again.`,
        { path: entry.path },
      );
    }
  }
  return {
    name: signed.name,
    version: signed.version,
    expires: Date.parse(signed.expires),
    entries,
    digest: createHash('sha256').update(message).digest('hex'),
    keyIds: [...good.values()],
  };
}

/** `30d`, `12h`, `90m`, `3600s` → milliseconds; `undefined` when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** One key that signs, and its id (default: derived from the key, as `keyIdOf`). */
export interface SigningKey {
  key: string | KeyObject;
  keyId?: string;
}

export interface SignRegistryOptions {
  /** The private key (PEM or KeyObject), or several, for a threshold above 1 or a rotation. */
  key: string | KeyObject | SigningKey[];
  /** Key id of a single `key`; default derived from the key. */
  keyId?: string;
  /** When the signature stops being accepted: a Date, an ISO time, or a duration from now (`30d`, `12h`). Default 30 days. */
  expires?: Date | string;
  /** The registry identity hosts configure (`identity`, else their name for the registry). Default: the one signed before. */
  name?: string;
  /** The version to write; default one more than the signed one (1 for an unsigned index). Must grow. */
  version?: number;
  /** Where the entry folders are, when not beside registry.json (a `url` site holds tarballs: pass the packed folder). */
  entriesDir?: string;
  /** Clock in ms, for tests. */
  now?: () => number;
}

export interface SignRegistryResult {
  file: string;
  name: string;
  version: number;
  expires: string;
  entries: number;
  keyIds: string[];
}

/**
 * Signs a registry folder in place: hashes every entry folder (h1), bumps the version, and writes `signed` and
 * `signatures` into its `registry.json` (re-indented with two spaces). An entry folder with a symlink or an
 * executable file is refused (`E_SIGNATURE`), as h1 cannot cover them.
 */
export async function signRegistry(dir: string, options: SignRegistryOptions): Promise<SignRegistryResult> {
  const file = join(dir, 'registry.json');
  const text = await readFile(file, 'utf8');
  const registry = options.name ?? 'registry';
  const index = parseRegistryIndex(text, { registry });
  const doc = parseJsonDocument(text, { code: 'E_INDEX_INVALID', file: 'registry.json', registry, label: `${file}`, next: 'Fix the file.' }) as Record<
    string,
    unknown
  >;
  const previous = isObject(doc.signed) ? doc.signed : undefined;
  const name = options.name ?? (typeof previous?.name === 'string' ? previous.name : undefined);
  if (!name)
    throw new RegistryError('E_USAGE', 'Give the registry identity to sign for (name): the name hosts configure this registry under, or its identity option.');
  const before = typeof previous?.version === 'number' && Number.isSafeInteger(previous.version) ? previous.version : 0;
  const version = options.version ?? before + 1;
  if (!Number.isSafeInteger(version) || version <= before) {
    throw new RegistryError(
      'E_USAGE',
      `The version must grow: registry.json is signed at version ${before}, so the next is ${before + 1} or more (got ${version}).`,
    );
  }
  const now = options.now?.() ?? Date.now();
  const expires = expiryOf(options.expires ?? '30d', now);
  const entriesRoot = options.entriesDir ?? dir;
  const entries: Record<string, string> = {};
  for (const entry of index.entries) {
    if (entries[entry.path]) continue;
    entries[entry.path] = (await scanTreeH1(join(entriesRoot, ...entry.path.split('/')))).h1;
  }
  const { signatures: _old, signed: _signed, ...rest } = doc;
  const signedDoc: Record<string, unknown> = { ...rest, signed: { name, version, expires, entries } };
  const message = signedMessage(signedDoc);
  const keys: SigningKey[] = Array.isArray(options.key) ? options.key : [{ key: options.key, ...(options.keyId ? { keyId: options.keyId } : {}) }];
  if (keys.length === 0) throw new RegistryError('E_USAGE', 'Give at least one signing key.');
  const signatures: IndexSignature[] = keys.map(({ key, keyId }) => {
    const privateKey = parsePrivateKey(key);
    return { keyid: keyId ?? keyIdOf(privateKey), sig: sign(null, message, privateKey).toString('base64') };
  });
  signedDoc.signatures = signatures;
  // Core's one safe write: a temporary name no one can guess, created exclusively (no planted link is written
  // through), then renamed over the file.
  await writeFileInside(dirname(file), basename(file), `${JSON.stringify(signedDoc, null, 2)}\n`);
  return { file, name, version, expires, entries: Object.keys(entries).length, keyIds: signatures.map((s) => s.keyid) };
}

function expiryOf(value: Date | string, now: number): string {
  if (value instanceof Date) return value.toISOString();
  const duration = parseDuration(value);
  if (duration !== undefined) return new Date(now + duration).toISOString();
  const at = Date.parse(value);
  if (!Number.isFinite(at)) throw new RegistryError('E_USAGE', `expires "${value}" is neither a duration (30d, 12h) nor an ISO date and time.`);
  return new Date(at).toISOString();
}

/**
 * What `info` says about an entry's index: for a registry with `publicKeys`, the checked signature (`verified`, as the
 * index service kept it) and the entry's signed h1; otherwise whether `verified` rests on the transport alone.
 */
export function signatureStatusOf(registry: {
  trust: RegistryTrust | undefined;
  verified: boolean;
  signed: VerifiedIndex | undefined;
  index: RegistryIndex;
  /** The entry's folder, from the registry root. */
  path: string;
  /** The files served are the registry's folder (checked against the h1), not the entry's npm package. */
  fromRegistry: boolean;
  now: number;
}): SignatureStatus {
  const { trust, signed } = registry;
  if (!trust || !signed) {
    return { mode: registry.verified ? 'trusted-transport' : 'unsigned', indexSigned: isObject(registry.index.raw) && registry.index.raw.signed !== undefined };
  }
  return {
    mode: 'signed',
    identity: signed.name,
    version: signed.version,
    expires: new Date(signed.expires).toISOString(),
    expired: registry.now > signed.expires,
    keyIds: [...signed.keyIds],
    threshold: trust.threshold,
    entry: { path: registry.path, h1: signed.entries.get(registry.path) ?? '', checked: registry.fromRegistry },
  };
}
