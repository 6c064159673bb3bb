import { createHash } from 'node:crypto';
import { matchesIntegrity, parseIntegrity } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { validateUrlConfig } from '../src/config.js';
import { integrityOf, urlSource } from '../src/index.js';
import { parseSiteLocation } from '../src/location.js';

describe('location', () => {
  test.each([
    ['https://extensions.yourcompany.example', 'https://extensions.yourcompany.example/', 'https://extensions.yourcompany.example/registry.json'],
    ['https://host/agentos', 'https://host/agentos/', 'https://host/agentos/registry.json'],
    ['https://host/agentos/', 'https://host/agentos/', 'https://host/agentos/registry.json'],
    ['https://host/agentos/registry.json', 'https://host/agentos/', 'https://host/agentos/registry.json'],
    ['  http://127.0.0.1:8080  ', 'http://127.0.0.1:8080/', 'http://127.0.0.1:8080/registry.json'],
  ])('%s → folder %s', (location, base, index) => {
    const site = parseSiteLocation(location);
    expect([site.base.href, site.index.href]).toEqual([base, index]);
  });
});

describe('validate', () => {
  const problems = (config: Record<string, unknown>) => validateUrlConfig({ type: 'url', location: 'https://r.example.com', ...config }).map((p) => p.field);

  test.each([
    [{}, []],
    [{ location: 'registry.example.com' }, ['location']],
    [{ location: 'ftp://registry.example.com' }, ['location']],
    [{ location: 'https://user:pw@registry.example.com' }, ['location']],
    [{ location: 'https://registry.example.com/?sig=abc' }, ['location']],
    [{ location: 'http://registry.example.com' }, ['location']],
    [{ location: 'http://registry.example.com', allowInsecure: true }, []],
    [{ location: 'http://localhost:8080' }, []],
    [{ headers: { 'X-Api-Key': 'k' } }, []],
    [{ headers: { 'X-Api-Key': 3 } }, ['headers']],
    [{ headers: { Authorization: 'Basic x' }, token: 't' }, ['headers']],
    [{ proxy: 'http://proxy:3128' }, []],
    [{ proxy: 'proxy:3128' }, ['proxy']],
    [{ ca: ['-----BEGIN CERTIFICATE-----', './ca.pem'] }, []],
    [{ ca: 42 }, ['ca']],
    [{ allowInsecure: 'yes' }, ['allowInsecure']],
    [{ timeouts: { connect: 1000, headers: 2000, body: 3000 } }, []],
    [{ timeouts: { header: 1000 } }, ['timeouts.header']],
    [{ timeouts: { body: 0 } }, ['timeouts.body']],
    [{ timeouts: { index: 5000, entry: 60000 } }, []],
    [{ timeouts: { total: 5000 } }, ['timeouts.total']],
    [{ limits: { index: 1024, entry: 2 ** 31 } }, []],
    [{ limits: { index: 0.5 } }, ['limits.index']],
    [{ limits: { archive: 10 } }, ['limits.archive']],
    [{ limits: 10 }, ['limits']],
    [{ retries: 0 }, []],
    [{ retries: 11 }, ['retries']],
    [{ retries: 1.5 }, ['retries']],
  ])('%j → problems in %j', (config, fields) => {
    expect(problems(config)).toEqual(fields);
  });

  test('the adapter declares its options, so core refuses typos with a hint', () => {
    expect(urlSource().options).toEqual(['headers', 'proxy', 'ca', 'allowInsecure', 'timeouts', 'retries', 'limits']);
    expect(urlSource().type).toBe('url');
  });
});

describe('integrity', () => {
  const bytes = Buffer.from('some tarball bytes');
  const sha = (algorithm: string) => `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;

  test('sha512 SRI, as npm writes it', () => {
    expect(integrityOf(bytes)).toBe(sha('sha512'));
    expect(matchesIntegrity(bytes, parseIntegrity(integrityOf(bytes))!)).toBe(true);
    expect(matchesIntegrity(Buffer.from('other bytes'), parseIntegrity(integrityOf(bytes))!)).toBe(false);
  });

  test('the strongest algorithm decides; any of its digests may match; options are ignored', () => {
    const wrong512 = integrityOf(Buffer.from('x'));
    expect(parseIntegrity(`${sha('sha256')} ${wrong512}`)).toEqual({ algorithm: 'sha512', digests: [wrong512.slice(7)] });
    expect(matchesIntegrity(bytes, parseIntegrity(`${sha('sha256')} ${wrong512}`)!)).toBe(false);
    expect(matchesIntegrity(bytes, parseIntegrity(`${wrong512} ${sha('sha512')}?opt`)!)).toBe(true);
    expect(matchesIntegrity(bytes, parseIntegrity(sha('sha384'))!)).toBe(true);
  });

  test.each(['', 'sha1-AAAA', 'md5-abc', 'sha512-tooShort==', 'sha512:abc', 'not an integrity'])('%j is not usable', (value) => {
    expect(parseIntegrity(value)).toBeUndefined();
  });
});
