/** Every failure the library raises is a RegistryError with one of these stable codes. */
export const ERROR_CODES = [
  'E_CONFIG',
  'E_NO_REGISTRY_FOR_KIND',
  'E_SOURCE_NOT_INSTALLED',
  'E_NOT_FOUND',
  'E_NOT_CACHED',
  'E_UNREACHABLE',
  'E_AUTH',
  'E_RATE_LIMIT',
  'E_INTEGRITY',
  'E_UNSAFE_PATH',
  'E_POLICY',
  'E_SIGNATURE',
  'E_INDEX_INVALID',
  'E_TOO_LARGE',
  'E_MANIFEST_MISSING',
  'E_LOAD',
  'E_PEER_MISSING',
  'E_LOCK_MISMATCH',
  'E_UNSUPPORTED',
  'E_ABORTED',
  'E_CONTRACT',
  'E_SOURCE_CONTRACT',
  'E_INTERNAL',
  'E_USAGE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface RegistryErrorOptions {
  /** The configured registry the failure belongs to, when there is one. */
  registry?: string;
  /** The lower-level error, already redacted. */
  cause?: unknown;
  /** Extra structured facts (file, field, entry id…); never secrets. */
  details?: Record<string, unknown>;
}

/**
 * The one error class of agentos-registry. `code` is stable and meant for programs; `message` is meant for people
 * and says what to do next. Messages pass through the secret redactor before they are stored.
 */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly registry: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: RegistryErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: redactError(options.cause) });
    this.name = 'RegistryError';
    this.code = code;
    this.registry = options.registry;
    this.details = options.details;
  }

  /** A plain object for JSON output and logs. */
  toJSON(): { code: ErrorCode; message: string; registry?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.registry === undefined ? {} : { registry: this.registry }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isRegistryError(value: unknown, code?: ErrorCode): value is RegistryError {
  return value instanceof RegistryError && (code === undefined || value.code === code);
}

// ── redaction ─────────────────────────────────────────────────────────────────────────────────────────────────────
// Secrets known to this process (tokens from the config, after env expansion) are registered here so that every
// message, cause and log line can be scrubbed of them, whatever library produced the text.

const secrets = new Set<string>();

/** Registers a value that must never be shown. Values shorter than 4 characters are ignored (too many false hits). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

const CREDENTIAL_PATTERNS: RegExp[] = [
  /(authorization\s*[:=]\s*)(?:bearer|basic|token)?\s*[^\s"',}]+/gi,
  /(\/\/[^/\s:@]*:)[^@\s/]+(@)/g, // user:password@ in URLs
  /(_authToken\s*=\s*)\S+/gi,
  /([?&](?:access_)?token=)[^&\s]+/gi,
];

/** Removes every registered secret and anything that looks like a credential from a piece of text. */
export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    const b64 = Buffer.from(secret).toString('base64');
    if (out.includes(b64)) out = out.split(b64).join('[REDACTED]');
  }
  for (const pattern of CREDENTIAL_PATTERNS) {
    out = out.replace(pattern, (_m, head: string, tail?: string) => `${head}[REDACTED]${typeof tail === 'string' ? tail : ''}`);
  }
  return out;
}

/** A copy of an error (and its cause chain) that is safe to keep, print or serialize. */
export function redactError(error: unknown, depth = 0): unknown {
  if (error instanceof RegistryError) return error;
  if (!(error instanceof Error)) return typeof error === 'string' ? redact(error) : error;
  const copy = new Error(redact(error.message));
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) (copy as { code?: unknown }).code = code;
  if (error.stack) copy.stack = redact(error.stack);
  if (error.cause !== undefined && depth < 5) (copy as { cause?: unknown }).cause = redactError(error.cause, depth + 1);
  return copy;
}
