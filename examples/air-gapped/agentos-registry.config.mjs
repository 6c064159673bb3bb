// The "Air-Gapped Deployment" config of the Self-Hosted Registries page: one registry on the local file system,
// used for tools and personas, so nothing ever goes to the network.
//
// The folder comes from AGENTOS_REGISTRY_DIR when set (a relative path is taken from this file's folder), else the
// page's /opt/agentos/extensions. Both the agentos-registry CLI and host.mjs read this file.
export const registryConfig = {
  registries: {
    internal: {
      type: 'file',
      location: process.env.AGENTOS_REGISTRY_DIR || '/opt/agentos/extensions',
    },
  },
  defaultRegistries: {
    tool: 'internal',
    persona: 'internal',
  },
};

export default { registryConfig };
