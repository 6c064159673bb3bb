/** Mapping whatever a source threw to a RegistryError with a code, keeping a redacted cause. */
import { RegistryError, redactError } from './errors.js';

/** Error codes of a connection that failed or timed out (Node, undici and npm's fetch stack). */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True when `code` means the network failed (refused, reset, unknown host, timed out): the source is unreachable. */
export function isNetworkErrorCode(code: string | undefined): boolean {
  return code !== undefined && NETWORK_CODES.has(code);
}

/** Error codes of a TLS certificate the client did not trust (Node's and OpenSSL's, as undici and npm's fetch pass them). */
const UNTRUSTED_CERTIFICATE_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL/;

/** True when `code` means the server's TLS certificate could not be verified (unknown CA, expired, wrong host). */
export function isUntrustedCertificateCode(code: string | undefined): boolean {
  return code !== undefined && UNTRUSTED_CERTIFICATE_CODE.test(code);
}

/**
 * Core's one piece of advice for a certificate the client did not trust, for sources that word a transport failure
 * themselves (it names the `ca` option every HTTP source takes).
 */
export function untrustedCertificateAdvice(code: string): string {
  return `The TLS certificate could not be verified (${code}). If the server uses a private or corporate CA, add that CA with the registry's "ca" option (PEM text or a file) or NODE_EXTRA_CA_CERTS; also check the host name and the system clock.`;
}

/** `action` (a phrase such as "reading the index") at the start of a sentence. */
const sentence = (action: string) => `${action.charAt(0).toUpperCase()}${action.slice(1)}`;

export function toRegistryError(error: unknown, registry: string, action: string): RegistryError {
  if (error instanceof RegistryError) return error;
  const err = error as NodeJS.ErrnoException;
  if (err?.name === 'AbortError' || err?.code === 'ABORT_ERR') return abortError(undefined, action, registry, error);
  if (isNetworkErrorCode(err?.code)) {
    return new RegistryError(
      'E_UNREACHABLE',
      `Registry "${registry}" could not be reached while ${action} (${err.code}). Check the network and the location; copies already cached stay usable offline.`,
      { registry, cause: error },
    );
  }
  if (isUntrustedCertificateCode(err?.code)) {
    // A TLS failure is a network error (stale-if-error can serve), with the advice every HTTP source gives.
    return new RegistryError(
      'E_UNREACHABLE',
      `Registry "${registry}" could not be reached while ${action} (${err.code}). ${untrustedCertificateAdvice(err.code as string)}`,
      { registry, cause: error },
    );
  }
  if (error instanceof SyntaxError) {
    // A source that parsed something it received (a JSON answer, a packument) and failed. The SyntaxError's message
    // quotes the bytes that failed to parse, so neither it nor the error is kept: only that it happened.
    return new RegistryError(
      'E_INTERNAL',
      `${sentence(action)} in registry "${registry}" failed: the source could not parse what it received (a syntax error; its text is not shown, as it quotes the data). Check that the location points at a registry of this type.`,
      { registry, cause: new SyntaxError('message withheld: it quotes the data that failed to parse') },
    );
  }
  if (err?.code === 'ENOENT') {
    return new RegistryError('E_NOT_FOUND', `${sentence(action)} in registry "${registry}": ${err.message}`, { registry, cause: error });
  }
  return new RegistryError('E_INTERNAL', `${sentence(action)} in registry "${registry}" failed: ${err?.message ?? String(error)}`, {
    registry,
    cause: redactError(error),
  });
}

/**
 * The one `E_ABORTED` of the library, worded once: "<What> for registry "<name>" was aborted." `what` names the work
 * ("Fetching com.example.echo", "Checking the revision") without the registry; `cause` defaults to the signal's reason.
 */
export function abortError(signal: AbortSignal | undefined, what: string, registry?: string, cause: unknown = signal?.reason): RegistryError {
  return new RegistryError('E_ABORTED', `${sentence(what)}${registry ? ` for registry "${registry}"` : ''} was aborted.`, {
    ...(registry ? { registry } : {}),
    cause,
  });
}

/** Throws {@link abortError} when `signal` has fired: the check a source makes before each step of its work. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string, registry?: string): void {
  if (signal?.aborted) throw abortError(signal, what, registry);
}

/**
 * `promise`, or the error `onAbort()` makes as soon as `signal` fires, whichever comes first. For a caller that waits
 * on work it shares with others: giving up must not cancel the work, only this caller's wait.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

/** Where and when a registry lacks something: `where` is the source's `displayLocation` (the registry's folder). */
export interface MissingScope {
  registry: string;
  where: string;
  revision: string;
}

/** The one `E_NOT_FOUND` of a revision that has no `registry.json`, for core's snapshots and for a source reading it itself. */
export function missingIndexError({ registry, where, revision }: MissingScope): RegistryError {
  return new RegistryError(
    'E_NOT_FOUND',
    `${where} has no registry.json at revision ${revision.slice(0, 12)} (registry "${registry}"). Point \`location\` (or \`subdir\`) at the folder that holds registry.json and registry/.`,
    { registry, details: { revision } },
  );
}

/** The one `E_NOT_FOUND` of an entry folder (`path`, relative to the registry's folder) that registry.json lists but the revision lacks. */
export function missingEntryFolderError({ registry, where, revision, path }: MissingScope & { path: string }): RegistryError {
  return new RegistryError(
    'E_NOT_FOUND',
    `Entry folder '${path}' does not exist in ${where} at revision ${revision.slice(0, 12)} (registry "${registry}"). registry.json lists it: add the folder or fix the entry's \`path\`.`,
    { registry, details: { path } },
  );
}

/** Errors that mean "the source could not answer now", for which a cached copy may be served stale. */
export function isTransient(error: RegistryError): boolean {
  return error.code === 'E_UNREACHABLE' || error.code === 'E_RATE_LIMIT';
}
