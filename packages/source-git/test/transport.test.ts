import { DEFAULT_HTTP_TIMEOUTS } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { purposeOf } from '../src/isomorphic/http-client.js';
import { gitTransport, mergedTransportOptions } from '../src/transport.js';

const config = { type: 'git', location: 'https://git.corp.com/extensions.git' };
const context = { registry: 'corp', baseDir: '/' };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('gitTransport', () => {
  test("without options: core's default deadlines, and nothing for git beyond its base config", () => {
    const transport = gitTransport(config, {}, context);
    expect(transport.deadlines).toEqual({ index: DEFAULT_HTTP_TIMEOUTS.index, entry: DEFAULT_HTTP_TIMEOUTS.entry });
    expect(transport.http).toEqual({});
    expect(transport.nativeConfig).toEqual([]);
    expect(transport.notForNative).toEqual([]);
  });

  test("the isomorphic engine gets every option through core's httpClientOptionsOf", () => {
    const options = { proxy: 'http://proxy:3128', ca: PEM, timeouts: { index: 5_000, connect: 1_000 }, retries: 0, limits: { entry: 1024 } };
    // `ca` comes back as a list of PEM texts (a file path would have been read).
    expect(gitTransport({ ...config, ...options }, {}, context).http).toEqual({ ...options, ca: [PEM] });
  });

  test.each([
    [{ timeouts: { index: 5_000 } }, { index: 5_000, entry: DEFAULT_HTTP_TIMEOUTS.entry }],
    [{ timeouts: { entry: 7_000 } }, { index: DEFAULT_HTTP_TIMEOUTS.index, entry: 7_000 }],
    [{ timeouts: { body: 1_000 } }, { index: DEFAULT_HTTP_TIMEOUTS.index, entry: DEFAULT_HTTP_TIMEOUTS.entry }],
  ])('deadlines of %j: %j', (options, deadlines) => {
    expect(gitTransport({ ...config, ...options }, {}, context).deadlines).toEqual(deadlines);
  });

  test.each([
    [{ proxy: 'http://proxy:3128' }, [['http.proxy', 'http://proxy:3128']], []],
    // git's low-speed time is whole seconds, at least one.
    [{ timeouts: { body: 30_000 } }, [['http.lowSpeedTime', '30']], []],
    [{ timeouts: { body: 1_500 } }, [['http.lowSpeedTime', '2']], []],
    [{ timeouts: { body: 10 } }, [['http.lowSpeedTime', '1']], []],
    [{ timeouts: { index: 1_000, entry: 2_000 } }, [], []],
    [
      { ca: PEM, limits: { entry: 1 }, retries: 1, timeouts: { connect: 1, headers: 1 } },
      [],
      ['ca', 'limits', 'retries', 'timeouts.connect', 'timeouts.headers'],
    ],
  ])('native engine, %j: git config %j, not applied %j', (options, nativeConfig, notForNative) => {
    const transport = gitTransport({ ...config, ...options }, {}, context);
    expect(transport.nativeConfig).toEqual(nativeConfig);
    expect(transport.notForNative).toEqual(notForNative);
  });
});

describe('mergedTransportOptions', () => {
  test("a registry's value wins over gitSource() defaults; timeouts and limits merge field by field", () => {
    const defaults = { proxy: 'http://default:3128', retries: 1, timeouts: { index: 1_000, entry: 2_000 }, limits: { index: 10 } };
    const merged = mergedTransportOptions({ ...config, proxy: 'http://own:3128', timeouts: { entry: 5_000 }, limits: { entry: 20 } }, defaults);
    expect(merged).toMatchObject({ proxy: 'http://own:3128', retries: 1, timeouts: { index: 1_000, entry: 5_000 }, limits: { index: 10, entry: 20 } });
    expect(gitTransport(config, defaults, context).deadlines).toEqual({ index: 1_000, entry: 2_000 });
  });
});

describe('purposeOf (isomorphic engine)', () => {
  test.each([
    [{ method: 'GET', url: 'https://git.corp.com/x.git/info/refs?service=git-upload-pack' }, 'index'],
    [{ url: 'https://git.corp.com/x.git/info/refs?service=git-upload-pack' }, 'index'],
    [{ method: 'POST', url: 'https://git.corp.com/x.git/git-upload-pack' }, 'entry'],
    [{ method: 'GET', url: 'https://git.corp.com/x.git/objects/info/packs' }, 'entry'],
  ])('%j is an %s request', (request, purpose) => {
    expect(purposeOf(request)).toBe(purpose);
  });
});
