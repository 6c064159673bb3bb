import { mkdtempSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistrySource, readSource, type SourceCallContext, type SourceRevision, silentLogger } from '@agentos-registry/core';
import { type GitHubEmulator, startGitHubEmulator } from '@agentos-registry/test-servers';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { githubSource } from '../src/index.js';
import { failure, registryFiles, TestBed } from './support/registry-repo.js';

let bed: TestBed;
beforeEach(() => {
  bed = new TestBed();
});
afterEach(async () => {
  await bed.close();
});

/** A source built by the adapter directly, as core builds it. */
function sourceFor(emulator: GitHubEmulator, config: Record<string, unknown> = {}): RegistrySource {
  const source = githubSource().create(
    { type: 'github', location: 'your-org/extensions', baseUrl: emulator.apiUrl, ...config },
    { registry: 'custom', baseDir: '/', logger: silentLogger, env: {} },
  );
  bed.cleanup.defer(() => source.close?.());
  return source;
}

/** What core hands a source: `workDir` is always given (a shared one when the test passes it). */
function ctx(workDir: string | undefined, extra: Partial<SourceCallContext> = {}): SourceCallContext {
  return {
    registry: 'custom',
    signal: new AbortController().signal,
    logger: silentLogger,
    workDir: workDir ?? mkdtempSync(join(tmpdir(), 'gh-work-')),
    ...extra,
  };
}

/** Reads the source as core does: a tarball-mode source answers with a snapshot that core's reader extracts. */
const reader = (source: RegistrySource) => readSource(source, 'custom');

async function revisionOf(source: RegistrySource, context: SourceCallContext): Promise<SourceRevision> {
  const answer = await source.revision(context);
  if (answer === 'unchanged') throw new Error('unexpected unchanged');
  return answer;
}

async function served(entries = 4, options: { defaultBranch?: string } = {}) {
  const repo = await bed.repo(registryFiles(entries), 'extensions', ['trunk']);
  const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path, ...options } } }));
  return { repo, emulator };
}

const tarballs = (emulator: GitHubEmulator) => emulator.requests.filter((r) => r.origin === 'archive').length;

