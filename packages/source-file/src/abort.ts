import { RegistryError } from '@agentos-registry/core';

/**
 * Throws `E_ABORTED` when the call was cancelled. Called before every step that touches the disk, so an aborted call
 * stops between files instead of finishing a long walk or copy nobody waits for any more.
 */
export function throwIfAborted(signal: AbortSignal, registry: string, what: string): void {
  if (!signal.aborted) return;
  throw new RegistryError('E_ABORTED', `${what} of registry '${registry}' was aborted.`, {
    registry,
    cause: signal.reason,
  });
}
