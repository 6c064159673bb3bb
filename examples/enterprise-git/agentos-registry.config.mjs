// The "Enterprise with Private Git" registryConfig of the Self-Hosted Registries page, as written: tools and personas
// in two repositories on the company's git server, both on the `stable` branch, both read with CORP_GIT_TOKEN.
// The only addition: each `location` comes from an environment variable when it is set (run.mjs points them at a
// local git server); otherwise it is the page's URL. host.mjs and the agentos-registry CLI both read this file.
export const registryConfig = {
  registries: {
    'enterprise-extensions': {
      type: 'git',
      location: process.env.CORP_EXTENSIONS_GIT_URL ?? 'https://git.corp.com/agentos-extensions.git',
      branch: 'stable',
      token: process.env.CORP_GIT_TOKEN,
    },
    'enterprise-personas': {
      type: 'git',
      location: process.env.CORP_PERSONAS_GIT_URL ?? 'https://git.corp.com/agentos-personas.git',
      branch: 'stable',
      token: process.env.CORP_GIT_TOKEN,
    },
  },
  defaultRegistries: {
    tool: 'enterprise-extensions',
    persona: 'enterprise-personas',
  },
};

export default { registryConfig };
