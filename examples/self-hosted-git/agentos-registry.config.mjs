// The "Self-Hosted Git" registryConfig of the Self-Hosted Registries page, as written: any git server, the
// `production` branch. The only addition: `location` comes from GIT_REGISTRY_URL when it is set (run.mjs points it at
// a local git server); otherwise it is the page's URL. host.mjs and the agentos-registry CLI both read this file.
export const registryConfig = {
  registries: {
    custom: {
      type: 'git',
      location: process.env.GIT_REGISTRY_URL ?? 'https://git.yourcompany.com/extensions.git',
      branch: 'production',
    },
  },
};

export default { registryConfig };
