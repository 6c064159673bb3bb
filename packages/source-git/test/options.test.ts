import { createRegistry, isRegistryError, silentLogger } from '@agentos-registry/core';
import { refusedPort } from '@agentos-registry/test-servers';
import { describe, expect, test } from 'vitest';
import { GIT_SOURCE_OPTIONS, gitSource } from '../src/index.js';
import { validateGitConfig } from '../src/options.js';

const ok = { type: 'git', location: 'https://git.corp.com/extensions.git' };

describe('validateGitConfig', () => {
  test("accepts the page's configs", () => {
    expect(validateGitConfig({ ...ok, branch: 'production' })).toEqual([]);
    expect(validateGitConfig({ type: 'git', location: 'https://git.corp.com/agentos-extensions.git', branch: 'stable', token: 't' })).toEqual([]);
    expect(validateGitConfig({ ...ok, engine: 'isomorphic', username: 'oauth2', authScheme: 'bearer', sparse: false })).toEqual([]);
  });

  test('accepts the transport options of every HTTP source', () => {
    const transport = {
      proxy: 'http://proxy.corp.example:3128',
      ca: './corp-ca.pem',
      allowInsecure: false,
      timeouts: { index: 5_000, entry: 60_000, body: 30_000 },
      retries: 0,
      limits: { index: 1024, entry: 1024 ** 2 },
    };
    expect(validateGitConfig({ ...ok, ...transport })).toEqual([]);
  });

  test.each([
    [{ engine: 'jgit' }, 'engine'],
    [{ authScheme: 'digest' }, 'authScheme'],
    [{ username: 'a:b' }, 'username'],
    [{ username: '' }, 'username'],
    [{ sparse: 'yes' }, 'sparse'],
    [{ branch: '--upload-pack=x' }, 'branch'],
    [{ branch: 'a..b' }, 'branch'],
    [{ branch: 'has space' }, 'branch'],
    [{ location: 'https://u:p@host/x.git' }, 'location'],
    [{ location: 'git@host:org/x.git', engine: 'isomorphic' }, 'location'],
    [{ location: 'git://host/x.git', engine: 'isomorphic' }, 'location'],
    [{ token: 'abc\r\nX-Injected: 1' }, 'token'],
    [{ timeouts: { index: 0 } }, 'timeouts.index'],
    [{ timeouts: { entry: '60s' } }, 'timeouts.entry'],
    [{ timeouts: { total: 1000 } }, 'timeouts.total'],
    [{ timeouts: 5000 }, 'timeouts'],
    [{ limits: { entry: -1 } }, 'limits.entry'],
    [{ retries: 11 }, 'retries'],
    [{ proxy: 'socks5://proxy:1080' }, 'proxy'],
  ])('%j is a problem with %s', (fields, field) => {
    expect(validateGitConfig({ ...ok, ...fields }).map((problem) => problem.field)).toContain(field);
  });

  test('gitSource() defaults are checked too, and apply to validation', () => {
    expect(() => gitSource({ engine: 'jgit' as never })).toThrow(/engine/);
    expect(() => gitSource({ timeouts: { entry: -1 } })).toThrow(/timeouts\.entry/);
    expect(validateGitConfig({ ...ok, location: 'git@host:org/x.git' }, { engine: 'isomorphic' })[0]?.field).toBe('location');
  });
});

describe('through core', () => {
  test('declares its options, so a typo is E_CONFIG from core', async () => {
    expect(Object.keys(gitSource().options ?? {})).toEqual([...GIT_SOURCE_OPTIONS]);
    const attempt = createRegistry({ registries: { corp: { ...ok, engin: 'native' } } }, { sources: [gitSource()], env: {}, logger: silentLogger });
    await expect(attempt).rejects.toSatisfy((error: unknown) => isRegistryError(error, 'E_CONFIG'));
  });

  test('a bad option value is E_CONFIG naming the registry and field', async () => {
    const attempt = createRegistry({ registries: { corp: { ...ok, authScheme: 'digest' } } }, { sources: [gitSource()], env: {}, logger: silentLogger });
    await expect(attempt).rejects.toThrow(/corp[\s\S]*authScheme|authScheme[\s\S]*corp/);
  });
});

describe('the native engine and the transport options git has no setting for', () => {
  test('it says once which of them it does not apply, and what to do instead', async () => {
    const lines: string[] = [];
    const keep = (message: string) => {
      lines.push(message);
    };
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const location = `http://127.0.0.1:${await refusedPort()}/registry.git`;
    const registry = await createRegistry(
      { registries: { corp: { type: 'git', location, engine: 'native', ca: pem, limits: { entry: 1024 }, timeouts: { entry: 5_000 } } } },
      { sources: [gitSource()], env: {}, logger: { debug: keep, info: keep, warn: keep, error: keep } },
    );
    await registry.list().catch(() => undefined);
    await registry.list().catch(() => undefined);
    await registry.close();
    const warnings = lines.filter((line) => line.includes('does not apply'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('`ca`, `limits`');
    expect(warnings[0]).toContain('http.sslCAInfo');
    expect(warnings[0]).not.toContain('timeouts.entry`');
  });
});

describe('warnings at create', () => {
  const create = (config: Record<string, unknown>) => {
    const lines: string[] = [];
    const keep = (message: string) => {
      lines.push(message);
    };
    gitSource().create({ type: 'git', ...config } as never, {
      registry: 'corp',
      baseDir: '/',
      logger: { debug: keep, info: keep, warn: keep, error: keep },
      env: {},
    });
    return lines;
  };

  test('a token over plain http to another host is sent, with a warning; to loopback, quietly', () => {
    expect(create({ location: 'http://git.corp.com/x.git', token: 'secret-1234' }).join('\n')).toContain('plain http');
    expect(create({ location: 'http://127.0.0.1:8080/x.git', token: 'secret-1234' })).toEqual([]);
  });

  test('a token on an ssh or local location is not used, with a warning that never shows it', () => {
    const lines = create({ location: 'git@git.corp.com:org/x.git', token: 'secret-1234' });
    expect(lines.join('\n')).toContain('SSH agent');
    expect(lines.join('\n')).not.toContain('secret-1234');
    expect(create({ location: '/srv/registry.git', token: 'secret-1234' }).join('\n')).toContain('local repository');
  });
});
