/**
 * A complete source: a registry published as one tarball at an HTTP(S) URL (`registry.json` and `registry/` inside).
 * It is a snapshot source: core downloads the tarball once per revision, extracts it with its guarded extractor, and
 * serves the index and every entry from it. The revision is the tarball's ETag, asked with a conditional HEAD.
 */
import { type ConfigProblem, createSourceHttpClient, defineSource, HTTP_SOURCE_OPTION_ROLES, type HttpResponse } from '@agentos-registry/core';
import { RegistryError, type SourceConfig, statusError, validateHttpSourceOptions } from '@agentos-registry/core';

export const tarballSource = () =>
  defineSource({
    type: 'tarball',
    // `subdir` changes what is served, so it is part of the cache key; proxy, ca, timeouts… only change how.
    options: { subdir: 'identity', ...HTTP_SOURCE_OPTION_ROLES },
    validate: (config) => [...problems(config), ...validateHttpSourceOptions(config)],
    create(config, ctx) {
      const url = new URL(config.location);
      const subdir = config.subdir as string | undefined;
      // The token goes to the tarball's origin only: never to another one, not even across a redirect.
      const credentials = config.token ? { origin: url.origin, headers: { authorization: `Bearer ${config.token}` } } : undefined;
      const http = createSourceHttpClient(config, ctx, { credentials });
      const what = `the tarball ${url.pathname}`;
      const failed = (res: HttpResponse, registry: string) =>
        statusError(res, { registry, what, authenticated: !!credentials, hints: { notFound: '`location` must be the URL of the tarball itself.' } });
      return {
        displayLocation: `${url.origin}${url.pathname}`, // a query string may hold a signature: never shown
        // A strong ETag names the bytes, so it is the revision id; the cache key already holds the URL.
        async revision({ signal, registry, previous }) {
          const res = await http.request(url, { method: 'HEAD', signal, purpose: 'index', headers: previous ? { 'if-none-match': previous.id } : {} });
          await res.discard();
          if (res.status === 304 && previous) return 'unchanged';
          if (res.status !== 200) throw failed(res, registry);
          const etag = res.headers.etag;
          if (!etag || etag.startsWith('W/'))
            throw new RegistryError('E_UNSUPPORTED', `Registry "${registry}": ${url.host} sends no strong ETag for ${what}.`, { registry });
          return { id: etag };
        },
        async snapshot(revision, { signal, registry }) {
          // If-Match: a tarball replaced since revision() must not be stored as that revision.
          const res = await http.request(url, { signal, headers: { 'if-match': revision.id } });
          if (res.status === 200 && res.headers.etag === revision.id) return { archive: res, subdir, label: `The tarball ${url.pathname}` };
          await res.discard();
          if (res.status !== 200 && res.status !== 412) throw failed(res, registry);
          throw new RegistryError('E_NOT_FOUND', `Registry "${registry}": the tarball changed since its index was read; refresh (--refresh) and try again.`, {
            registry,
          });
        },
        close: () => http.close(),
      };
    },
  });

function problems(config: SourceConfig): ConfigProblem[] {
  const url = URL.canParse(config.location) ? new URL(config.location) : undefined;
  if (!url || !/^https?:$/.test(url.protocol)) return [{ field: 'location', message: 'must be the http(s) URL of a .tar.gz holding registry.json' }];
  if (url.username || url.password) return [{ field: 'location', message: 'must not hold a user name or password: set `token`' }];
  if (config.subdir !== undefined && typeof config.subdir !== 'string') return [{ field: 'subdir', message: 'must be a folder of the tarball' }];
  return [];
}
