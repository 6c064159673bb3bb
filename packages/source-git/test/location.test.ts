import { describe, expect, test } from 'vitest';
import { GitLocationError, parseGitLocation } from '../src/index.js';

const BASE = '/srv/config';
const HOME = '/home/agent';

describe('parseGitLocation', () => {
  test.each([
    [
      'https://git.corp.com/agentos-extensions.git',
      { transport: 'http', remote: 'https://git.corp.com/agentos-extensions.git', origin: 'https://git.corp.com' },
    ],
    ['http://127.0.0.1:8080/registry.git', { transport: 'http', remote: 'http://127.0.0.1:8080/registry.git', origin: 'http://127.0.0.1:8080' }],
    [
      'https://deploy@git.corp.com/x.git',
      { transport: 'http', remote: 'https://git.corp.com/x.git', username: 'deploy', display: 'https://git.corp.com/x.git' },
    ],
    ['HTTPS://Git.Corp.com/x.git', { transport: 'http', remote: 'https://git.corp.com/x.git' }],
    ['ssh://git@git.corp.com:2222/org/repo.git', { transport: 'ssh', remote: 'ssh://git@git.corp.com:2222/org/repo.git' }],
    ['git+ssh://git@host/org/repo.git', { transport: 'ssh', remote: 'ssh://git@host/org/repo.git' }],
    ['git@github.com:your-org/extensions.git', { transport: 'ssh', remote: 'git@github.com:your-org/extensions.git' }],
    ['corp-git:team/registry.git', { transport: 'ssh', remote: 'corp-git:team/registry.git' }],
    ['git://127.0.0.1:9418/registry.git', { transport: 'git', remote: 'git://127.0.0.1:9418/registry.git' }],
    ['file:///srv/registry.git', { transport: 'file', remote: '/srv/registry.git' }],
    ['/srv/registry.git', { transport: 'file', remote: '/srv/registry.git', display: '/srv/registry.git' }],
    ['../repos/registry', { transport: 'file', remote: '/srv/repos/registry' }],
    ['registry.git', { transport: 'file', remote: '/srv/config/registry.git' }],
    ['~/registries/x.git', { transport: 'file', remote: '/home/agent/registries/x.git' }],
    ['./a:b', { transport: 'file', remote: '/srv/config/a:b' }],
  ])('%s', (location, expected) => {
    expect(parseGitLocation(location, BASE, HOME)).toMatchObject(expected);
  });

  test.each([
    ['', 'must be the URL or path'],
    [' https://x/y.git', 'white space'],
    ['https://user:s3cret@git.corp.com/x.git', 'contains a password'],
    ['--upload-pack=touch /tmp/x', "must not start with '-'"],
    ['ext::sh -c touch% /tmp/pwned', 'remote helper'],
    ['ftp://host/repo.git', "unsupported scheme 'ftp:'"],
    ['https://x/y.git#main', '#fragment'],
    ['-oProxyCommand=x:repo', "must not start with '-'"],
    ['host:', 'no repository path'],
    ['line\nbreak', 'control characters'],
  ])('refuses %j', (location, message) => {
    expect(() => parseGitLocation(location, BASE, HOME)).toThrow(GitLocationError);
    expect(() => parseGitLocation(location, BASE, HOME)).toThrow(message);
  });

  test('a password never shows in the message', () => {
    expect(() => parseGitLocation('https://user:s3cret@git.corp.com/x.git', BASE, HOME)).not.toThrow(/s3cret/);
  });
});
