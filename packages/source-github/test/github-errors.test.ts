import { statusError } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { githubRetryable, githubWording } from '../src/github-api.js';

// Pure: GitHub's answers as status + headers + message, judged by core's statusError with GitHub's wording hook.
const NOW = Date.parse('2025-03-01T12:00:00Z');
const RESET = String(NOW / 1000 + 30 * 60);
const judge = (status: number, headers: Record<string, string>, message: string | undefined, authenticated: boolean) =>
  statusError(
    { status, headers },
    { ...githubWording({ registry: 'custom', repository: 'your-org/extensions', action: "checking 'main'", authenticated }, message), now: NOW },
  );

describe('GitHub failures, worded by core with GitHub hints', () => {
  const cases: Array<[string, number, Record<string, string>, string | undefined, boolean, string, string[]]> = [
    ['401 bad credentials', 401, {}, 'Bad credentials', true, 'E_AUTH', ['rejected the credentials', 'Bad credentials', 'Check that the token is valid']],
    [
      '403 primary, anonymous',
      403,
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '60', 'x-ratelimit-reset': RESET },
      'API rate limit exceeded',
      false,
      'E_RATE_LIMIT',
      ['2025-03-01T12:30:00.000Z', 'in 30 min', 'Configure a `token`', 'of 60 requests'],
    ],
    [
      '429 primary, with a token',
      429,
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '5000', 'x-ratelimit-reset': RESET },
      undefined,
      true,
      'E_RATE_LIMIT',
      ['belongs to the token', 'of 5000 requests'],
    ],
    [
      '403 secondary with retry-after',
      403,
      { 'retry-after': '7', 'x-ratelimit-remaining': '4000' },
      'You have exceeded a secondary rate limit',
      true,
      'E_RATE_LIMIT',
      ['secondary rate limit', 'wait 7 s'],
    ],
    [
      '403 secondary without retry-after',
      403,
      { 'x-ratelimit-remaining': '4000' },
      'You have exceeded a secondary rate limit.',
      true,
      'E_RATE_LIMIT',
      ['at least a minute'],
    ],
    ['429 secondary (core retried it)', 429, { 'retry-after': '7' }, undefined, false, 'E_RATE_LIMIT', ['secondary rate limit']],
    [
      '403 forbidden with a token',
      403,
      { 'x-ratelimit-remaining': '4999' },
      'Resource not accessible by personal access token',
      true,
      'E_AUTH',
      ['`repo` scope', 'SAML SSO', 'Resource not accessible'],
    ],
    ['404 without a token', 404, {}, 'Not Found', false, 'E_NOT_FOUND', ['your-org/extensions', 'private repositories need a `token`']],
    ['404 with a token', 404, {}, 'Not Found', true, 'E_NOT_FOUND', ['that the token can see it']],
    ['502', 502, {}, undefined, false, 'E_UNREACHABLE', ['answered 502']],
  ];
  test.each(cases)('%s', (_, status, headers, message, authenticated, code, phrases) => {
    const error = judge(status, headers, message, authenticated);
    expect(error.code).toBe(code);
    expect(error.registry).toBe('custom');
    for (const phrase of phrases) expect(error.message).toContain(phrase);
  });

  // Core's parseRetryAfter reads the header (delta seconds or an HTTP date); the message names the wait in seconds.
  test.each([
    ['0', 'wait 0 s'],
    ['120', 'wait 120 s'],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 'wait 30 s'],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 'wait 0 s'],
    ['soon', 'at least a minute'],
  ] as const)('retry-after %s → "%s"', (value, phrase) => {
    const error = judge(403, { 'retry-after': value }, 'You have exceeded a secondary rate limit', true);
    expect(error.code).toBe('E_RATE_LIMIT');
    expect(error.message).toContain(phrase);
  });
});

describe("githubRetryable: core's default plus the secondary rate limit", () => {
  test.each([
    [403, { 'retry-after': '3' }, true],
    [403, {}, false],
    [403, { 'x-ratelimit-remaining': '0' }, false],
    [429, { 'x-ratelimit-remaining': '0' }, false],
    [429, {}, true],
    [502, {}, true],
    [404, {}, false],
  ] as const)('%s %j → %s', (status, headers, retried) => {
    expect(githubRetryable({ status, headers })).toBe(retried);
  });
});
