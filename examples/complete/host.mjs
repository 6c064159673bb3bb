#!/usr/bin/env node
// The page's "Complete Example" as a host would write it today. AgentOS does not read `registryConfig` itself, so
// the host turns the registries into the two things `agentos.initialize()` consumes: an `extensionManifest` (packs
// whose factories hand back what the registry loaded) and a `personaLoader`. It then does what AgentOS would do with
// them: calls every pack factory, runs the tools, and asks the persona loader for personas. The page's authService and
// subscriptionService come from corp-extensions too: the auth entry's module makes them, and the host calls them.
import { createPersonaLoader, createRegistry, isRegistryError, toExtensionManifest } from 'agentos-registry';
import { registryConfig } from './agentos-registry.config.mjs';

async function main() {
  const registry = await createRegistry(registryConfig, { onWarning: (w) => console.warn(`warning [${w.code}] ${w.message}`) });
  try {
    // Plain ids: defaultRegistries sends tools to corp-extensions. Per-pack options reach createExtensionPack.
    const extensionManifest = await toExtensionManifest(registry, [
      'com.example.echo',
      { ref: 'com.example.calculator', options: { precision: 2 } },
      'com.example.auth',
    ]);
    const personaLoader = createPersonaLoader(registry);

    // The page's `authService` and `subscriptionService`, "loaded from corp-extensions": its auth entry's module
    // exports createAuthExtension(config), as AgentOS's auth extension does, and the host calls it with its settings.
    const auth = await registry.load('tool', 'com.example.auth');
    const { authService, subscriptionService } = auth.module.createAuthExtension({
      auth: { jwtSecret: process.env.AUTH_JWT_SECRET },
      subscription: { defaultTier: 'free' },
    });

    // What the page passes to `agentos.initialize(...)`.
    const initializeConfig = { registryConfig, extensionManifest, personaLoader, authService, subscriptionService };
    console.log(`agentos.initialize() config ready: ${Object.keys(initializeConfig).join(', ')}`);

    console.log('\nextensionManifest.packs:');
    const tools = new Map();
    for (const entry of initializeConfig.extensionManifest.packs) {
      const pack = await entry.factory();
      console.log(`  ${entry.identifier}  options ${JSON.stringify(entry.options ?? {})}`);
      for (const descriptor of pack.descriptors) {
        const origin = descriptor.metadata.registry;
        console.log(
          `    ${descriptor.kind} ${descriptor.id}  source ${descriptor.source.sourceName}, verified ${origin.verified}, commit ${origin.revision.slice(0, 12)}`,
        );
        if (descriptor.kind === 'tool') tools.set(descriptor.id, descriptor.payload);
      }
    }
    const args = { operation: 'divide', a: 22, b: 7 };
    const answer = await tools.get('calculator').execute(args, { gmiId: 'complete-example', personaId: 'com.example.helpful-assistant', userContext: {} });
    console.log(`  calculator.execute(${JSON.stringify(args)}) -> ${answer.success ? answer.output.expression : `failed: ${answer.error}`}`);

    const access = await tools.get('check_feature_access').execute({ userId: 'user-42', feature: 'FEATURE_BASIC_TOOLS' });
    console.log(`  check_feature_access({"userId":"user-42","feature":"FEATURE_BASIC_TOOLS"}) -> ${JSON.stringify(access.output)}`);

    console.log(
      `\nauthService, subscriptionService: createAuthExtension() of ${auth.fetched.id}@${auth.fetched.version} from ${auth.fetched.registry} (verified ${auth.fetched.provenance.verified})`,
    );
    const token = initializeConfig.authService.generateToken('user-42', { username: 'ada' });
    const user = await initializeConfig.authService.validateToken(token);
    console.log(`  authService.validateToken(generateToken('user-42')) -> ${user?.id} (${user?.username})`);
    const forged = auth.module.createAuthExtension({ auth: { jwtSecret: 'not-the-corp-secret' } }).authService.generateToken('user-42');
    console.log(`  authService.validateToken(a token signed with another secret) -> ${await initializeConfig.authService.validateToken(forged)}`);
    const hash = await initializeConfig.authService.hashPassword('correct horse');
    const right = await initializeConfig.authService.verifyPassword('correct horse', hash);
    const wrong = await initializeConfig.authService.verifyPassword('wrong horse', hash);
    console.log(`  authService.verifyPassword(right, hash) -> ${right}, (wrong, hash) -> ${wrong}`);
    // What agentos.initialize() does with the two services: hands them to its ToolPermissionManager, which asks the
    // subscription service whether a user's tier has the features a tool needs. Here the calculator needs one.
    const { ToolPermissionManager } = await import('@framers/agentos/core/tools/permissions/ToolPermissionManager');
    const permissions = new ToolPermissionManager();
    const quiet = console.log;
    console.log = () => {}; // its initialize() logs a line with a random id
    try {
      await permissions.initialize(
        { toolToSubscriptionFeatures: { calculator: [{ flag: 'FEATURE_ADVANCED_SEARCH' }] } },
        initializeConfig.authService,
        initializeConfig.subscriptionService,
      );
    } finally {
      console.log = quiet;
    }
    const tier = await initializeConfig.subscriptionService.getUserSubscription('user-42');
    const before = await initializeConfig.subscriptionService.validateAccess('user-42', 'FEATURE_ADVANCED_SEARCH');
    const deniedByAgentOS = await permissions.checkToolSubscriptionAccess('user-42', 'calculator');
    subscriptionService.setUserTier('user-42', 'pro');
    const after = await initializeConfig.subscriptionService.validateAccess('user-42', 'FEATURE_ADVANCED_SEARCH');
    const allowedByAgentOS = await permissions.checkToolSubscriptionAccess('user-42', 'calculator');
    console.log(
      `  subscriptionService.getUserSubscription('user-42') -> ${tier?.name}; validateAccess(FEATURE_ADVANCED_SEARCH) -> ${before}, after setUserTier('pro') -> ${after}`,
    );
    console.log(
      `  AgentOS ToolPermissionManager: calculator (needs FEATURE_ADVANCED_SEARCH) for user-42 -> allowed ${deniedByAgentOS.isAllowed}, after setUserTier('pro') -> allowed ${allowedByAgentOS.isAllowed}`,
    );

    console.log('\npersonaLoader:');
    await initializeConfig.personaLoader.initialize();
    const all = await personaLoader.loadAllPersonaDefinitions();
    console.log(`  loadAllPersonaDefinitions() -> ${all.map((p) => `${p.id}@${p.version}`).join(', ')}`);
    const helper = await personaLoader.loadPersonaById('com.example.helpful-assistant');
    console.log(`  loadPersonaById('com.example.helpful-assistant') -> ${helper?.name} (tools: ${helper?.toolIds?.join(', ')})`);
    const nobody = await personaLoader.loadPersonaById('com.example.nobody');
    console.log(`  loadPersonaById('com.example.nobody') -> ${nobody}`);
    // AgentOS's refreshPersonas() answers nothing: it reloads, and the next call sees the result.
    await personaLoader.refreshPersonas();
    const reloaded = await personaLoader.loadAllPersonaDefinitions();
    console.log(`  refreshPersonas(), then loadAllPersonaDefinitions() -> ${reloaded.length} persona${reloaded.length === 1 ? '' : 's'}`);
  } finally {
    await registry.close();
  }
}

main().catch((error) => {
  console.error(isRegistryError(error) ? `error [${error.code}] ${error.message}` : error);
  process.exitCode = 1;
});
