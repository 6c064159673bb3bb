// The registryConfig of the Self-Hosted Registries page's "Complete Example", with every field as written: two
// verified corp git registries on the `production` branch read with GIT_TOKEN, a default registry per kind, and the
// cache settings.
//
// Additions, so the same file runs against your git server and against the local one of run.mjs: each `location`
// can be replaced by an environment variable, and `directory` by AGENTOS_CACHE_DIR (run.mjs uses a temp folder:
// /var/cache/agentos needs root on most machines). Without them, the values are the page's.
export const registryConfig = {
  registries: {
    'corp-extensions': {
      type: 'git',
      location: process.env.CORP_EXTENSIONS_GIT_URL ?? 'https://git.corp.com/agentos-extensions.git',
      branch: 'production',
      token: process.env.GIT_TOKEN,
      verified: true,
      cacheDuration: 7200000,
    },
    'corp-personas': {
      type: 'git',
      location: process.env.CORP_PERSONAS_GIT_URL ?? 'https://git.corp.com/agentos-personas.git',
      branch: 'production',
      token: process.env.GIT_TOKEN,
      verified: true,
    },
  },
  defaultRegistries: {
    tool: 'corp-extensions',
    guardrail: 'corp-extensions',
    workflow: 'corp-extensions',
    persona: 'corp-personas',
  },
  cacheSettings: {
    enabled: true,
    directory: process.env.AGENTOS_CACHE_DIR ?? '/var/cache/agentos',
  },
};

export default { registryConfig };
