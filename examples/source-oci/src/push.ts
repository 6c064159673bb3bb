/**
 * Publishing a registry folder as the artifact `ociSource` reads: core's `packRegistry` makes one deterministic
 * tarball per entry (so an unchanged entry is the same blob, never uploaded twice), `registry.json` goes up as it is,
 * and the manifest last, so a reader never sees a manifest naming a blob that is not there yet.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpClient, packRegistry, RegistryError } from '@agentos-registry/core';
import { ARTIFACT_TYPE, digestOf, INDEX_TITLE, loginHeader, MANIFEST_TYPE, OciClient, parseOciReference, TITLE } from './client.js';

/** `token`: `user:password` or a registry token (default: the Docker/Podman login); `plainHttp`: http:// instead of https://. */
export type PushOptions = { token?: string; plainHttp?: boolean; env?: Readonly<Record<string, string | undefined>>; signal?: AbortSignal };

/** What goes into one artifact: `registry.json`'s bytes and a gzipped tarball (files under `package/`) per entry path. */
export type PushArtifact = { index: Uint8Array; entries: Array<{ path: string; tarball: Uint8Array }> };

/** Pushes the registry folder `dir` to `location` (`oci://host[:port]/repository:tag`); resolves to the manifest digest. */
export async function pushRegistry(dir: string, location: string, options: PushOptions = {}): Promise<string> {
  const site = await mkdtemp(join(tmpdir(), 'agentos-oci-push-'));
  try {
    const packed = await packRegistry(dir, site, options.signal ? { signal: options.signal } : {});
    const entries = await Promise.all(packed.entries.map(async (e) => ({ path: e.path, tarball: await readFile(join(site, decodeURIComponent(e.tarball))) })));
    return await pushArtifact(location, { index: await readFile(join(dir, 'registry.json')), entries }, options);
  } finally {
    await rm(site, { recursive: true, force: true });
  }
}

/** Pushes prepared layers (what `pushRegistry` packs; tests hand-craft hostile ones); resolves to the manifest digest. */
export async function pushArtifact(location: string, artifact: PushArtifact, options: PushOptions = {}): Promise<string> {
  const ref = parseOciReference(location);
  if (!ref || ref.pinned) throw new RegistryError('E_CONFIG', `Push needs oci://host[:port]/repository:tag, not ${location.slice(0, 200)}.`);
  const { env = process.env, signal } = options;
  const http = createHttpClient({ registry: location, env });
  const oci = new OciClient(http, ref, options.plainHttp === true, location, loginHeader(options.token, ref.host, env));
  const send = async (path: string | URL, method: string, want: number, what: string, body?: Uint8Array | string, type?: string) => {
    const res = await oci.request(path, { method, purpose: 'index', signal, ...(body ? { body, headers: { 'content-type': type! } } : {}) });
    if (res.status !== want) throw await oci.failed(res, what);
    await res.discard();
    return res;
  };
  // A blob the registry has already (HEAD 200) is not sent again; otherwise a monolithic upload: POST, then PUT with the digest.
  const upload = async (mediaType: string, bytes: Uint8Array, title?: string) => {
    const digest = digestOf(bytes);
    const head = await oci.request(`blobs/${digest}`, { method: 'HEAD', purpose: 'index', signal });
    await head.discard();
    if (head.status !== 200) {
      const target = new URL((await send('blobs/uploads/', 'POST', 202, 'starting an upload')).headers.location ?? '', oci.base);
      target.searchParams.set('digest', digest);
      await send(target, 'PUT', 201, `uploading ${title ?? 'the config'}`, bytes, 'application/octet-stream');
    }
    return { mediaType, digest, size: bytes.length, ...(title ? { annotations: { [TITLE]: title } } : {}) };
  };
  try {
    const config = await upload('application/vnd.oci.empty.v1+json', new TextEncoder().encode('{}'));
    const layers = [await upload('application/vnd.agentos.registry.index.v1+json', artifact.index, INDEX_TITLE)];
    for (const entry of artifact.entries) layers.push(await upload('application/vnd.oci.image.layer.v1.tar+gzip', entry.tarball, entry.path));
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, artifactType: ARTIFACT_TYPE, config, layers });
    await send(`manifests/${ref.reference}`, 'PUT', 201, 'uploading the manifest', manifest, MANIFEST_TYPE);
    return digestOf(manifest);
  } finally {
    await http.close();
  }
}
