import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus } from '../src/http/retry.js';
import { isLoopbackHost, matchesNoProxy, parseRetryAfter } from '../src/index.js';

describe('isLoopbackHost', () => {
  const table: Array<[string, boolean]> = [
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['[::1]', true],
    ['[0:0:0:0:0:0:0:1]', true],
    ['::ffff:127.0.0.1', true],
    ['[::ffff:7f00:1]', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::ffff:10.0.0.1', false],
    ['api.localhost', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['fe80::1%eth0', false],
    ['', false],
  ];
  for (const [host, expected] of table) {
    it(`${JSON.stringify(host)} → ${expected}`, () => expect(isLoopbackHost(host)).toBe(expected));
  }
});

describe('matchesNoProxy', () => {
  const table: Array<[string, string, boolean]> = [
    ['https://registry.example.com/x', '', false],
    ['https://registry.example.com/x', '*', true],
    ['https://registry.example.com/x', 'example.com', true],
    ['https://registry.example.com/x', '.example.com', true],
    ['https://registry.example.com/x', '*.example.com', true],
    ['https://example.com/x', '.example.com', true],
    ['https://notexample.com/x', 'example.com', false],
    ['https://registry.example.com/x', 'other.org, example.com', true],
    ['https://registry.example.com/x', 'other.org example.com', true],
    ['https://registry.example.com/x', 'example.com:443', true],
    ['https://registry.example.com/x', 'example.com:8443', false],
    ['https://registry.example.com:8443/x', 'example.com:8443', true],
    ['http://127.0.0.1:3000/x', '127.0.0.1', true],
    ['http://127.0.0.1:3000/x', 'localhost', false],
    ['http://localhost:3000/x', 'localhost', true],
    ['http://127.0.0.1:3000/x', '127.0.0.1:3000', true],
    ['http://127.0.0.1:3000/x', '127.0.0.1:4000', false],
    ['http://10.1.2.3/x', '10.0.0.0/8', true],
    ['http://11.1.2.3/x', '10.0.0.0/8', false],
    ['http://[::1]:3000/x', '::1', true],
    ['http://[::1]:3000/x', '[::1]', true],
    ['http://[::1]:3000/x', '[::1]:3000', true],
    ['http://[::1]:3000/x', '[::1]:4000', false],
    ['http://[0:0:0:0:0:0:0:1]/x', '0::1', true],
    ['http://[fd00::5]/x', 'fd00::/8', true],
    ['https://REGISTRY.Example.com/x', 'registry.EXAMPLE.com', true],
  ];
  for (const [url, noProxy, expected] of table) {
    it(`${url} with NO_PROXY=${JSON.stringify(noProxy)} → ${expected}`, () => expect(matchesNoProxy(new URL(url), noProxy)).toBe(expected));
  }
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const table: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ['0', 0],
    ['1', 1000],
    [' 120 ', 120_000],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
  ];
  for (const [value, expected] of table) {
    it(`${JSON.stringify(value)} → ${expected}`, () => expect(parseRetryAfter(value, now)).toBe(expected));
  }
});

describe('retry policy', () => {
  it('retries 408, 429 and 5xx other than 501 and 505', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([200, 304, 400, 401, 403, 404, 501, 505].some(isRetryableStatus)).toBe(false);
  });

  it('full jitter stays between 0 and the capped exponential ceiling', () => {
    const settings = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, settings, () => 0)).toBe(0);
    expect(backoffDelay(0, settings, () => 0.999)).toBe(99);
    expect(backoffDelay(2, settings, () => 0.999)).toBe(399);
    expect(backoffDelay(10, settings, () => 0.999)).toBe(999);
  });
});
