import { createRegistry, isRegistryError, silentLogger } from '@agentos-registry/core';
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
  ])('%j is a problem with %s', (fields, field) => {
    expect(validateGitConfig({ ...ok, ...fields }).map((problem) => problem.field)).toContain(field);
  });

  test('gitSource() defaults are checked too, and apply to validation', () => {
    expect(() => gitSource({ engine: 'jgit' as never })).toThrow(/engine/);
    expect(validateGitConfig({ ...ok, location: 'git@host:org/x.git' }, { engine: 'isomorphic' })[0]?.field).toBe('location');
  });
});

describe('through core', () => {
  test('declares its options, so a typo is E_CONFIG from core', async () => {
    expect(gitSource().options).toEqual([...GIT_SOURCE_OPTIONS]);
    const attempt = createRegistry({ registries: { corp: { ...ok, engin: 'native' } } }, { sources: [gitSource()], env: {}, logger: silentLogger });
    await expect(attempt).rejects.toSatisfy((error: unknown) => isRegistryError(error, 'E_CONFIG'));
  });

  test('a bad option value is E_CONFIG naming the registry and field', async () => {
    const attempt = createRegistry({ registries: { corp: { ...ok, authScheme: 'digest' } } }, { sources: [gitSource()], env: {}, logger: silentLogger });
    await expect(attempt).rejects.toThrow(/corp[\s\S]*authScheme|authScheme[\s\S]*corp/);
  });
});

describe('warnings at create', () => {
  const create = (config: Record<string, unknown>) => {
    const lines: string[] = [];
    const keep = (message: string) => {
      lines.push(message);
    };
    gitSource().create({ type: 'git', ...config } as never, { registry: 'corp', baseDir: '/', logger: { debug: keep, info: keep, warn: keep, error: keep }, env: {} });
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
