/**
 * Type test (run by `tsc --noEmit`, not by vitest): the structural types of the drop-in against the real ones of
 * `@framers/agentos`. The real ExtensionManager, MultiRegistryConfig and RegistrySource must be accepted where the
 * drop-in takes ours, and the drop-in must offer every public method of AgentOS's loader with compatible types.
 */
import type { ExtensionManager } from '@framers/agentos/extensions/ExtensionManager';
import type { MultiRegistryLoader as AgentOSLoader } from '@framers/agentos/extensions/MultiRegistryLoader';
import type { MultiRegistryConfig as AgentOSConfig, RegistrySource as AgentOSSource } from '@framers/agentos/extensions/RegistryConfig';
import { type ExtensionManagerLike, type MultiRegistryConfig, MultiRegistryLoader, type RegistrySource } from '../src/extensions.js';

declare const realManager: ExtensionManager;
declare const realConfig: AgentOSConfig;
declare const realSource: AgentOSSource;

export const manager: ExtensionManagerLike = realManager;
export const config: MultiRegistryConfig = realConfig;
export const source: RegistrySource = realSource;

// Code written against AgentOS's class compiles against ours: same constructor arguments, same public methods.
const ours = new MultiRegistryLoader(realManager, realConfig);
export const asAgentOS: Pick<AgentOSLoader, 'loadExtension' | 'loadFromSource' | 'clearCache' | 'getCacheStats'> = ours;
export const fromSource: ReturnType<AgentOSLoader['loadFromSource']> = ours.loadFromSource(realSource, 'com.example.echo');

// And the checks can fail: something that is not a manager is refused.
// @ts-expect-error a manager needs loadPackFromFactory
export const notAManager: ExtensionManagerLike = { listLoadedPacks: () => [] };
type IsAny<T> = 0 extends 1 & T ? true : false;
export const packIsTyped: IsAny<Parameters<ExtensionManager['loadPackFromFactory']>[0]> = false;
export const descriptorsTyped: IsAny<Parameters<ExtensionManager['loadPackFromFactory']>[0]['descriptors'][number]> = false;
