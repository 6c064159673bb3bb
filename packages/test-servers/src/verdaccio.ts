import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { withoutSecrets } from './auth.js';
import { LOOPBACK } from './free-port.js';
import { listenOnLoopback } from './listen.js';
import { isLoopbackHost } from './loopback-guard.js';
import { makeTempDir } from './temp-dir.js';

/** Who may do what with the packages matching one pattern, in Verdaccio's words (`$all`, `$authenticated`, a user). */
export interface VerdaccioAccessRule {
  access?: string;
  publish?: string;
  unpublish?: string;
}

/** Options for {@link startVerdaccio}. */
export interface VerdaccioOptions {
  /** Folder for published packages; kept on `close()`. Default: a temp folder that `close()` removes. */
  storage?: string;
  /**
   * Access rules by package pattern, first match wins. Default: `@private/*` readable and publishable only by
   * authenticated users, everything else readable by all and publishable by authenticated users. No rule ever gets
   * a `proxy`: this Verdaccio has no uplinks and never asks another registry.
   */
  packages?: Record<string, VerdaccioAccessRule>;
  /** Users created before start, name → password (6+ characters). Default: {@link VERDACCIO_PUBLISHER}. */
  users?: Record<string, string>;
}

/** One request Verdaccio answered. Secrets are never stored. */
export interface VerdaccioRequestLog {
  method: string;
  /** Path and query as requested (not decoded), e.g. `/@private%2fthing`. */
  path: string;
  /** Status of the answer; 0 until it is sent. */
  status: number;
  /** Whether an Authorization header was present. */
  authorization: boolean;
  /** Request headers without `authorization`, `proxy-authorization` and `cookie`. */
  headers: Record<string, string | string[]>;
}

/** What {@link VerdaccioServer.publish} publishes: a package folder, or its files (path → content). */
export type PackageSource = string | Record<string, string | Uint8Array>;

/** A running Verdaccio. */
export interface VerdaccioServer {
  /** Registry URL with a trailing slash, e.g. `http://127.0.0.1:4873/`. */
  url: string;
  port: number;
  requests: VerdaccioRequestLog[];
  /** Logs `user` in the way `npm login` does and returns the API token Verdaccio issued. */
  tokenFor(user: string, password: string): Promise<string>;
  /**
   * Publishes a package with the real `npm publish`, under dist-tag `tag` (default `latest`), authenticated by
   * `token`. npm sees a private, empty user and global config, so no developer setting or registry is involved.
   */
  publish(source: PackageSource, options: { token: string; tag?: string }): Promise<{ name: string; version: string }>;
  /** Stops the server, destroys open connections and removes the temp folders it made. */
  close(): Promise<void>;
}

/** The user created when `users` is not given. */
export const VERDACCIO_PUBLISHER = { user: 'publisher', password: 'publisher-password' } as const;

/** Scope of the default rules that needs an authenticated user even to read. */
export const VERDACCIO_PRIVATE_SCOPE = '@private';

const DEFAULT_RULES: Record<string, VerdaccioAccessRule> = {
  [`${VERDACCIO_PRIVATE_SCOPE}/*`]: { access: '$authenticated', publish: '$authenticated', unpublish: '$authenticated' },
  '**': { access: '$all', publish: '$authenticated', unpublish: '$authenticated' },
};

type RunServer = (config: Record<string, unknown>) => Promise<Server>;

let runServerOnce: RunServer | undefined;

/**
 * Loaded on first use: Verdaccio takes about a second to load, and most test files import this package for other
 * servers. `require` rather than `import()` because it is CommonJS and its named exports are getters.
 */
function loadRunServer(): RunServer {
  runServerOnce ??= (createRequire(import.meta.url)('verdaccio') as { runServer: RunServer }).runServer;
  return runServerOnce;
}

/**
 * Starts Verdaccio 6 in this process on 127.0.0.1 (a free port), with no uplinks, htpasswd auth and the users given
 * already registered, so tests can publish and fetch packages through the real npm protocol without any network.
 *
 * In-process (its `runServer` API) rather than a child: it is ready as soon as the module is loaded (~1 s once per
 * process, ~40 ms per server after that), and the request log is filled synchronously, before each answer leaves.
 * Do not call synchronous child processes (`execFileSync('npm', …)`) against it: they block the loop that serves them.
 */
export async function startVerdaccio(options: VerdaccioOptions = {}): Promise<VerdaccioServer> {
  const scratch = await makeTempDir('agentos-verdaccio-');
  try {
    const storage = options.storage ? path.resolve(options.storage) : path.join(scratch.path, 'storage');
    await mkdir(storage, { recursive: true });
    const users = options.users ?? { [VERDACCIO_PUBLISHER.user]: VERDACCIO_PUBLISHER.password };
    const htpasswd = path.join(scratch.path, 'htpasswd');
    await writeFile(htpasswd, htpasswdLines(users));
    const configPath = path.join(scratch.path, 'config.yaml');
    const config = {
      configPath,
      self_path: configPath,
      storage,
      // max_users -1: nobody can register through the API, so the only accounts are the ones written above.
      auth: { htpasswd: { file: htpasswd, max_users: -1, algorithm: 'sha1' } },
      uplinks: {},
      packages: withoutProxies(options.packages ?? DEFAULT_RULES),
      web: { enable: false },
      log: { type: 'stdout', format: 'json', level: 'fatal' },
      server: { keepAliveTimeout: 5 },
    };
    // YAML is a superset of JSON: the file is only there so a failing test can be reproduced with the CLI.
    await writeFile(configPath, JSON.stringify(config, null, 2));

    const server = await loadRunServer()(config);
    const requests: VerdaccioRequestLog[] = [];
    // First listener, so the entry exists before Verdaccio's express app can answer.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const entry: VerdaccioRequestLog = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        status: 0,
        authorization: req.headers.authorization !== undefined,
        headers: withoutSecrets(req.headers),
      };
      requests.push(entry);
      const record = () => {
        entry.status = res.statusCode;
      };
      // writeHead is where the status becomes final; `finish` covers answers that never call it explicitly.
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
        entry.status = args[0];
        return writeHead.apply(this, args);
      } as typeof writeHead;
      res.once('finish', record);
    });
    const listening = await listenOnLoopback(server);
    const url = `http://${LOOPBACK}:${listening.port}/`;
    const npmHome = path.join(scratch.path, 'npm');
    await mkdir(npmHome);

    let closed = false;
    return {
      url,
      port: listening.port,
      requests,
      tokenFor: (user, password) => login(url, user, password),
      publish: (source, publishOptions) => publishPackage(url, npmHome, source, publishOptions),
      async close() {
        if (closed) return;
        closed = true;
        await listening.shutdown();
        await scratch.close();
      },
    };
  } catch (error) {
    await scratch.close();
    throw error;
  }
}

