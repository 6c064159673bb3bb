import { describe, expect, test } from 'vitest';
import { authorizationValue, defaultUsername } from '../src/auth.js';
import { classifyGitMessage, gitReason } from '../src/errors.js';
import { configVariables, gitEnvironment, tokenConfig } from '../src/native/environment.js';

const V239 = { major: 2, minor: 39 };
const V230 = { major: 2, minor: 30 };

describe('gitEnvironment', () => {
  const ambient = {
    PATH: '/usr/bin',
    HOME: '/home/agent',
    SSH_AUTH_SOCK: '/run/agent.sock',
    HTTPS_PROXY: 'http://proxy:3128',
    GIT_DIR: '/somewhere/else/.git',
    GIT_TRACE_CURL: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_SSL_CAINFO: '/etc/corp-ca.pem',
    EDITOR: 'vim',
    SSH_ASKPASS: '/usr/bin/ksshaskpass',
    LANG: 'de_DE.UTF-8',
  };
  const env = gitEnvironment({ ambient, version: V239, config: [['gc.auto', '0']], gitDir: '/cache/work/native.git' });

  test('keeps what transports need and drops ambient GIT_* variables and program hooks', () => {
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/home/agent',
      SSH_AUTH_SOCK: '/run/agent.sock',
      HTTPS_PROXY: 'http://proxy:3128',
      GIT_SSL_CAINFO: '/etc/corp-ca.pem',
    });
    for (const dropped of ['GIT_TRACE_CURL', 'EDITOR', 'SSH_ASKPASS']) expect(env).not.toHaveProperty(dropped);
    expect(Object.values(env)).not.toContain('http.extraHeader');
    expect(env.GIT_DIR).toBe('/cache/work/native.git');
  });

  test('never lets git wait for a person', () => {
    expect(env).toMatchObject({ GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', GCM_INTERACTIVE: 'never', LC_ALL: 'C' });
  });

  test('per-command config goes through GIT_CONFIG_COUNT on git ≥ 2.31, and replaces the ambient one', () => {
    expect(env).toMatchObject({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'gc.auto', GIT_CONFIG_VALUE_0: '0' });
  });

  test('an ssh command with BatchMode is set unless the user has one', () => {
    expect(gitEnvironment({ ambient: {}, version: V239, config: [], sshCommand: 'ssh -o BatchMode=yes' }).GIT_SSH_COMMAND).toBe('ssh -o BatchMode=yes');
    expect(gitEnvironment({ ambient: { GIT_SSH_COMMAND: 'ssh -i key' }, version: V239, config: [], sshCommand: 'ssh -o BatchMode=yes' }).GIT_SSH_COMMAND).toBe(
      'ssh -i key',
    );
    expect(gitEnvironment({ ambient: { GIT_SSH: '/usr/bin/plink' }, version: V239, config: [], sshCommand: 'x' })).not.toHaveProperty('GIT_SSH_COMMAND');
  });
});

describe('configVariables', () => {
  test('GIT_CONFIG_PARAMETERS, shell-quoted, for git 2.25–2.30', () => {
    expect(
      configVariables(
        [
          ['a.b', "it's"],
          ['c.d', ''],
        ],
        V230,
      ),
    ).toEqual({ GIT_CONFIG_PARAMETERS: `'a.b=it'\\''s' 'c.d='` });
  });
  test('nothing for no config', () => {
    expect(configVariables([], V239)).toEqual({});
  });
});

describe('token config', () => {
  test('scopes the header to the repository URL, resets credential helpers and stops redirects', () => {
    expect(tokenConfig('https://git.corp.com/x.git', 'Bearer t0k3n')).toEqual([
      ['credential.helper', ''],
      ['http.followRedirects', 'false'],
      ['http.https://git.corp.com/x.git.extraHeader', 'Authorization: Bearer t0k3n'],
    ]);
  });

  test.each([
    ['https://gitlab.corp.com', 'oauth2'],
    ['https://bitbucket.org', 'x-token-auth'],
    ['https://github.com', 'x-access-token'],
    ['https://git.corp.com', 'x-access-token'],
    [undefined, 'x-access-token'],
  ])('default username for %s is %s', (origin, name) => {
    expect(defaultUsername(origin)).toBe(name);
  });

  test('Basic and Bearer values', () => {
    expect(authorizationValue('t0k3n', 'bearer', 'ignored')).toBe('Bearer t0k3n');
    expect(authorizationValue('t0k3n', 'basic', 'x-access-token')).toBe(`Basic ${Buffer.from('x-access-token:t0k3n').toString('base64')}`);
  });
});

describe('classifyGitMessage', () => {
  test.each([
    ["fatal: could not read Username for 'https://git.corp.com': terminal prompts disabled", 'auth'],
    ["fatal: Authentication failed for 'https://git.corp.com/x.git/'", 'auth'],
    ["fatal: unable to access 'https://git.corp.com/x.git/': The requested URL returned error: 403", 'auth'],
    ['git@host: Permission denied (publickey).\r\nfatal: Could not read from remote repository.', 'auth'],
    ["fatal: repository 'http://127.0.0.1:1/nope.git/' not found", 'repo-not-found'],
    ["fatal: '/nonexist' does not appear to be a git repository", 'repo-not-found'],
    ['fatal: remote error: no such repository: /nope.git', 'repo-not-found'],
    ["fatal: unable to access 'http://127.0.0.1:1/x.git/': Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server", 'unreachable'],
    ['error: RPC failed; curl 18 transfer closed with outstanding read data remaining\nfatal: protocol error: bad pack header', 'unreachable'],
    ["fatal: unable to access 'https://x/': Could not resolve host: x", 'unreachable'],
    ['fatal: remote error: upload-pack: not our ref 0123456789012345678901234567890123456789', 'object-not-found'],
    ["fatal: unable to access 'https://x/y.git/': The requested URL returned error: 302", 'redirect'],
    // The fetch of a pack answered with something else (an endless body of junk): a fault on the way, not git's.
    ["fatal: expected 'packfile', received 'aaaaaaaaaaaaaaaaaaaa'", 'unreachable'],
    ["fatal: Unable to create '/cache/native.git/shallow.lock': File exists.", 'unknown'],
  ])('%s', (message, failure) => {
    expect(classifyGitMessage(message)).toBe(failure);
  });

  test('gitReason keeps the fatal lines', () => {
    expect(gitReason('From x\nremote: counting\nerror: RPC failed\nfatal: early EOF\n')).toBe('error: RPC failed fatal: early EOF');
  });

  test('gitReason leaves out the bytes git quotes from an answer it could not parse', () => {
    expect(gitReason('fatal: protocol error: bad line length character: \u001b]0;\n')).toBe('fatal: protocol error: bad line length character: (not shown)');
    expect(gitReason('fatal: remote-curl: bad line length character: \ufffd>:\ufffd\nfatal: the remote end hung up unexpectedly\n')).toBe(
      'fatal: remote-curl: bad line length character: (not shown) fatal: the remote end hung up unexpectedly',
    );
    expect(gitReason("fatal: invalid server response; got 'root:x:0:0'\n")).toBe('fatal: invalid server response; got (not shown)');
    expect(gitReason("fatal: expected 'packfile', received 'aaaa\u001b[2Jaaaa'\n")).toBe("fatal: expected 'packfile', received (not shown)");
  });
});