describe('github source contract calls', () => {
  test('shape and displayLocation: a snapshot in tarball mode, per-entry reads in per-entry mode, no secret', async () => {
    const { emulator } = await served(1);
    const source = sourceFor(emulator, { token: 'ghp_displaySecret0000000000', subdir: 'reg' });
    expect(source.flags).toBeUndefined();
    expect([typeof source.snapshot, typeof source.readIndex, typeof source.materialize]).toEqual(['function', 'undefined', 'undefined']);
    expect(source.displayLocation).toBe(`${emulator.webUrl}/your-org/extensions/reg`);
    const perEntry = sourceFor(emulator, { mode: 'per-entry' });
    expect([typeof perEntry.snapshot, typeof perEntry.readIndex, typeof perEntry.materialize]).toEqual(['undefined', 'function', 'function']);
  });

  test('revision: the ETag goes back as If-None-Match and a 304 is "unchanged"; another ref sends none', async () => {
    const { repo, emulator } = await served(1);
    const source = sourceFor(emulator, { branch: 'main' });
    const first = await revisionOf(source, ctx(undefined));
    expect(first.id).toBe(repo.initialCommit);
    expect(first.validators).toEqual({ ref: 'main', etag: expect.stringMatching(/^W\/"/) });
    expect(await source.revision(ctx(undefined, { previous: first }))).toBe('unchanged');
    expect(emulator.requests.at(-1)).toMatchObject({ status: 304, conditional: true });

    const trunk = sourceFor(emulator, { branch: 'trunk' });
    const other = await revisionOf(trunk, ctx(undefined, { previous: first }));
    expect(other.id).toBe(repo.initialCommit);
    expect(emulator.requests.at(-1)).toMatchObject({ status: 200, conditional: false });
  });

  test('many entries of a cold revision share one tarball, even when asked all at once', async () => {
    const { emulator } = await served(6);
    const source = sourceFor(emulator, { branch: 'main' });
    const workDir = await bed.dir();
    const revision = await revisionOf(source, ctx(workDir));
    const destinations = await Promise.all(Array.from({ length: 6 }, async (_, i) => mkdtemp(join(workDir, `entry-${i}-`))));
    const read = reader(source);
    await Promise.all([
      read.readIndex(revision, ctx(workDir)),
      ...destinations.map((destination, i) => read.materialize({ path: `registry/curated/tool-${i}`, entry: {}, revision, destination }, ctx(workDir))),
    ]);
    expect(await readFile(join(destinations[5]!, 'src/index.js'), 'utf8')).toContain('index = 5');
    expect(tarballs(emulator)).toBe(1);

    // Another instance on the same workDir (another process sharing the cache) reuses the extracted revision.
    const second = sourceFor(emulator, { branch: 'main' });
    await reader(second).materialize(
      { path: 'registry/curated/tool-1', entry: {}, revision, destination: await mkdtemp(join(workDir, 'again-')) },
      ctx(workDir),
    );
    expect(tarballs(emulator)).toBe(1);
  });

  test('every call rejects with E_ABORTED once the signal has fired', async () => {
    const { emulator } = await served(1);
    const source = sourceFor(emulator, { branch: 'main' });
    const revision = await revisionOf(source, ctx(undefined));
    const controller = new AbortController();
    controller.abort();
    const aborted = ctx(undefined, { signal: controller.signal });
    for (const call of [
      source.revision(aborted),
      reader(source).readIndex(revision, aborted),
      reader(source).materialize({ path: 'registry/curated/tool-0', entry: {}, revision, destination: await bed.dir() }, aborted),
    ]) {
      expect((await failure(call)).code).toBe('E_ABORTED');
    }
  });

  test('a renamed default branch is found again through the repository', async () => {
    const { repo, emulator } = await served(1);
    const source = sourceFor(emulator);
    const first = await revisionOf(source, ctx(undefined));
    expect(first.validators).toMatchObject({ ref: 'main', defaultBranch: 'main' });

    // The repository's default branch becomes `trunk` and `main` disappears; a fresh instance holding the old
    // validators asks `main` (422), then the repository, then `trunk`.
    const next = await repo.commit('trunk', registryFiles(2));
    emulator.setRepo('your-org/extensions', { path: repo.path, defaultBranch: 'trunk' });
    await import('node:child_process').then(({ execFileSync }) => execFileSync('git', ['--git-dir', repo.path, 'update-ref', '-d', 'refs/heads/main']));
    const fresh = sourceFor(emulator);
    const moved = await revisionOf(fresh, ctx(undefined, { previous: first }));
    expect(moved).toMatchObject({ id: next, validators: { ref: 'trunk', defaultBranch: 'trunk' } });
  });

  test('an archive with a symlink pointing outside the repository is refused as a whole (E_UNSAFE_PATH)', async () => {
    const dir = join(await bed.dir(), 'hostile');
    for (const [path, content] of Object.entries(registryFiles(1))) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    await symlink('/etc/passwd', join(dir, 'registry/curated/tool-0/passwd'));
    const repo = await bed.repo(dir, 'hostile');
    const emulator = await bed.cleanup.add(startGitHubEmulator({ repos: { 'your-org/extensions': { path: repo.path } } }));
    const registry = await bed.registry({ location: 'your-org/extensions', baseUrl: emulator.apiUrl });
    const error = await failure(registry.fetch('tool', 'com.example.tool-0'));
    expect(error.code).toBe('E_UNSAFE_PATH');
  });

  test('a missing entry folder is E_NOT_FOUND in both modes', async () => {
    const { emulator } = await served(1);
    for (const mode of ['tarball', 'per-entry']) {
      const source = sourceFor(emulator, { branch: 'main', mode });
      const revision = await revisionOf(source, ctx(await bed.dir()));
      const error = await failure(
        reader(source).materialize({ path: 'registry/curated/nope', entry: {}, revision, destination: await bed.dir() }, ctx(await bed.dir())),
      );
      expect(error.code).toBe('E_NOT_FOUND');
      expect(error.message).toContain("'registry/curated/nope'");
    }
  });
});
