/**
 * Runs every example's run.mjs (each one starts its own servers on 127.0.0.1) as a user would, and checks the exit code
 * and the lines that prove its case worked. The examples import the built packages, which turbo builds first because
 * they are dependencies of this package.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const EXAMPLES = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `node examples/<name>/run.mjs` and collects its output (stdout and stderr, in arrival order). */
function runExample(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(EXAMPLES, name, 'run.mjs')], { cwd: join(EXAMPLES, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

const cases: Array<[name: string, proof: string[]]> = [
  ['air-gapped', ['2 of 2 tool entries loaded.', 'name:         Helpful Assistant']],
  [
    'private-github',
    [
      'echo({"text":"hello from a public repo"}) -> {"text":"hello from a public repo","length":24}',
      'calculator({"operation":"add","a":2,"b":3}) -> {"result":5,"expression":"2 + 3 = 5"}',
      'carried no Authorization header',
      'error [E_NOT_FOUND]',
      'private repositories need a `token`',
    ],
  ],
  ['self-hosted-git', ['calculator: 6 * 7 = 42', "Every entry came from production's commit"]],
  [
    'enterprise-git',
    [
      'tool com.example.calculator@1.0.0 from "enterprise-extensions": 84 / 2 = 42',
      'persona com.example.helpful-assistant@1.0.0 from "enterprise-personas": Helpful Assistant',
      "error [E_AUTH] Registry 'enterprise-extensions'",
      'refused the configured token',
    ],
  ],
  [
    'hybrid',
    [
      "resolver('tool') -> custom",
      "resolver('persona') -> official",
      'tool com.example.echo from "custom" (github',
      'echo -> TOOLS COME FROM CUSTOM',
      'persona com.example.helpful-assistant from "official" (npm, @framers/agentos-extensions',
    ],
  ],
  [
    'caching',
    [
      '4 requests: the repository (for its default branch), the commit, the tarball link, the tarball.',
      '0 requests: the index and the entry came from the cache on disk.',
      'GitHub saw: GET /repos/your-org/extensions/commits/main -> 304 (conditional)',
      '1 request: one conditional request, answered 304 Not Modified; nothing downloaded.',
      'from the cache (a stale copy: the source could not be reached)',
      'warning [W_STALE] Registry "custom" could not be checked (E_UNREACHABLE',
      'Served from the cache alone',
    ],
  ],
  [
    'complete',
    [
      'registry:corp-extensions:com.example.echo@1.0.0  options {}',
      'registry:corp-extensions:com.example.calculator@1.0.0  options {"precision":2}',
      'tool calculator  source registry:corp-extensions, verified true',
      'calculator.execute({"operation":"divide","a":22,"b":7}) -> 22 / 7 = 3.14',
      'registry:corp-extensions:com.example.auth@1.0.0  options {}',
      'authService, subscriptionService: createAuthExtension() of com.example.auth@1.0.0 from corp-extensions (verified true)',
      "authService.validateToken(generateToken('user-42')) -> user-42 (ada)",
      'authService.validateToken(a token signed with another secret) -> null',
      "AgentOS ToolPermissionManager: calculator (needs FEATURE_ADVANCED_SEARCH) for user-42 -> allowed false, after setUserTier('pro') -> allowed true",
      "loadPersonaById('com.example.helpful-assistant') -> Helpful Assistant (tools: echo, calculator)",
      "loadPersonaById('com.example.nobody') -> undefined",
      'refreshPersonas(), then loadAllPersonaDefinitions() -> 1 persona',
    ],
  ],
];

test.each(cases)('examples/%s/run.mjs runs its case end to end', { timeout: 240_000 }, async (name, proof) => {
  const { code, output } = await runExample(name);
  expect(code, output).toBe(0);
  expect(output).not.toContain('FAILED');
  for (const line of proof) expect(output).toContain(line);
  expect(output).toContain(`${name}: all done`);
});
