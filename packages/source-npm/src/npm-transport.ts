/**
 * The options every pacote and arborist call of this package gets on top of the registry settings: the agent that
 * scopes credentials to their registry's origin (npm-agent.ts). One function, so no call path can forget it.
 */
import { credentialScope } from './credential-scope.js';
import { createNpmAgent } from './npm-agent.js';
import type { NpmSettings } from './npm-config.js';

/** npm-registry-fetch's own per-attempt timeout when nothing sets one (5 minutes). */
const NPM_DEFAULT_TIMEOUT = 5 * 60 * 1000;

/** The pacote/arborist options for `settings`, with the scoping agent. */
export function npmRequestOptions(settings: NpmSettings): Record<string, unknown> {
  const options = settings.options;
  const attemptMs = typeof options.timeout === 'number' && options.timeout > 0 ? options.timeout : NPM_DEFAULT_TIMEOUT;
  const proxy = stringOption(options.httpsProxy) ?? stringOption(options.proxy);
  const noProxy = stringOption(options.noProxy);
  const agent = createNpmAgent({ scope: credentialScope(options), attemptMs, ...(proxy ? { proxy } : {}), ...(noProxy ? { noProxy } : {}) });
  return { ...options, agent };
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
