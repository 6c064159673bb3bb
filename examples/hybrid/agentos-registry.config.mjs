// The "Hybrid (Official + Custom)" registryConfig of the Self-Hosted Registries page, as written: the official
// registry is the npm package @framers/agentos-extensions, the custom one a GitHub repository, and the page's
// resolver(kind) sends tools to custom and everything else to official.
//
// Where npm packages come from is npm's business, not the config's: the host's project .npmrc says it
// (`@framers:registry=<your registry URL>`), exactly as for `npm install`. run.mjs writes one that points at a
// local Verdaccio. Two additions for the GitHub side: `location` can be replaced by CUSTOM_GITHUB_REPO, and `baseUrl`
// is added only when GITHUB_API_BASE_URL is set (run.mjs: a local GitHub emulator; unset: api.github.com).
export const registryConfig = {
  registries: {
    official: {
      type: 'npm',
      location: '@framers/agentos-extensions',
    },
    custom: {
      type: 'github',
      location: process.env.CUSTOM_GITHUB_REPO ?? 'your-org/custom-extensions',
      ...(process.env.GITHUB_API_BASE_URL ? { baseUrl: process.env.GITHUB_API_BASE_URL } : {}),
    },
  },
  resolver: (kind) => {
    // Use custom for tools, official for everything else
    return kind === 'tool' ? 'custom' : 'official';
  },
};

export default { registryConfig };
