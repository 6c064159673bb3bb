/**
 * Type-checked by `tsc --noEmit` (this example's `typecheck` script, run by `npm test` through turbo): the services
 * the corp registry's auth entry exports, checked against the types of the real `@framers/agentos`. The entry's code
 * (corp-extensions/auth/src/index.js, the file run.mjs publishes in the registry) is JavaScript checked with its
 * JSDoc (`checkJs`), so a missing method or a wrong signature there fails this check.
 */
import type { AgentOSConfig } from '@framers/agentos/api/AgentOS';
import type { IAuthService, ISubscriptionService } from '@framers/agentos/core/types/auth';
import { createAuthExtension } from './corp-extensions/auth/src/index.js';

const { authService, subscriptionService } = createAuthExtension({ auth: { jwtSecret: 'type-check' } });

// What agentos.initialize() takes, by AgentOS's own interfaces…
export const services: { authService: IAuthService; subscriptionService: ISubscriptionService } = { authService, subscriptionService };
// …and by the fields of its config, so a change to either side shows up here.
export const initializeFields: Pick<AgentOSConfig, 'authService' | 'subscriptionService'> = { authService, subscriptionService };

// The checks above mean something only if AgentOS's types resolved (an unresolved import would be `any`).
type IsAny<T> = 0 extends 1 & T ? true : false;
export const authIsTyped: IsAny<IAuthService> = false;
export const configIsTyped: IsAny<NonNullable<AgentOSConfig['authService']>> = false;
export const subscriptionFieldIsTyped: IsAny<NonNullable<AgentOSConfig['subscriptionService']>> = false;

// @ts-expect-error an object without validateToken is not an IAuthService
export const notAnAuthService: IAuthService = { generateToken: authService.generateToken };
