import { describe, expect, it, test } from 'vitest';
import { createHttpClient, statusError, type StatusWording } from '../src/index.js';
import { startServer } from './support/http-servers.js';

// Pure: statuses and headers judged without a server, as every HTTP source's failures are.
const NOW = Date.parse('2025-03-01T12:00:00Z');
const RESET = String(NOW / 1000 + 30 * 60);
const wording = (authenticated: boolean, extra: Partial<StatusWording> = {}): StatusWording => ({
  registry: 'hosted',
  what: 'registry.json',
  authenticated,
  now: NOW,
  ...extra,
});

describe('statusError', () => {
  const cases: Array<[string, number, Record<string, string>, boolean, Partial<StatusWording>, string, string[]]> = [
    [
      '401 with credentials',
      401,
      {},
      true,
      { serverMessage: 'Bad credentials' },
      'E_AUTH',
      ['rejected the credentials', '"Bad credentials"', 'have not expired'],
    ],
    ['401 without', 401, {}, false, {}, 'E_AUTH', ['refused access', 'configure a `token`']],
    ['403 forbidden, hint of the source', 403, {}, true, { hints: { forbidden: 'Needs "Contents: read".' } }, 'E_AUTH', ['Needs "Contents: read".']],
    [
      '403 spent quota',
      403,
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '60', 'x-ratelimit-reset': RESET },
      false,
      { hints: { quota: 'A token raises it.' } },
      'E_RATE_LIMIT',
      ['of 60 requests', '2025-03-01T12:30:00.000Z', 'in 30 min', 'A token raises it.'],
    ],
    ['403 naming a wait', 403, { 'retry-after': '7' }, true, {}, 'E_RATE_LIMIT', ['throttling', 'wait 7 s']],
    ['403 calling itself a rate limit', 403, {}, true, { serverMessage: 'You have exceeded a secondary rate limit' }, 'E_RATE_LIMIT', ['at least a minute']],
    ['429 with an HTTP date', 429, { 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }, false, {}, 'E_RATE_LIMIT', ['wait 30 s']],
    ['404 with a hint', 404, {}, false, { hints: { notFound: 'Run pack.' } }, 'E_NOT_FOUND', ['registry.json was not found on', '(404)', 'Run pack.']],
    ['410', 410, {}, false, {}, 'E_NOT_FOUND', ['Check the registry location']],
    ['502', 502, {}, false, {}, 'E_UNREACHABLE', ['answered 502', 'server error']],
    ['418', 418, {}, false, {}, 'E_UNREACHABLE', ['unexpected answer']],
  ];
  test.each(cases)('%s', (_, status, headers, authenticated, extra, code, phrases) => {
    const error = statusError({ status, headers, url: 'https://r.example.com/x/registry.json?sig=secret' }, wording(authenticated, extra));
    expect(error.code).toBe(code);
    expect(error.registry).toBe('hosted');
    expect(error.message).toMatch(/^Registry "hosted": /);
    for (const phrase of phrases) expect(error.message).toContain(phrase);
    expect(error.message).not.toContain('sig=secret');
  });

  it('quotes a server message without its control characters, shortened', () => {
    const error = statusError({ status: 401, headers: {} }, wording(true, { serverMessage: `bad\u001b[31m ${'x'.repeat(500)}` }));
    expect(error.message).not.toContain('\u001b');
    expect(error.message.length).toBeLessThan(500);
  });
});

describe('namedBy: a URL a server chose is judged like a redirect from it', () => {
  it('refuses a URL on this machine named by a document elsewhere, and a URL with a password', async () => {
    const local = await startServer((_req, res) => res.end('ok'));
    const client = createHttpClient({ registry: 'hosted' });
    try {
      const refused = await client.request(local.url('/x.tgz'), { namedBy: 'https://r.example.com/registry.json' }).catch((e: unknown) => e);
      expect((refused as { code: string }).code).toBe('E_POLICY');
      expect(local.requests).toHaveLength(0);
      const password = await client
        .request('https://user:pw@cdn.example.com/x.tgz', { namedBy: 'https://r.example.com/registry.json' })
        .catch((e: unknown) => e);
      expect((password as { code: string }).code).toBe('E_POLICY');
      // Named by a document on this machine, a URL on it is fine.
      const ok = await client.request(local.url('/x.tgz'), { namedBy: local.url('/registry.json') });
      expect(await ok.text()).toBe('ok');
    } finally {
      await client.close();
      await local.close();
    }
  });
});
