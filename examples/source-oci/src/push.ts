/**
 * Publishing a registry folder as the artifact `ociSource` reads: core's `packRegistry` makes one deterministic
 * tarball per entry (so an unchanged entry is the same blob, never uploaded twice), `registry.json` goes up as it is,
 * and the manifest last, so a reader never sees a manifest naming a blob that is not there yet.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpClient, type Logger, packRegistry, RegistryError } from '@agentos-registry/core';
import { ARTIFACT_TYPE, loginHeader, MANIFEST_TYPE, OciClient, parseOciReference } from './client.js';

export interface PushOptions {
  /** `user:password` or a registry token; default: the Docker/Podman login for the host. */
  token?: string;
  /** http:// instead of https:// (a registry on this machine, a test). */
  plainHttp?: boolean;
  env?: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  logger?: Logger;
}

/** What goes into one artifact: `registry.json`'s bytes and a gzipped tarball (files under `package/`) per entry path. */
export interface PushArtifact {
  index: Uint8Array;
  entries: Array<{ path: string; tarball: Uint8Array }>;
}

const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: new TextEncoder().encode('{}') };

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
  const env = options.env ?? process.env;
  const http = createHttpClient({ registry: location, env, ...(options.logger ? { logger: options.logger } : {}) });
  const oci = new OciClient(http, ref, { plainHttp: options.plainHttp === true, login: loginHeader(options.token, ref.host, env), registry: location });
  const signal = options.signal;
  const upload = async (mediaType: string, bytes: Uint8Array, title?: string) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const head = await oci.request(`blobs/${digest}`, { method: 'HEAD', purpose: 'index', signal });
    await head.discard();
    if (head.status !== 200) {
      const start = await oci.request('blobs/uploads/', { method: 'POST', purpose: 'index', signal });
      if (start.status !== 202 || !start.headers.location) throw await oci.failed(start, 'starting an upload');
      await start.discard();
      const target = new URL(start.headers.location, oci.base);
      target.searchParams.set('digest', digest);
      const put = await oci.request(target, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' }, purpose: 'index', signal });
      if (put.status !== 201) throw await oci.failed(put, `uploading ${title ?? 'the config'}`);
      await put.discard();
    }
    return { mediaType, digest, size: bytes.length, ...(title ? { annotations: { 'org.opencontainers.image.title': title } } : {}) };
  };
  try {
    const config = await upload(EMPTY.mediaType, EMPTY.bytes);
    const layers = [await upload('application/vnd.agentos.registry.index.v1+json', artifact.index, 'registry.json')];
    for (const entry of artifact.entries) layers.push(await upload('application/vnd.oci.image.layer.v1.tar+gzip', entry.tarball, entry.path));
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_TYPE, artifactType: ARTIFACT_TYPE, config, layers });
    const res = await oci.request(`manifests/${ref.reference}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': MANIFEST_TYPE },
      purpose: 'index',
      signal,
    });
    if (res.status !== 201) throw await oci.failed(res, 'uploading the manifest');
    await res.discard();
    return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  } finally {
    await http.close();
  }
}
