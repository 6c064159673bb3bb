// The "GitHub (Public)" and "GitHub (Private)" registryConfigs of the Self-Hosted Registries page, as written.
//
// Two additions, so the same file runs against your GitHub and against the local emulator of run.mjs:
// * each `location` can be replaced by an environment variable; without it, it is the page's value;
// * `baseUrl` (the REST API to talk to) is added only when GITHUB_API_BASE_URL is set. run.mjs sets it to a local
//   GitHub emulator; for GitHub Enterprise Server it would be https://ghe.example.com/api/v3. Unset: api.github.com.
const api = process.env.GITHUB_API_BASE_URL ? { baseUrl: process.env.GITHUB_API_BASE_URL } : {};

/** GitHub (Public) */
export const publicRegistryConfig = {
  registries: {
    custom: {
      type: 'github',
      location: process.env.GITHUB_PUBLIC_REPO ?? 'your-org/extensions-repo',
      branch: 'main',
      ...api,
    },
  },
};

/** GitHub (Private) */
export const privateRegistryConfig = {
  registries: {
    custom: {
      type: 'github',
      location: process.env.GITHUB_PRIVATE_REPO ?? 'your-org/private-repo',
      branch: 'main',
      token: process.env.GITHUB_TOKEN,
      ...api,
    },
  },
};
