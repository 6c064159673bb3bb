import { describe, expect, test } from 'vitest';
import { resolveGitHubLocation } from '../src/index.js';
import { splitTreePath } from '../src/location.js';

// Table-driven and pure: no network, no emulator.
describe('resolveGitHubLocation', () => {
  const github = { apiBase: 'https://api.github.com', webOrigin: 'https://github.com' };
  const ghes = { apiBase: 'https://ghe.example.com/api/v3', webOrigin: 'https://ghe.example.com' };
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['owner/repo', { location: 'your-org/extensions' }, { owner: 'your-org', repo: 'extensions', subdir: '', ...github }],
    ['owner/repo.git', { location: 'your-org/extensions.git' }, { owner: 'your-org', repo: 'extensions' }],
    ['a branch', { location: 'your-org/extensions', branch: 'main' }, { ref: 'main' }],
    ['a subdir option', { location: 'your-org/mono', subdir: '/agentos/registry/' }, { subdir: 'agentos/registry' }],
    ['a repository URL', { location: 'https://github.com/your-org/extensions' }, { owner: 'your-org', repo: 'extensions', ...github }],
    ['www and .git', { location: 'https://www.github.com/your-org/extensions.git/' }, { repo: 'extensions', ...github }],
    ['a tree URL', { location: 'https://github.com/your-org/mono/tree/main/agentos/registry' }, { ref: 'main', subdir: 'agentos/registry' }],
    ['a tree URL of a branch', { location: 'https://github.com/your-org/mono/tree/stable' }, { ref: 'stable', subdir: '' }],
    ['a slashed branch told by `branch`', { location: 'https://github.com/o/r/tree/feature/x/reg', branch: 'feature/x' }, { ref: 'feature/x', subdir: 'reg' }],
    ['an escaped folder in a tree URL', { location: 'https://github.com/o/r/tree/main/my%20folder' }, { ref: 'main', subdir: 'my folder' }],
    ['a malformed escape is kept as typed, not a URIError', { location: 'https://github.com/o/r/tree/main/%zz' }, { ref: 'main', subdir: '%zz' }],
    ['a tree URL and the same subdir', { location: 'https://github.com/o/r/tree/main/reg', subdir: 'reg' }, { subdir: 'reg' }],
    ['an scp-style git URL', { location: 'git@github.com:your-org/extensions.git' }, { owner: 'your-org', repo: 'extensions', ...github }],
    ['a GHES URL derives the API', { location: 'https://ghe.example.com/corp/agentos-extensions' }, { owner: 'corp', ...ghes }],
    ['GHES baseUrl with owner/repo', { location: 'corp/ext', baseUrl: 'https://ghe.example.com/api/v3/' }, ghes],
    [
      'GHES baseUrl and a URL on that host',
      { location: 'https://ghe.example.com/corp/ext/tree/stable', baseUrl: 'https://ghe.example.com/api/v3' },
      { ref: 'stable', ...ghes },
    ],
    ['api.github.com as baseUrl', { location: 'https://github.com/o/r', baseUrl: 'https://api.github.com' }, github],
  ];
  test.each(cases)('%s', (_, config, expected) => {
    expect(resolveGitHubLocation(config as { location: string })).toMatchObject(expected);
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['empty', { location: '' }, 'location'],
    ['one segment', { location: 'extensions' }, 'location'],
    ['three segments', { location: 'a/b/c' }, 'location'],
    ['a bad owner', { location: '-org/x' }, 'location'],
    ['credentials in the URL', { location: 'https://user:ghp_x@github.com/o/r' }, 'location'],
    ['an API URL', { location: 'https://api.github.com/repos/o/r' }, 'location'],
    ['a blob URL', { location: 'https://github.com/o/r/blob/main/registry.json' }, 'location'],
    ['an ftp URL', { location: 'ftp://github.com/o/r' }, 'location'],
    ['branch against the URL', { location: 'https://github.com/o/r/tree/main', branch: 'dev' }, 'branch'],
    ['subdir against the URL', { location: 'https://github.com/o/r/tree/main/a', subdir: 'b' }, 'subdir'],
    ['a subdir that climbs', { location: 'o/r', subdir: 'a/../../b' }, 'subdir'],
    ['a baseUrl that is no URL', { location: 'o/r', baseUrl: 'ghe.example.com' }, 'baseUrl'],
    ['a baseUrl with credentials', { location: 'o/r', baseUrl: 'https://u:p@ghe.example.com/api/v3' }, 'baseUrl'],
    ['a URL on another host than baseUrl', { location: 'https://github.com/o/r', baseUrl: 'https://ghe.example.com/api/v3' }, 'location'],
    ['an empty branch', { location: 'o/r', branch: ' ' }, 'branch'],
  ];
  test.each(refused)('refuses %s', (_, config, field) => {
    let thrown: unknown;
    try {
      resolveGitHubLocation(config as { location: string });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'E_CONFIG', details: { field } });
    expect((thrown as Error).message).not.toContain('ghp_x');
  });
});

describe('splitTreePath', () => {
  test.each([
    ['main', undefined, { ref: 'main', subdir: '' }],
    ['main/a/b', undefined, { ref: 'main', subdir: 'a/b' }],
    ['feature/x/a', 'feature/x', { ref: 'feature/x', subdir: 'a' }],
    ['feature/x', 'feature/x', { ref: 'feature/x', subdir: '' }],
    ['main/a', 'mai', { ref: 'main', subdir: 'a' }],
  ] as const)('%s with branch %s', (path, branch, expected) => {
    expect(splitTreePath(path, branch)).toEqual(expected);
  });
});
