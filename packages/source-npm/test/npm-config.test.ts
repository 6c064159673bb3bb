import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redact } from '@agentos-registry/core';
import { describe, expect, test } from 'vitest';
import { defaultRegistry, nerfDart, parseNpmrc, parsePackageSpec, resolveNpmSettings } from '../src/index.js';
import { toNpmError } from '../src/npm-errors.js';
import { isExactVersion } from '../src/package-spec.js';
import { rejectionOf, tempDir } from './support/packages.js';

/** A folder with a user .npmrc and a project (package.json + .npmrc), each optional. */
async function machine(files: { user?: string; project?: string }): Promise<{ home: string; project: string }> {
  const root = await tempDir('machine');
  const home = join(root, 'home');
  const project = join(root, 'project');
  await mkdir(home);
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'package.json'), '{}');
  if (files.user !== undefined) await writeFile(join(home, '.npmrc'), files.user);
  if (files.project !== undefined) await writeFile(join(project, '.npmrc'), files.project);
  return { home, project };
}

const settings = (input: Partial<Parameters<typeof resolveNpmSettings>[0]> & { env: Record<string, string | undefined>; baseDir: string }) =>
  resolveNpmSettings({ packageName: '@acme/registry', registryName: 'official', ...input });

describe('parseNpmrc', () => {
  test.each([
    ['key = value', { key: 'value' }],
    ['; comment\n# comment\n\nregistry=https://a.example/', { registry: 'https://a.example/' }],
    ['quoted="a b"\nsingle=\'c d\'', { quoted: 'a b', single: 'c d' }],
    ['//h.example/:_authToken=${TOKEN}', { '//h.example/:_authToken': 'tok-123' }],
    ['unset=${NOPE}\noptional=x${NOPE?}y', { unset: '${NOPE}', optional: 'xy' }],
    ['escaped=\\${TOKEN}', { escaped: '${TOKEN}' }],
    ['top=1\n[section]\ninner=2', { top: '1' }],
    ['list[]=a\nplain', {}],
    ['@acme:registry=https://npm.acme.example/\r\nstrict-ssl=false\r\n', { '@acme:registry': 'https://npm.acme.example/', 'strict-ssl': 'false' }],
  ])('%j', (text, expected) => {
    expect(Object.fromEntries(parseNpmrc(text, { TOKEN: 'tok-123' }))).toEqual(expected);
  });
});

describe('nerfDart', () => {
  test.each([
    ['https://registry.example.test/', '//registry.example.test/'],
    ['https://npm.acme.example/repository/npm/', '//npm.acme.example/repository/npm/'],
    ['https://npm.acme.example/repository/npm', '//npm.acme.example/repository/'],
    ['http://127.0.0.1:4873/', '//127.0.0.1:4873/'],
  ])('%s → %s', (url, dart) => expect(nerfDart(url)).toBe(dart));
});

describe('parsePackageSpec', () => {
  test.each([
    ['left-pad', { name: 'left-pad', selector: 'latest' }],
    ['left-pad@1.3.0', { name: 'left-pad', selector: '1.3.0' }],
    ['@framers/agentos-extensions', { name: '@framers/agentos-extensions', selector: 'latest' }],
    ['@framers/agentos-ext-web-search@^1.2', { name: '@framers/agentos-ext-web-search', selector: '^1.2' }],
    ['x@>=1 <2', { name: 'x', selector: '>=1 <2' }],
  ])('%s', (spec, expected) => expect(parsePackageSpec(spec)).toEqual(expected));

  test.each(['https://x.example/a.tgz', 'git+ssh://git@x/y.git', 'file:../a', './a', '@scope', '@scope/', 'a/b', '.hidden', 'a@npm:b'])(
    '%s is refused',
    (spec) => {
      expect(() => parsePackageSpec(spec)).toThrow(TypeError);
    },
  );

  test.each([
    ['1.2.3', true],
    ['1.2.3-beta.1', true],
    ['^1.2.3', false],
    ['latest', false],
    ['1.x', false],
  ])('isExactVersion(%s) = %s', (selector, exact) => expect(isExactVersion(selector)).toBe(exact));
});

