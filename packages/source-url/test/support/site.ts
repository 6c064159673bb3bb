import { startStaticServer, type StaticServer, type StaticServerOptions } from '@agentos-registry/test-servers';
import { packRegistry } from '../../src/index.js';
import { templateCopy, tempDir, track } from './scene.js';

/** The example registry, packed into a site folder and served by a real static server on 127.0.0.1. */
export interface ServedSite {
  /** A writable copy of the example registry. */
  registryDir: string;
  siteDir: string;
  server: StaticServer;
  /** Re-packs the registry folder into the site (after editing it). */
  republish(): Promise<void>;
  /** Requests the server saw for one path. */
  requestsFor(path: string): StaticServer['requests'];
}

export async function servedSite(options: Omit<StaticServerOptions, 'root'> = {}): Promise<ServedSite> {
  const registryDir = await templateCopy();
  const siteDir = await tempDir('site');
  await packRegistry(registryDir, siteDir);
  const server = await track(startStaticServer({ root: siteDir, ...options }));
  return {
    registryDir,
    siteDir,
    server,
    republish: async () => {
      await packRegistry(registryDir, siteDir);
    },
    requestsFor: (path) => server.requests.filter((request) => request.path === path),
  };
}