/** `user:{SHA}base64(sha1(password))`, the htpasswd form Verdaccio checks fastest (bcrypt would cost ~100 ms a login). */
function htpasswdLines(users: Record<string, string>): string {
  return Object.entries(users)
    .map(([user, password]) => {
      if (!/^[a-z0-9._-]+$/i.test(user)) throw new Error(`startVerdaccio: user name '${user}' is not a plain name`);
      const digest = createHash('sha1').update(password, 'utf8').digest('base64');
      return `${user}:{SHA}${digest}:autocreated ${new Date(0).toISOString()}\n`;
    })
    .join('');
}

function withoutProxies(rules: Record<string, VerdaccioAccessRule>): Record<string, VerdaccioAccessRule> {
  const copy: Record<string, VerdaccioAccessRule> = {};
  for (const [pattern, rule] of Object.entries(rules)) {
    const { access, publish, unpublish } = rule;
    copy[pattern] = { ...(access ? { access } : {}), ...(publish ? { publish } : {}), ...(unpublish ? { unpublish } : {}) };
  }
  return copy;
}

/**
 * `npm login` against Verdaccio: `PUT /-/user/org.couchdb.user:<user>` with Basic credentials of an existing user
 * answers 201 and `{ token }`. (Without the Basic header Verdaccio would try to register the user instead.)
 */
async function login(url: string, user: string, password: string): Promise<string> {
  const response = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(user)}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`,
    },
    body: JSON.stringify({ _id: `org.couchdb.user:${user}`, name: user, password, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; error?: unknown };
  if (response.status !== 201 || typeof body.token !== 'string') {
    throw new Error(`Verdaccio refused to log '${user}' in: ${response.status} ${String(body.error ?? '')}`.trim());
  }
  return body.token;
}

/** npm settings that would otherwise come from the developer's machine or slow every publish down. */
function npmEnv(npmHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // pnpm and npm scripts export their whole config as npm_config_*; none of it may reach this npm.
    if (!/^npm_/i.test(name)) env[name] = value;
  }
  return {
    ...env,
    HOME: npmHome,
    npm_config_globalconfig: path.join(npmHome, 'globalrc'),
    npm_config_cache: path.join(npmHome, 'cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_loglevel: 'error',
    npm_config_ignore_scripts: 'true',
  };
}

async function publishPackage(
  url: string,
  npmHome: string,
  source: PackageSource,
  options: { token: string; tag?: string },
): Promise<{ name: string; version: string }> {
  const dir = typeof source === 'string' ? path.resolve(source) : await writePackage(npmHome, source);
  const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
    name?: unknown;
    version?: unknown;
    publishConfig?: { registry?: unknown };
  };
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string') {
    throw new Error(`publish: ${dir}/package.json needs a name and a version`);
  }
  // publishConfig.registry beats --registry in npm; a package copied from the wild must not publish to the world.
  const elsewhere = manifest.publishConfig?.registry;
  if (typeof elsewhere === 'string' && !isLoopbackHost(new URL(elsewhere).hostname)) {
    throw new Error(`publish: ${manifest.name} has publishConfig.registry ${elsewhere}; remove it (tests publish to ${url} only)`);
  }
  const host = new URL(url);
  const userconfig = path.join(npmHome, `userrc-${randomBytes(6).toString('hex')}`);
  await writeFile(userconfig, `//${host.host}/:_authToken=${options.token}\nregistry=${url}\n`, { mode: 0o600 });
  const args = ['publish', dir, '--registry', url, '--userconfig', userconfig, '--tag', options.tag ?? 'latest', '--access', 'public'];
  await new Promise<void>((resolve, reject) => {
    execFile('npm', args, { cwd: dir, env: npmEnv(npmHome), encoding: 'utf8', timeout: 60_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      // npm prints the registry's answer; it never prints the token, but be sure.
      reject(new Error(`npm publish ${manifest.name}@${manifest.version} failed: ${stderr.split(options.token).join('[token]').trim()}`));
    });
  });
  return { name: manifest.name, version: manifest.version as string };
}

async function writePackage(npmHome: string, files: Record<string, string | Uint8Array>): Promise<string> {
  if (!('package.json' in files)) throw new Error('publish: the files must include package.json');
  const dir = await mkdtemp(path.join(npmHome, 'package-'));
  for (const [relative, content] of Object.entries(files)) {
    const target = path.resolve(dir, relative);
    if (!target.startsWith(dir + path.sep)) throw new Error(`publish: '${relative}' leaves the package folder`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return dir;
}
