// The "Caching" registryConfig of the Self-Hosted Registries page, as written: an index is used for an hour without
// asking GitHub (cacheDuration), and the cache lives on disk (cacheSettings), where a copy up to 24 hours old is
// served when GitHub cannot be reached (maxAge).
//
// Additions, so the same file runs against your GitHub and against the local emulator of run.mjs:
// * `location` can be replaced by GITHUB_REPO, and `baseUrl` is added only when GITHUB_API_BASE_URL is set;
// * `directory` can be replaced by AGENTOS_CACHE_DIR: run.mjs uses a temp folder, because /var/cache/agentos needs
//   root on most machines and a demo should not leave files there. (The AGENTOS_REGISTRY_CACHE variable, when set,
//   wins over `directory` whatever this file says; run.mjs unsets it for the host.)
export const registryConfig = {
  registries: {
    custom: {
      type: 'github',
      location: process.env.GITHUB_REPO ?? 'your-org/extensions',
      cacheDuration: 3600000, // 1 hour in ms
      ...(process.env.GITHUB_API_BASE_URL ? { baseUrl: process.env.GITHUB_API_BASE_URL } : {}),
    },
  },
  cacheSettings: {
    enabled: true,
    directory: process.env.AGENTOS_CACHE_DIR ?? '/var/cache/agentos',
    maxAge: 86400000, // 24 hours
  },
};

export default { registryConfig };
