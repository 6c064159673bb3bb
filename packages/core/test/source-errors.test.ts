/** What a source throws, mapped to one code and a message that reads as a sentence (table-driven, no I/O). */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/index.js';
import { malformedAnswerError, missingEntryFolderError, missingIndexError } from '../src/index.js';
import { toRegistryError } from '../src/source-errors.js';

const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

const CASES: Array<[what: string, thrown: unknown, code: ErrorCode, message: string]> = [
  ['an AbortError', new DOMException('This operation was aborted', 'AbortError'), 'E_ABORTED', 'Reading the index for registry "corp" was aborted.'],
  ['ECONNRESET', errno('ECONNRESET', 'read ECONNRESET'), 'E_UNREACHABLE', 'Registry "corp" could not be reached while reading the index (ECONNRESET).'],
  [
    'an untrusted certificate',
    errno('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
    'E_UNREACHABLE',
    `Registry "corp" could not be reached while reading the index (SELF_SIGNED_CERT_IN_CHAIN). The TLS certificate could not be verified (SELF_SIGNED_CERT_IN_CHAIN). If the server uses a private or corporate CA, add that CA with the registry's "ca" option`,
  ],
  ['ENOENT', errno('ENOENT', "ENOENT: no such file, open '/x'"), 'E_NOT_FOUND', `Reading the index in registry "corp": ENOENT: no such file, open '/x'`],
  [
    'a SyntaxError (it quotes what failed to parse)',
    new SyntaxError('Unexpected token \'r\', "root:x:0:0"... is not valid JSON'),
    'E_INTERNAL',
    'Reading the index in registry "corp" failed: the source could not parse what it received',
  ],
  ['anything else', new Error('boom'), 'E_INTERNAL', 'Reading the index in registry "corp" failed: boom'],
];

describe('toRegistryError', () => {
  it.each(CASES)('%s', (_what, thrown, code, message) => {
    const error = toRegistryError(thrown, 'corp', 'reading the index');
    expect(error.code).toBe(code);
    expect(error.registry).toBe('corp');
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message).not.toContain('root:x');
  });
});

describe('the shared wordings of what a registry lacks or a server garbles', () => {
  const scope = { registry: 'corp', where: 'https://github.com/o/r/reg', revision: 'a'.repeat(40) };
  it.each([
    [
      'a missing registry.json',
      missingIndexError(scope),
      'E_NOT_FOUND',
      'https://github.com/o/r/reg has no registry.json at revision aaaaaaaaaaaa (registry "corp")',
    ],
    [
      'a missing entry folder',
      missingEntryFolderError({ ...scope, path: 'registry/curated/x' }),
      'E_NOT_FOUND',
      "Entry folder 'registry/curated/x' does not exist in https://github.com/o/r/reg at revision aaaaaaaaaaaa",
    ],
    [
      'a garbled answer',
      malformedAnswerError({ registry: 'corp', service: 'GitHub (api.github.com)', action: 'listing tree abc', problem: 'is not a git tree' }),
      'E_UNREACHABLE',
      'GitHub (api.github.com) answered registry "corp" with something that is not a git tree while listing tree abc',
    ],
  ] as const)('%s', (_what, error, code, message) => {
    expect(error).toMatchObject({ code, registry: 'corp' });
    expect(error.message).toContain(message);
  });
});
