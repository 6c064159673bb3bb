import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { checkedStream, httpClientOptionsOf, integrityOf, matchesIntegrity, parseIntegrity, validateHttpSourceOptions } from '../src/index.js';

// Table-driven: the transport options every HTTP source accepts, checked the same way for each.
describe('validateHttpSourceOptions', () => {
  const fields = (config: Record<string, unknown>) => validateHttpSourceOptions({ type: 'any', location: 'x', ...config }).map((p) => p.field);

  test.each([
    [{}, []],
    [{ proxy: 'http://proxy:3128' }, []],
    [{ proxy: 'proxy:3128' }, ['proxy']],
    [{ ca: ['-----BEGIN CERTIFICATE-----', './ca.pem'] }, []],
    [{ ca: 42 }, ['ca']],
    [{ allowInsecure: 'yes' }, ['allowInsecure']],
    [{ timeouts: { connect: 1000, headers: 2000, body: 3000, index: 4000, entry: 5000 } }, []],
    [{ timeouts: { header: 1000 } }, ['timeouts.header']],
    [{ timeouts: { total: 1000 } }, ['timeouts.total']],
    [{ timeouts: { body: 0 } }, ['timeouts.body']],
    [{ timeouts: { entry: 2 ** 31 } }, ['timeouts.entry']],
    [{ timeouts: 5 }, ['timeouts']],
    [{ retries: 0 }, []],
    [{ retries: 11 }, ['retries']],
    [{ retries: 1.5 }, ['retries']],
    [{ limits: { index: 1024, entry: 2 ** 33 } }, []],
    [{ limits: { index: 0 } }, ['limits.index']],
    [{ limits: { entry: '1GiB' } }, ['limits.entry']],
    [{ limits: { archive: 1 } }, ['limits.archive']],
    [{ limits: [] }, ['limits']],
  ])('%j → problems in %j', (config, expected) => {
    expect(fields(config)).toEqual(expected);
  });

  test('httpClientOptionsOf passes the options on and reads a CA file relative to the config folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'registry-options-'));
    try {
      await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nfile\n-----END CERTIFICATE-----\n');
      const options = httpClientOptionsOf(
        { type: 'github', location: 'o/r', proxy: 'http://proxy:3128', ca: './ca.pem', retries: 1, timeouts: { index: 5000 }, limits: { entry: 2048 } },
        { registry: 'corp', baseDir: dir },
      );
      expect(options).toEqual({
        proxy: 'http://proxy:3128',
        ca: ['-----BEGIN CERTIFICATE-----\nfile\n-----END CERTIFICATE-----\n'],
        retries: 1,
        timeouts: { index: 5000 },
        limits: { entry: 2048 },
      });
      expect(() => httpClientOptionsOf({ type: 'url', location: 'x', ca: './missing.pem' }, { registry: 'corp', baseDir: dir })).toThrow(
        /registries\.corp\.ca/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('integrity', () => {
  const bytes = Buffer.from('the published tarball');
  const sha = (algorithm: string) => `${algorithm}-${createHash(algorithm).update(bytes).digest('base64')}`;

  test('integrityOf and matchesIntegrity agree; the strongest algorithm decides', () => {
    expect(integrityOf(bytes)).toBe(sha('sha512'));
    expect(matchesIntegrity(bytes, parseIntegrity(`${sha('sha256')} ${integrityOf(Buffer.from('x'))}`)!)).toBe(false);
    expect(parseIntegrity('sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=')).toBeUndefined();
    expect(parseIntegrity('sha512-tooShort==')).toBeUndefined();
  });

  test('checkedStream passes the bytes on unchanged and matches only once they have all been read', async () => {
    const check = checkedStream(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), parseIntegrity(sha('sha384'))!);
    expect(check.matches()).toBe(false);
    const out: Buffer[] = [];
    for await (const chunk of check.stream) out.push(chunk as Buffer);
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
    expect(check.matches()).toBe(true);

    const tampered = checkedStream(Readable.from([Buffer.from('other bytes')]), parseIntegrity(sha('sha512'))!);
    for await (const _ of tampered.stream) {
      // drained
    }
    expect(tampered.matches()).toBe(false);
  });

  test('checkedStream is lazy, and passes a failure of its source on', async () => {
    let pulled = false;
    async function* failing() {
      pulled = true;
      yield Buffer.from('part');
      throw new Error('connection lost');
    }
    const check = checkedStream(failing(), parseIntegrity(sha('sha512'))!);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Nothing was read before a consumer asked: a consumer that subscribes late still sees the failure.
    expect(pulled).toBe(false);
    await expect(
      (async () => {
        for await (const _ of check.stream) {
          // reading
        }
      })(),
    ).rejects.toThrow('connection lost');
    expect(check.matches()).toBe(false);
  });
});
