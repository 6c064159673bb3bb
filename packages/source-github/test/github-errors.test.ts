import { describe, expect, test } from 'vitest';
import { judgeFailure, readRateLimit } from '../src/github-errors.js';

// Pure: GitHub's answers as status + headers + message, judged without a server.
const NOW = Date.parse('2025-03-01T12:00:00Z');
const RESET = String(NOW / 1000 + 30 * 60);
const scope = (authenticated: boolean) => ({ registry: 'custom', repository: 'your-org/extensions', authenticated, action: "checking 'main'" });

describe('judgeFailure', () => {
  const cases: Array<[string, number, Record<string, string>, string | undefined, boolean, string, string[]]> = [
    ['401 bad credentials', 401, {}, 'Bad credentials', true, 'E_AUTH', ['rejected the token', 'Bad credentials']],
    ['403 primary, anonymous', 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '60', 'x-ratelimit-reset': RESET }, 'API rate limit exceeded', false, 'E_RATE_LIMIT', ['2025-03-01T12:30:00.000Z', 'in 30 min', 'Configure a `token`', 'of 60 requests per hour']],
    ['429 primary, with a token', 429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '5000', 'x-ratelimit-reset': RESET }, undefined, true, 'E_RATE_LIMIT', ['belongs to the token', 'of 5000 requests per hour']],
    ['403 secondary with retry-after', 403, { 'retry-after': '7', 'x-ratelimit-remaining': '4000' }, 'You have exceeded a secondary rate limit', true, 'E_RATE_LIMIT', ['secondary rate limit', 'wait 7 s']],
    ['403 secondary without retry-after', 403, { 'x-ratelimit-remaining': '4000' }, 'You have exceeded a secondary rate limit.', true, 'E_RATE_LIMIT', ['at least a minute']],
    ['429 secondary (core retried it)', 429, { 'retry-after': '7' }, undefined, false, 'E_RATE_LIMIT', ['secondary rate limit']],
    ['403 forbidden with a token', 403, { 'x-ratelimit-remaining': '4999' }, 'Resource not accessible by personal access token', true, 'E_AUTH', ['`repo` scope', 'SAML SSO', 'Resource not accessible']],
    ['404 without a token', 404, {}, 'Not Found', false, 'E_NOT_FOUND', ['private repositories need a `token`']],
    ['404 with a token', 404, {}, 'Not Found', true, 'E_NOT_FOUND', ['that the token can see it']],
    ['502', 502, {}, undefined, false, 'E_UNREACHABLE', ['answered 502']],
  ];
  test.each(cases)('%s', (_, status, headers, message, authenticated, code, phrases) => {
    const error = judgeFailure({ status, headers, ...(message ? { message } : {}) }, scope(authenticated), NOW);
    expect(error.code).toBe(code);
    expect(error.registry).toBe('custom');
    for (const phrase of phrases) expect(error.message).toContain(phrase);
  });
});

describe('rate-limit headers', () => {
  test('readRateLimit', () => {
    expect(readRateLimit({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1740832200', 'x-ratelimit-resource': 'core' })).toEqual({
      limit: 60,
      remaining: 0,
      resetAt: new Date(1740832200 * 1000),
      resource: 'core',
    });
    expect(readRateLimit({})).toEqual({ limit: undefined, remaining: undefined, resetAt: undefined, resource: undefined });
  });

  // Core's parseRetryAfter reads the header (delta seconds or an HTTP date); the message names the wait in seconds.
  test.each([
    ['0', 'wait 0 s'],
    ['120', 'wait 120 s'],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 'wait 30 s'],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 'wait 0 s'],
    ['soon', 'at least a minute'],
  ] as const)('retry-after %s → "%s"', (value, phrase) => {
    const error = judgeFailure({ status: 403, headers: { 'retry-after': value }, message: 'You have exceeded a secondary rate limit' }, scope(true), NOW);
    expect(error.code).toBe('E_RATE_LIMIT');
    expect(error.message).toContain(phrase);
  });
});