describe('resolveNpmSettings: which registry, which credential', () => {
  test('nothing configured: the public registry, no credential', async () => {
    const { home, project } = await machine({});
    const result = settings({ env: { HOME: home }, baseDir: project });
    expect(result.registry).toBe(defaultRegistry());
    expect(result.registrySource).toBe('default');
    expect(result.authenticated).toBe(false);
  });

  test('user .npmrc registry, then project .npmrc beats it, then a scoped registry beats both, then the option beats all', async () => {
    const user = 'registry=https://user.example/\n';
    const project = 'registry=https://project.example/\n';
    const scoped = '@acme:registry=https://scoped.example/npm/\n';
    let m = await machine({ user });
    expect(settings({ env: { HOME: m.home }, baseDir: m.project }).registry).toBe('https://user.example/');
    m = await machine({ user, project });
    expect(settings({ env: { HOME: m.home }, baseDir: join(m.project, 'src') }).registry).toBe('https://project.example/');
    m = await machine({ user: user + scoped, project });
    expect(settings({ env: { HOME: m.home }, baseDir: m.project }).registry).toBe('https://scoped.example/npm/');
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, packageName: 'unscoped' }).registry).toBe('https://project.example/');
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, registry: 'https://option.example' }).registry).toBe('https://option.example/');
  });

  test('npm_config_* variables beat the files; npm_config_userconfig and the npmrc option pick the user file', async () => {
    const m = await machine({ user: 'registry=https://user.example/\n' });
    const other = join(m.home, 'other-npmrc');
    await writeFile(other, 'registry=https://other.example/\n');
    expect(settings({ env: { HOME: m.home, npm_config_registry: 'https://env.example/' }, baseDir: m.project }).registry).toBe('https://env.example/');
    expect(settings({ env: { HOME: m.home, npm_config_userconfig: other }, baseDir: m.project }).registry).toBe('https://other.example/');
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, npmrc: other }).registry).toBe('https://other.example/');
    expect(settings({ env: { HOME: m.home, npm_config_registry: 'https://env.example/' }, baseDir: m.project, npmrc: false }).registry).toBe(defaultRegistry());
  });

  test('the token is filed under the registry’s nerf dart only, and pins the scope to that registry', async () => {
    const m = await machine({ user: '@acme:registry=https://elsewhere.example/\n' });
    const result = settings({ env: { HOME: m.home }, baseDir: m.project, registry: 'https://npm.acme.example/repo/', token: 'tok-abcdef' });
    expect(result.options).toMatchObject({
      registry: 'https://npm.acme.example/repo/',
      '@acme:registry': 'https://npm.acme.example/repo/',
      '//npm.acme.example/repo/:_authToken': 'tok-abcdef',
    });
    const credentialKeys = Object.keys(result.options).filter((key) => key.includes(':_auth'));
    expect(credentialKeys).toEqual(['//npm.acme.example/repo/:_authToken']);
    expect(result.authenticated).toBe(true);
  });

  test('.npmrc credentials are passed on, marked as authenticated only for their registry, and redacted', async () => {
    const m = await machine({
      user: 'registry=https://npm.acme.example/\n//npm.acme.example/:_authToken=${NPM_TOKEN}\n//other.example/:_authToken=other-secret-1\n',
    });
    const result = settings({ env: { HOME: m.home, NPM_TOKEN: 'npmrc-secret-42' }, baseDir: m.project });
    expect(result.authenticated).toBe(true);
    expect(result.options['//npm.acme.example/:_authToken']).toBe('npmrc-secret-42');
    expect(result.options['//other.example/:_authToken']).toBe('other-secret-1');
    expect(redact('npmrc-secret-42 and other-secret-1')).toBe('[REDACTED] and [REDACTED]');
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, registry: 'https://third.example/' }).authenticated).toBe(false);
  });

  test('network settings are translated for npm-registry-fetch', async () => {
    const m = await machine({ user: 'https-proxy=http://proxy.example:3128\nnoproxy=localhost\nstrict-ssl=false\nfetch-retries=4\nfetch-timeout=9000\n' });
    expect(settings({ env: { HOME: m.home }, baseDir: m.project }).options).toMatchObject({
      httpsProxy: 'http://proxy.example:3128',
      noProxy: 'localhost',
      strictSSL: false,
      fetchRetries: 4,
      timeout: 9000,
    });
  });

  test("the registry's own proxy, ca and retries (core's transport options) beat .npmrc's; a ca path is read from baseDir", async () => {
    const m = await machine({ user: 'proxy=http://npmrc-proxy.example:3128\nhttps-proxy=http://npmrc-proxy.example:3128\nca=NPMRC-CA\nfetch-retries=4\n' });
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    await writeFile(join(m.project, 'corp-ca.pem'), pem);
    const transport = { proxy: 'http://corp-proxy.example:8080', ca: 'corp-ca.pem', retries: 0 };
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, transport }).options).toMatchObject({
      proxy: 'http://corp-proxy.example:8080',
      httpsProxy: 'http://corp-proxy.example:8080',
      ca: [pem],
      fetchRetries: 0,
    });
    // Unset, .npmrc's stay.
    expect(settings({ env: { HOME: m.home }, baseDir: m.project, transport: {} }).options).toMatchObject({
      httpsProxy: 'http://npmrc-proxy.example:3128',
      ca: 'NPMRC-CA',
      fetchRetries: 4,
    });
  });

  test.each([
    [{ proxy: 'socks5://proxy.example:1080' }, 'proxy', 'http:// or https:// proxy URL'],
    [{ ca: 42 }, 'ca', 'PEM text or the path of a PEM file'],
    [{ retries: 11 }, 'retries', 'whole number from 0 to 10'],
  ])("an invalid %j is E_CONFIG naming %s in core's words", async (transport, field, message) => {
    const error = await rejectionOf((async () => settings({ env: {}, baseDir: await tempDir('base'), npmrc: false, transport: transport as never }))());
    expect([error.code, (error as { details?: { field?: string } }).details?.field]).toEqual(['E_CONFIG', field]);
    expect(error.message).toContain(message);
  });

  test('a registry URL with credentials in .npmrc is E_CONFIG, without the password', async () => {
    const m = await machine({ user: 'registry=https://bob:hunter22@npm.example/\n' });
    const error = await rejectionOf((async () => settings({ env: { HOME: m.home }, baseDir: m.project }))());
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).not.toContain('hunter22');
  });
});

