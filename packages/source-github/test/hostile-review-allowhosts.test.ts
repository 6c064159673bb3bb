/**
 * Hostile review: policy.allowHosts at run time for the GitHub source. GitHub answers an archive request with a 302
 * to a second origin (codeload); with only the API host listed, that hop is refused before the archive origin is
 * reached, and listing both lets the fetch through.
 */
import { createRegistry, isRegistryError, silentLogger } from '@agentos-registry/core';
import { type GitHubEmulator, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { githubSource } from '../src/index.js';
import { registryFiles, TestBed } from './support/registry-repo.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

const archive = (emulator: GitHubEmulator) => emulator.requests.filter((r) => r.origin === 'archive');

async function open(emulator: GitHubEmulator, allowHosts: string[], mode: 'tarball' | 'per-entry') {
  const registry = await createRegistry(
    {
      registries: { custom: { type: 'github', location: 'your-org/extensions', branch: 'main', baseUrl: emulator.apiUrl, mode, allowInsecure: true } as never },
      defaultRegistries: { tool: 'custom', persona: 'custom' },
      cacheSettings: { directory: `${await bed.dir()}/cache` },
      policy: { allowHosts },
    },
    { sources: [githubSource()], env: {}, logger: silentLogger },
  );
  bed.cleanup.defer(() => registry.close());
  return registry;
}

describe('policy.allowHosts and the GitHub archive redirect', () => {
  test.each(['tarball', 'per-entry'] as const)(
    '%s mode, the API host alone listed: no request reaches the archive origin (tarball mode: E_POLICY on the hop)',
    async (mode) => {
      const repo = await bed.repo(registryFiles(1), 'extensions', []);
      const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path } } }));
      const apiHost = new URL(emulator.apiUrl).host;
      const error = await (await open(emulator, [apiHost], mode)).fetch('tool', 'com.example.tool-0').then(
        () => undefined,
        (e: unknown) => e,
      );
      // Per-entry mode reads the contents API on the API host only, so it needs no archive origin at all.
      if (mode === 'tarball')
        expect(isRegistryError(error) && { code: error.code, rule: error.details?.rule }).toEqual({ code: 'E_POLICY', rule: 'allowHosts' });
      else expect(error).toBeUndefined();
      expect(archive(emulator)).toEqual([]);
    },
  );
});
