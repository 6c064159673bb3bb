/**
 * The certificate authorities a client trusts. Node adds `NODE_EXTRA_CA_CERTS` to its default store only when the
 * variable is set at process start, and a TLS connection given an explicit `ca` trusts *only* that list. So whenever a
 * client has extra CAs (its `ca` option, or `NODE_EXTRA_CA_CERTS` in the environment it was given), we build the full
 * list ourselves: Node's bundled roots, then the extra file, then the option.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { Logger } from '../logger.js';

/**
 * The `ca` list for undici's connect options, or `undefined` to keep Node's default store untouched (which also keeps
 * `--use-openssl-ca` working for clients that need nothing extra). PEM text may hold several certificates.
 */
export function trustedCertificates(
  ca: string | string[] | undefined,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): string[] | undefined {
  const extra = ca === undefined ? [] : Array.isArray(ca) ? ca : [ca];
  const file = env.NODE_EXTRA_CA_CERTS?.trim();
  const fromFile: string[] = [];
  if (file) {
    try {
      fromFile.push(readFileSync(file, 'utf8'));
    } catch (error) {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS and carries on; do the same, loudly enough
      // that a later certificate error can be traced back to it.
      logger.warn(
        `NODE_EXTRA_CA_CERTS is set to "${file}" but it could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); continuing without it.`,
      );
    }
  }
  if (extra.length === 0 && fromFile.length === 0) return undefined;
  return [...rootCertificates, ...fromFile, ...extra];
}