describe('toNpmError', () => {
  const context = {
    registry: 'official',
    name: '@acme/registry',
    selector: '^2',
    registryUrl: 'https://npm.acme.example/',
    authenticated: false,
    action: 'Resolving',
  };
  test.each([
    [{ code: 'E404', statusCode: 404 }, 'E_NOT_FOUND'],
    [{ code: 'ETARGET', versions: ['1.0.0'], distTags: { latest: '1.0.0' } }, 'E_NOT_FOUND'],
    [{ code: 'E401', statusCode: 401 }, 'E_AUTH'],
    [{ code: 'E403', statusCode: 403 }, 'E_AUTH'],
    [{ code: 'EOTP' }, 'E_AUTH'],
    [{ code: 'E429', statusCode: 429 }, 'E_RATE_LIMIT'],
    [{ code: 'E503', statusCode: 503 }, 'E_UNREACHABLE'],
    [{ code: 'ECONNREFUSED', type: 'system' }, 'E_UNREACHABLE'],
    [{ code: 'ENOTFOUND' }, 'E_UNREACHABLE'],
    [{ code: 'EINTEGRITY' }, 'E_INTEGRITY'],
    [{ name: 'AbortError' }, 'E_ABORTED'],
    [{ code: 'EWHATEVER', message: 'odd' }, 'E_INTERNAL'],
  ] as Array<[Record<string, unknown>, string]>)('%j → %s', (error, code) => {
    expect(toNpmError(Object.assign(new Error('x'), error), context).code).toBe(code);
  });
});
