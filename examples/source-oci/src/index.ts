/**
 * `type: 'oci'`: a registry published as an OCI 1.1 artifact (`agentos-registry-oci push`) in any container registry.
 * The manifest has `artifactType: application/vnd.agentos.registry.v1`, the empty config, one layer holding
 * `registry.json` and one tar.gz layer per entry, titled with the entry's path. It is a per-entry source: a cold fetch
 * of one entry is the manifest, the index blob and that entry's blob, and nothing else. The revision is the manifest's
 * digest, so revalidating is one HEAD; every manifest and blob is checked against its sha256 digest before use.
 */
import { createHash } from 'node:crypto';
import { createSourceHttpClient, defineSource, HTTP_SOURCE_OPTION_ROLES, type SourceConfig, validateHttpSourceOptions } from '@agentos-registry/core';
import { matchesIntegrity, missingEntryFolderError, missingIndexError, parseIntegrity, RegistryError } from '@agentos-registry/core';
import { ARTIFACT_TYPE, DIGEST, loginHeader, MANIFEST_TYPE, OciClient, parseOciReference } from './client.js';

export { ARTIFACT_TYPE, MANIFEST_TYPE, parseOciReference } from './client.js';
export { type PushArtifact, type PushOptions, pushArtifact, pushRegistry } from './push.js';

/** The title annotation of the layer that holds `registry.json`; every other layer is titled with its entry's path. */
export const INDEX_TITLE = 'registry.json';
export const TITLE = 'org.opencontainers.image.title';

interface Layer {
  digest: string;
  annotations?: Record<string, string>;
}

/** An OCI digest (`sha256:<hex>`) as the SRI string core's integrity checks take. */
export const sriOf = (digest: string) => `sha256-${Buffer.from(digest.slice(7), 'hex').toString('base64')}`;

export const ociSource = () =>
  defineSource({
    type: 'oci',
    // `plainHttp` (http:// instead of https://, like oras' --plain-http) changes how the registry is reached, not what it serves.
    options: { plainHttp: 'transport', ...HTTP_SOURCE_OPTION_ROLES },
    validate: (config) => [...problems(config), ...validateHttpSourceOptions(config)],
    create(config, ctx) {
      const ref = parseOciReference(config.location)!;
      const http = createSourceHttpClient(config, ctx);
      const oci = new OciClient(http, ref, {
        plainHttp: config.plainHttp === true,
        login: loginHeader(config.token, ref.host, ctx.env),
        registry: ctx.registry,
      });
      const shown = `oci://${ref.host}/${ref.name}${ref.pinned ? '@' : ':'}${ref.reference}`;
      const accept = { accept: MANIFEST_TYPE };
      const manifests = new Map<string, Layer[]>(); // by digest: immutable, so a process asks for each once

      async function layersAt(reference: string, signal: AbortSignal): Promise<{ digest: string; layers: Layer[] }> {
        const known = manifests.get(reference);
        if (known) return { digest: reference, layers: known };
        const res = await oci.request(`manifests/${reference}`, { headers: accept, purpose: 'index', signal });
        if (res.status !== 200) throw await oci.failed(res, `the manifest of ${shown}`);
        const bytes = await res.bytes();
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        if (DIGEST.test(reference) && digest !== reference) throw integrityError(`the manifest ${reference.slice(0, 19)}…`);
        const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as { artifactType?: string; layers?: Layer[] };
        const layers = manifest.layers ?? [];
        if (manifest.artifactType !== ARTIFACT_TYPE || !layers.every((layer) => DIGEST.test(layer.digest))) {
          throw new RegistryError(
            'E_UNSUPPORTED',
            `Registry "${ctx.registry}": ${shown} is not an agentos registry artifact (${ARTIFACT_TYPE}); publish one with agentos-registry-oci push.`,
            {
              registry: ctx.registry,
            },
          );
        }
        manifests.set(digest, layers);
        return { digest, layers };
      }

      function integrityError(what: string) {
        return new RegistryError(
          'E_INTEGRITY',
          `Registry "${ctx.registry}": ${what} of ${shown} does not match its sha256 digest; the registry or something on the way altered it.`,
          {
            registry: ctx.registry,
          },
        );
      }

      async function blob(layer: Layer, signal: AbortSignal, purpose: 'index' | 'entry') {
        const res = await oci.request(`blobs/${layer.digest}`, { signal, purpose });
        if (res.status !== 200) throw await oci.failed(res, `the blob ${layer.digest.slice(0, 19)}… of ${shown}`);
        return res;
      }

      const titled = (layers: Layer[], title: string) => layers.find((layer) => layer.annotations?.[TITLE] === title);

      return {
        displayLocation: shown,
        async revision({ signal, previous }) {
          if (ref.pinned) return previous?.id === ref.reference ? 'unchanged' : { id: ref.reference };
          if (previous) {
            const res = await oci.request(`manifests/${ref.reference}`, { method: 'HEAD', headers: accept, purpose: 'index', signal });
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
          const layer = titled((await layersAt(revision.id, signal)).layers, INDEX_TITLE);
          if (!layer) throw missingIndexError({ registry, where: shown, revision: revision.id });
          const bytes = await (await blob(layer, signal, 'index')).bytes();
          if (!matchesIntegrity(bytes, parseIntegrity(sriOf(layer.digest))!)) throw integrityError('registry.json');
          return bytes;
        },
        async materialize(request, { signal, registry }) {
          const layer = titled((await layersAt(request.revision.id, signal)).layers, request.path);
          if (!layer) throw missingEntryFolderError({ registry, where: shown, revision: request.revision.id, path: request.path });
          // Core checks the sha256 as the layer streams into its extractor, and keeps nothing of a layer that fails.
          const archive = await blob(layer, signal, 'entry');
          return { archive, strip: 1, integrity: sriOf(layer.digest), label: `The layer of ${request.path} in ${shown}` };
        },
        close: () => http.close(),
      };
    },
  });

function problems(config: SourceConfig) {
  if (!parseOciReference(config.location)) {
    return [
      {
        field: 'location',
        message: 'must be oci://host[:port]/repository:tag or oci://host[:port]/repository@sha256:<digest>, without a user name or password',
      },
    ];
  }
  if (config.plainHttp !== undefined && typeof config.plainHttp !== 'boolean') return [{ field: 'plainHttp', message: 'must be true or false' }];
  return [];
}
