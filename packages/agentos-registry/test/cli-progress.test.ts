/**
 * Progress on stderr (issue 16): under a pseudo-terminal (`script -qec`) the built CLI shows a spinner line while it
 * checks a registry's revision and the bytes and entries it downloads; piped, it shows nothing; NO_COLOR leaves the
 * line uncoloured. Runs against a url registry on a loopback static server and a git registry on a loopback git
 * HTTP server (isomorphic engine: core's HTTP client does the downloads).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cleanup, createGitRepo, type GitHttpServer, type StaticServer, startGitHttpServer, startStaticServer } from '@agentos-registry/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuilt, runBuiltOnTty, scratch } from './helpers.js';

/** The terminal's SGR colour sequences (the progress line's erase-line `ESC[2K` is not one). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escapes is the point
const COLOUR = /\u001b\[\d+(?:;\d+)*m/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escapes is the point
const ERASE_LINE = /\r\u001b\[2K/;

describe('progress on a terminal', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let server: StaticServer;
  let git: GitHttpServer;
  const servers = new Cleanup();

  beforeAll(async () => {
    ({ dir, cleanup } = await scratch());
    expect((await runBuilt(['init', 'reg'], { cwd: dir })).code).toBe(0);
    expect((await runBuilt(['pack', 'reg', '--out', 'site'], { cwd: dir })).code).toBe(0);
    server = await startStaticServer({ root: join(dir, 'site') });
    await servers.add(createGitRepo(join(dir, 'reg'), { root: join(dir, 'repos'), name: 'reg' }));
    git = await servers.add(startGitHttpServer({ root: join(dir, 'repos') }));
    const config = {
      registries: {
        site: { type: 'url', location: server.url },
        repo: { type: 'git', location: git.repoUrl('reg'), engine: 'isomorphic' },
        native: { type: 'git', location: git.repoUrl('reg'), engine: 'native' },
      },
      defaultRegistries: { tool: 'site', persona: 'repo', guardrail: 'native' },
      cacheSettings: { directory: join(dir, 'cache') },
    };
    await writeFile(join(dir, 'agentos-registry.config.json'), JSON.stringify(config));
  });
  afterAll(async () => {
    await server?.close();
    await servers.run();
    await cleanup();
  });

  it('shows the revision check and the download (bytes, entries) on a pty, in colour; nothing when piped', async () => {
    expect((await runBuilt(['cache', 'clean', '--all'], { cwd: dir })).code).toBe(0);
    const tty = await runBuiltOnTty(['fetch', 'com.example.greet', '--refresh'], { cwd: dir });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('checking site for updates');
    expect(tty.output).toMatch(/site: downloading registry\.json \d+(?:\.\d)? (?:B|KiB)/);
    expect(tty.output).toMatch(/site: downloading .+\.tgz \d+(?:\.\d)? (?:B|KiB) of \d+(?:\.\d)? (?:B|KiB)/);
    expect(tty.output).toMatch(/1 entry, \d+(?:\.\d)? (?:B|KiB) downloaded/);
    expect(tty.output).toMatch(ERASE_LINE);
    expect(tty.output).toMatch(COLOUR);
    // The result itself is still there, after the line was erased.
    expect(tty.output).toContain('com.example.greet');

    const piped = await runBuilt(['fetch', 'com.example.greet', '--refresh'], { cwd: dir });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toMatch(ERASE_LINE);
  });

  it('NO_COLOR: the same progress, without colour or any escape sequence (the line is overwritten with spaces)', async () => {
    expect((await runBuilt(['cache', 'clean', '--all'], { cwd: dir })).code).toBe(0);
    const tty = await runBuiltOnTty(['fetch', 'com.example.greet', '--refresh'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('checking site for updates');
    expect(tty.output).toMatch(/1 entry, \d+(?:\.\d)? (?:B|KiB) downloaded/);
    expect(tty.output).not.toMatch(COLOUR);
    expect(tty.output).not.toContain('\u001b');
    // Erased by spaces before the result is printed.
    expect(tty.output).toMatch(/downloaded {0,3}\r {10,}\rid: +com\.example\.greet/);
  });

  it('--quiet: no progress, even on a terminal', async () => {
    const tty = await runBuiltOnTty(['fetch', 'com.example.greet', '--refresh', '--quiet'], { cwd: dir });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).not.toContain('checking site');
    expect(tty.output).not.toMatch(ERASE_LINE);
  });

  it("a git registry with the native engine shows git's own progress (stage and objects)", async () => {
    const tty = await runBuiltOnTty(['fetch', 'native:com.example.greet', '--refresh'], { cwd: dir });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('checking native for updates');
    expect(tty.output).toMatch(/native: git receiving objects \d+\/\d+/);
    const piped = await runBuilt(['fetch', 'native:com.example.greet', '--refresh'], { cwd: dir });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
  });

  it('a git registry (isomorphic engine) shows its revision check and downloads too', async () => {
    const tty = await runBuiltOnTty(['load', 'com.example.greeter', '--refresh'], { cwd: dir });
    expect(tty.code, tty.output).toBe(0);
    expect(tty.output).toContain('checking repo for updates');
    expect(tty.output).toMatch(/repo: downloading \S+ \d+(?:\.\d)? (?:B|KiB)/);
  });
});
