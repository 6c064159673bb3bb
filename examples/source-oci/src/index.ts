/**
 * `type: 'oci'`: a registry published as an OCI 1.1 artifact (`agentos-registry-oci push`) in any container registry.
 * The manifest has `artifactType: application/vnd.agentos.registry.v1`, the empty config, one layer holding
 * `registry.json` and one tar.gz layer per entry, titled with the entry's path. It is a per-entry source: a cold fetch
 * of one entry is the manifest, the index blob and that entry's blob, and nothing else. The revision is the manifest's
 * digest, so revalidating is one HEAD; every manifest and blob is checked against its sha256 digest before use.
 */
import { createSourceHttpClient, defineSource, HTTP_SOURCE_OPTION_ROLES, type SourceConfig, validateHttpSourceOptions } from '@agentos-registry/core';
import { matchesIntegrity, missingEntryFolderError, missingIndexError, parseIntegrity, RegistryError } from '@agentos-registry/core';
import { ARTIFACT_TYPE, DIGEST, digestOf, INDEX_TITLE, loginHeader, MANIFEST_TYPE, OciClient, parseOciReference, TITLE } from './client.js';

export { ARTIFACT_TYPE, INDEX_TITLE, MANIFEST_TYPE, parseOciReference, TITLE } from './client.js';
export { type PushArtifact, type PushOptions, pushArtifact, pushRegistry } from './push.js';

type Layer = { digest: string; annotations?: Record<string, string> };

/** An OCI digest (`sha256:<hex>`) as the SRI string core's integrity checks take. */
export const sriOf = (digest: string) => `sha256-${Buffer.from(digest.slice(7), 'hex').toString('base64')}`;

export const ociSource = () =>
  defineSource({
    type: 'oci',
    // `plainHttp` (http:// instead of https://, as oras' --plain-http) changes how the registry is reached, not what it serves.
    options: { plainHttp: 'transport', ...HTTP_SOURCE_OPTION_ROLES },
    validate: (config) => [...problems(config), ...validateHttpSourceOptions(config)],
    create(config, ctx) {
      const ref = parseOciReference(config.location)!;
      const http = createSourceHttpClient(config, ctx);
      const oci = new OciClient(http, ref, config.plainHttp === true, ctx.registry, loginHeader(config.token, ref.host, ctx.env));
      const shown = `oci://${ref.host}/${ref.name}${ref.pinned ? '@' : ':'}${ref.reference}`;
      const fail = (code: 'E_INTEGRITY' | 'E_UNSUPPORTED', message: string) =>
        new RegistryError(code, `Registry "${ctx.registry}": ${message}`, { registry: ctx.registry });
      const manifests = new Map<string, Layer[]>(); // by digest: immutable, so a process asks for each once

      async function layersAt(reference: string, signal: AbortSignal): Promise<{ digest: string; layers: Layer[] }> {
        const known = manifests.get(reference);
        if (known) return { digest: reference, layers: known };
        const res = await oci.request(`manifests/${reference}`, { headers: { accept: MANIFEST_TYPE }, purpose: 'index', signal });
        if (res.status !== 200) throw await oci.failed(res, `the manifest of ${shown}`);
        const bytes = await res.bytes();
        const digest = digestOf(bytes);
        if (DIGEST.test(reference) && digest !== reference) throw fail('E_INTEGRITY', `the manifest of ${shown} does not match its sha256 digest.`);
        let manifest: { artifactType?: unknown; layers?: Layer[] } = {};
        try {
          manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) ?? {};
        } catch {
          // not JSON: refused below as not an agentos registry artifact
        }
        const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
        if (manifest.artifactType !== ARTIFACT_TYPE || !layers.every((layer) => DIGEST.test(String(layer?.digest)))) {
          throw fail('E_UNSUPPORTED', `${shown} is not an agentos registry artifact (${ARTIFACT_TYPE}); publish one with agentos-registry-oci push.`);
        }
        manifests.set(digest, layers);
        return { digest, layers };
      }

      async function blob(reference: string, title: string, signal: AbortSignal, purpose: 'index' | 'entry') {
        const layer = (await layersAt(reference, signal)).layers.find((layer) => layer.annotations?.[TITLE] === title);
        if (!layer) return undefined;
        const res = await oci.request(`blobs/${layer.digest}`, { signal, purpose });
        if (res.status !== 200) throw await oci.failed(res, `the layer ${title} of ${shown}`);
        return { res, integrity: sriOf(layer.digest) };
      }

      return {
        displayLocation: shown,
        credentialed: oci.login !== undefined, // an auth-file login keys the cache as a configured token does
        async revision({ signal, previous }) {
          if (ref.pinned) return previous?.id === ref.reference ? 'unchanged' : { id: ref.reference };
          if (previous) {
            const res = await oci.request(`manifests/${ref.reference}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPE }, purpose: 'index', signal });
            if (res.status !== 200) throw await oci.failed(res, `the manifest of ${shown}`);
            await res.discard();
            const digest = res.headers['docker-content-digest'] ?? '';
            if (digest === previous.id) return 'unchanged';
            if (DIGEST.test(digest)) return { id: digest };
          }
          // No revision held: GET rather than HEAD, so the manifest readIndex needs is already here (one request less).
          return { id: (await layersAt(ref.reference, signal)).digest };
        },
        async readIndex(revision, { signal, registry }) {
          const found = await blob(revision.id, INDEX_TITLE, signal, 'index');
          if (!found) throw missingIndexError({ registry, where: shown, revision: revision.id });
          const bytes = await found.res.bytes();
          if (!matchesIntegrity(bytes, parseIntegrity(found.integrity)!))
            throw fail('E_INTEGRITY', `registry.json of ${shown} does not match its sha256 digest.`);
          return bytes;
        },
        async materialize(request, { signal, registry }) {
          const found = await blob(request.revision.id, request.path, signal, 'entry');
          if (!found) throw missingEntryFolderError({ registry, where: shown, revision: request.revision.id, path: request.path });
          // Core checks the sha256 as the layer streams into its extractor, and keeps nothing of a layer that fails.
          return { archive: found.res, strip: 1, integrity: found.integrity, label: `The layer of ${request.path} in ${shown}` };
        },
        close: () => http.close(),
      };
    },
  });

function problems(config: SourceConfig) {
  if (!parseOciReference(config.location)) {
    return [{ field: 'location', message: 'must be oci://host[:port]/repository:tag or …/repository@sha256:<digest>, without a user name or password' }];
  }
  return config.plainHttp === undefined || typeof config.plainHttp === 'boolean' ? [] : [{ field: 'plainHttp', message: 'must be true or false' }];
}
