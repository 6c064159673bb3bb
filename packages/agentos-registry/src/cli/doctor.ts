/**
 * `agentos-registry doctor`: what a user checks first when something does not work, as one table. The git binary and
 * the engine each git registry will use, each registry reachable (one revision check, as `update` makes) and its
 * credentials accepted, the proxy and CA settings in effect, the cache folder (writable, intact, its size), and the
 * npm registry that dependencies come from. Exit 1 when any check fails; `--json` for scripts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CacheStore, createHttpClient, isRegistryError, type Registry, type RegistryConfig, redact, resolveCacheSettings } from '@agentos-registry/core';
import { chooseGitEngine, type GitTransport, parseGitLocation } from '@agentos-registry/source-git';
import { resolveNpmSettings } from '@agentos-registry/source-npm';
import { table, toJson } from './format.js';
import type { CliIo } from './io.js';

const run = promisify(execFile);

export interface DoctorCheck {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** The version of git on PATH, or undefined. */
async function gitVersion(env: CliIo['env']): Promise<{ major: number; minor: number; text: string } | undefined> {
  try {
    const { stdout } = await run('git', ['--version'], { env: { PATH: env.PATH ?? process.env.PATH ?? '' }, timeout: 10_000 });
    const match = /(\d+)\.(\d+)(?:\.\d+)?/.exec(stdout);
    return match ? { major: Number(match[1]), minor: Number(match[2]), text: match[0] } : undefined;
  } catch {
    return undefined;
  }
}

const size = (bytes: number) => (bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);

/** The engine a git registry will use, asked of source-git itself (the rule its registries are opened by). */
async function gitEngine(options: Record<string, unknown>, baseDir: string): Promise<Omit<DoctorCheck, 'check'>> {
  const choice = options.engine === 'native' || options.engine === 'isomorphic' ? options.engine : 'auto';
  let transport: GitTransport;
  try {
    transport = parseGitLocation(String(options.location ?? ''), baseDir).transport;
  } catch (error) {
    return { status: 'fail', detail: `location: ${(error as Error).message}` };
  }
  const { engine, version, found } = await chooseGitEngine(choice, transport);
  if (engine === 'native') return { status: 'ok', detail: `native git ${version!.major}.${version!.minor}${choice === 'native' ? " (engine: 'native')" : ''}` };
  if (engine === 'isomorphic') return { status: 'ok', detail: `isomorphic-git (${found || "engine: 'isomorphic'"})` };
  return { status: 'fail', detail: `needs native git 2.25 or newer (${found})` };
}

/** The proxy variables in effect, and registries with a `proxy` option of their own (credentials in URLs hidden). */
function proxyCheck(env: CliIo['env'], config: RegistryConfig): DoctorCheck {
  const set = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'].filter((name) => env[name]);
  const hide = (value: string) => redact(value).replace(/\/\/[^/@\s]+@/, '//[REDACTED]@');
  const own = Object.entries(config.registries ?? {})
    .filter(([, r]) => typeof (r as Record<string, unknown>).proxy === 'string')
    .map(([name, r]) => `${name}: ${hide(String((r as Record<string, unknown>).proxy))}`);
  const parts = [...set.map((name) => `${name}=${hide(env[name]!)}`), ...own];
  return { check: 'proxy', status: 'ok', detail: parts.length > 0 ? parts.join(', ') : 'none (direct connections)' };
}

function caCheck(env: CliIo['env'], config: RegistryConfig): DoctorCheck {
  const extra = env.NODE_EXTRA_CA_CERTS;
  const withCa = Object.entries(config.registries ?? {})
    .filter(([, r]) => (r as Record<string, unknown>).ca !== undefined)
    .map(([name]) => name);
  const parts = [extra ? `NODE_EXTRA_CA_CERTS=${extra}` : undefined, withCa.length > 0 ? `ca option of ${withCa.join(', ')}` : undefined].filter(Boolean);
  if (extra && !existsSync(extra)) return { check: 'CA', status: 'fail', detail: `NODE_EXTRA_CA_CERTS names ${extra}, which does not exist` };
  return { check: 'CA', status: 'ok', detail: parts.length > 0 ? parts.join('; ') : 'system CAs only' };
}

async function cacheCheck(config: RegistryConfig, io: CliIo, baseDir: string): Promise<DoctorCheck> {
  const settings = resolveCacheSettings(config.cacheSettings, { env: io.env, baseDir });
  if (!settings.enabled) return { check: 'cache', status: 'ok', detail: 'off (cacheSettings.enabled: false)' };
  const store = new CacheStore(settings.directory, { setBy: settings.setBy });
  try {
    const probe = await store.tempPath('doctor');
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    return { check: 'cache', status: 'fail', detail: `${settings.directory} is not writable: ${(error as Error).message}` };
  }
  const { problems } = await store.verify();
  const { totalBytes } = await store.usage();
  if (problems.length > 0) {
    return {
      check: 'cache',
      status: 'fail',
      detail: `${settings.directory}: ${problems.length} damaged item(s) (${problems[0]}); run "agentos-registry cache verify" to remove them`,
    };
  }
  return { check: 'cache', status: 'ok', detail: `${settings.directory}: writable, intact, ${size(totalBytes)}` };
}

