/**
 * The options every pacote and arborist call of this package gets on top of the registry settings: the agent that
 * scopes credentials to their registry's origin and caps each body (npm-agent.ts), and the per-attempt timeout. One
 * function, so no call path can forget them.
 */
import { credentialScope } from './credential-scope.js';
import type { NetworkBounds } from './network-bounds.js';
import { createNpmAgent } from './npm-agent.js';
import type { NpmSettings } from './npm-config.js';

/** The pacote/arborist options for `settings`, with the agent and `bounds.timeouts.attempt`. */
export function npmRequestOptions(settings: NpmSettings, bounds: NetworkBounds): Record<string, unknown> {
  const options = settings.options;
  const attemptMs = bounds.timeouts.attempt;
  const proxy = stringOption(options.httpsProxy) ?? stringOption(options.proxy);
  const noProxy = stringOption(options.noProxy);
  const agent = createNpmAgent({
    scope: credentialScope(options),
    attemptMs,
    limits: bounds.limits,
    ...(proxy ? { proxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  });
  // npm's `timeout`: minipass-fetch's wait for the answer to start and for a body read whole, and the idle timeout.
  return { ...options, agent, timeout: attemptMs };
}

function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