/** The npm registry dependencies come from, as the npm source decides it (config, npm_config_*, .npmrc), pinged. */
async function npmCheck(config: RegistryConfig, io: CliIo, baseDir: string): Promise<DoctorCheck> {
  const npm = Object.values(config.registries ?? {}).find((r) => (r as { type?: string }).type === 'npm') as Record<string, unknown> | undefined;
  let url: string;
  try {
    const settings = resolveNpmSettings({
      packageName: 'agentos-registry-doctor',
      registryName: 'npm (dependencies)',
      ...(typeof npm?.registry === 'string' ? { registry: npm.registry } : {}),
      env: io.env,
      baseDir,
    });
    url = settings.registry;
  } catch (error) {
    return { check: 'npm registry', status: 'fail', detail: `its settings could not be read: ${(error as Error).message}` };
  }
  const ping = new URL('-/ping', url.endsWith('/') ? url : `${url}/`);
  // Core's client, so the proxy, NO_PROXY and extra CAs in effect apply as they will to installs; no credential is sent.
  const client = createHttpClient({ registry: 'npm (dependencies)', env: io.env, retries: 0, allowInsecure: true });
  try {
    const response = await client.request(ping, { signal: AbortSignal.timeout(15_000) });
    await response.discard();
    if (response.status >= 200 && response.status < 300)
      return { check: 'npm registry', status: 'ok', detail: `${redact(url)} answers (for entry dependencies)` };
    return { check: 'npm registry', status: 'fail', detail: `${redact(url)} answered ${response.status} to ${ping.pathname}` };
  } catch (error) {
    const why = isRegistryError(error) ? `[${error.code}] ${error.message}` : (error as Error).message;
    return { check: 'npm registry', status: 'fail', detail: `${redact(url)} could not be reached: ${why}` };
  } finally {
    await client.close();
  }
}

/** Each configured registry: reachable (one revision check) and, when it has a token, the token accepted. */
async function registryChecks(registry: Registry, config: RegistryConfig): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const result of await registry.update()) {
    const options = (config.registries?.[result.registry] ?? {}) as Record<string, unknown>;
    const hasToken = options.token !== undefined || options.password !== undefined || options.headers !== undefined;
    const code = result.error?.code;
    const name = `registry ${result.registry}`;
    if (!result.error) {
      checks.push({ check: name, status: 'ok', detail: `reachable, revision ${String(result.revision).slice(0, 16)}` });
      if (hasToken) checks.push({ check: `auth ${result.registry}`, status: 'ok', detail: 'credentials accepted' });
      continue;
    }
    const message = `[${code}] ${result.error.message}`;
    if (code === 'E_AUTH') {
      checks.push({ check: name, status: 'ok', detail: 'reachable' });
      checks.push({ check: `auth ${result.registry}`, status: 'fail', detail: message });
    } else {
      checks.push({ check: name, status: 'fail', detail: message });
      if (hasToken) checks.push({ check: `auth ${result.registry}`, status: 'warn', detail: 'not checked: the registry did not answer' });
    }
  }
  return checks;
}

export async function doctorCommand(
  io: CliIo,
  loaded: { config: RegistryConfig; baseDir: string },
  open: () => Promise<Registry>,
  json: boolean,
): Promise<{ text: string; ok: boolean }> {
  const { config, baseDir } = loaded;
  const checks: DoctorCheck[] = [];
  const git = await gitVersion(io.env);
  const gitRegistries = Object.entries(config.registries ?? {}).filter(([, r]) => (r as { type?: string }).type === 'git');
  checks.push(
    git
      ? { check: 'git', status: 'ok', detail: `git ${git.text}` }
      : { check: 'git', status: gitRegistries.length > 0 ? 'warn' : 'ok', detail: 'no git on PATH (git registries use isomorphic-git)' },
  );
  for (const [name, options] of gitRegistries) checks.push({ check: `engine ${name}`, ...(await gitEngine(options as Record<string, unknown>, baseDir)) });
  const registry = await open();
  try {
    checks.push(...(await registryChecks(registry, config)));
  } finally {
    await registry.close();
  }
  checks.push(proxyCheck(io.env, config), caCheck(io.env, config), await cacheCheck(config, io, baseDir), await npmCheck(config, io, baseDir));
  const ok = checks.every((c) => c.status !== 'fail');
  if (json) return { text: `${toJson({ ok, checks })}\n`, ok };
  const body = table(
    ['CHECK', 'STATUS', 'DETAIL'],
    checks.map((c) => [c.check, c.status === 'fail' ? 'FAIL' : c.status, c.detail]),
  );
  return { text: `${body}${ok ? 'all checks passed\n' : `${checks.filter((c) => c.status === 'fail').length} check(s) failed\n`}`, ok };
}
