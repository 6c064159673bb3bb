/**
 * Property tests of path normalisation and containment (issue 14): no generated path — with `..`, `/`, `\`, NUL,
 * unicode look-alikes, percent-encoding, Windows drive letters, trailing dots and spaces — is ever accepted and then
 * resolves outside the registry root. node:path (posix and win32) is the oracle; the code under test is
 * `normalizeRelativePath`, `safeJoin`, `isInside`, and the file readers that take a registry's relative names.
 */
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join, posix, win32 } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileInside, realPathInside } from '../src/entry-files.js';
import { isInside, normalizeRelativePath, safeJoin } from '../src/paths.js';
import { tempDir } from './helpers.js';
import { expectRegistryError, hostilePath, insideBy, runs, thrown } from './support/properties.js';

const POSIX_ROOT = '/srv/registry/root';
const WIN_ROOT = 'C:\\srv\\registry\\root';

/** Absolute for POSIX, for Windows (drive, UNC, rooted), or drive-relative (`C:foo`, which leaves the root's drive). */
const looksAbsolute = (text: string) => posix.isAbsolute(text) || win32.isAbsolute(text) || /^[a-zA-Z]:/.test(text);

describe('normalizeRelativePath (property)', () => {
  it('any string is refused with E_UNSAFE_PATH, or gives a clean relative path that stays inside the root (posix and win32)', () => {
    fc.assert(
      fc.property(hostilePath, (text) => {
        const error = thrown(() => normalizeRelativePath(text));
        if (error !== undefined) {
          expectRegistryError(error, ['E_UNSAFE_PATH']);
          return;
        }
        const clean = normalizeRelativePath(text);
        // The documented form: POSIX separators, relative, no NUL, no empty, `.` or `..` segment, no trailing slash.
        expect(clean).not.toMatch(/[\0\\]/);
        expect(clean.startsWith('/')).toBe(false);
        if (clean !== '') for (const segment of clean.split('/')) expect(['', '.', '..']).not.toContain(segment);
        // Idempotent: a clean path is its own normal form.
        expect(normalizeRelativePath(clean)).toBe(clean);
        // Inside the root, whichever way the host resolves it.
        expect(insideBy(posix, POSIX_ROOT, posix.resolve(POSIX_ROOT, clean))).toBe(true);
        expect(insideBy(win32, WIN_ROOT, win32.resolve(WIN_ROOT, clean))).toBe(true);
        expect(win32.parse(win32.resolve(WIN_ROOT, clean)).root).toBe('C:\\');
        // And it still names what the text named (backslashes read as separators), so nothing was rewritten away.
        expect(posix.resolve(POSIX_ROOT, clean)).toBe(posix.resolve(POSIX_ROOT, text.replace(/\\/g, '/')));
        expect(win32.resolve(WIN_ROOT, clean)).toBe(win32.resolve(WIN_ROOT, text));
      }),
      runs(2000),
    );
  });

  it('refuses exactly what escapes: a relative, NUL-free path is accepted iff node:path (posix and win32) keeps it inside the root', () => {
    fc.assert(
      fc.property(hostilePath, (text) => {
        fc.pre(!text.includes('\0') && !looksAbsolute(text) && !looksAbsolute(text.replace(/\\/g, '/')));
        const slashed = text.replace(/\\/g, '/');
        // Escaping on either platform: as written, or in the normal form a source is handed (`x/../C:/y` is `C:/y`).
        const escapes =
          !insideBy(posix, POSIX_ROOT, posix.resolve(POSIX_ROOT, slashed)) ||
          !insideBy(win32, WIN_ROOT, win32.resolve(WIN_ROOT, text)) ||
          !insideBy(win32, WIN_ROOT, win32.resolve(WIN_ROOT, posix.normalize(slashed)));
        const error = thrown(() => normalizeRelativePath(text));
        if (escapes) expectRegistryError(error, ['E_UNSAFE_PATH']);
        else expect(error).toBeUndefined();
      }),
      runs(1500),
    );
  });

  it('absolute paths of either platform and NUL bytes are always refused', () => {
    const absolute = fc.oneof(
      hostilePath.map((p) => `/${p}`),
      hostilePath.map((p) => `\\${p}`),
      fc.tuple(fc.constantFrom('C', 'c', 'Z'), fc.constantFrom(':', ':/', ':\\'), hostilePath).map(([d, c, p]) => d + c + p),
      hostilePath.map((p) => `\\\\server\\share\\${p}`),
      fc.tuple(hostilePath, hostilePath).map(([a, b]) => `${a}\0${b}`),
    );
    fc.assert(
      fc.property(absolute, (text) => {
        expectRegistryError(
          thrown(() => normalizeRelativePath(text)),
          ['E_UNSAFE_PATH'],
        );
      }),
      runs(1000),
    );
  });
});

describe('safeJoin (property)', () => {
  it('returns a path inside the root, the one node:path resolves, or throws E_UNSAFE_PATH', () => {
    fc.assert(
      fc.property(hostilePath, (text) => {
        const error = thrown(() => safeJoin(POSIX_ROOT, text));
        if (error !== undefined) return expectRegistryError(error, ['E_UNSAFE_PATH']);
        const joined = safeJoin(POSIX_ROOT, text);
        expect(insideBy(posix, POSIX_ROOT, joined)).toBe(true);
        expect(joined).toBe(posix.resolve(POSIX_ROOT, text.replace(/\\/g, '/')));
      }),
      runs(1000),
    );
  });
});

describe('isInside (property)', () => {
  const segment = fc.constantFrom('a', 'ab', 'a.', '.a', '..a', 'a..', '..', '.', '', 'b', 'é', ' ');
  const absolute = fc.tuple(fc.array(segment, { maxLength: 5 }), fc.boolean()).map(([parts, trailing]) => `/${parts.join('/')}${trailing ? '/' : ''}`);
  it('agrees with node:path: child is parent or below it', () => {
    fc.assert(
      fc.property(absolute, absolute, (parent, child) => {
        expect(isInside(parent, child)).toBe(insideBy(posix, posix.resolve(parent), posix.resolve(child)));
      }),
      runs(2000),
    );
  });
  it('a child built as parent + a relative path is inside exactly when the relative path does not climb out', () => {
    fc.assert(
      fc.property(absolute, hostilePath, (parent, rel) => {
        fc.pre(!rel.includes('\0'));
        const child = posix.join(parent, rel);
        expect(isInside(parent, child)).toBe(insideBy(posix, posix.resolve(parent), posix.resolve(child)));
      }),
      runs(1000),
    );
  });
});

describe('reading files of a registry folder (property, on a real tree with links)', () => {
  let root = '';
  let realRoot = '';
  beforeAll(async () => {
    const base = await tempDir();
    root = join(base, 'root');
    await mkdir(join(root, 'a', 'b'), { recursive: true });
    await mkdir(join(base, 'outside'));
    await writeFile(join(base, 'outside', 'secret.txt'), 'outside');
    await writeFile(join(base, 'root', 'a', 'file.txt'), 'inside');
    await writeFile(join(base, 'root', 'a', 'b', 'file.txt'), 'inside');
    await symlink(join(base, 'outside'), join(root, 'out'));
    await symlink('../outside/secret.txt', join(root, 'secret-link'));
    await symlink('a', join(root, 'in'));
    await symlink('../../out', join(root, 'a', 'b', 'up'));
    await symlink('loop', join(root, 'loop'));
    realRoot = await realpath(root);
  });

  const names = fc.constantFrom('a', 'b', 'file.txt', 'out', 'secret-link', 'in', 'up', 'loop', 'secret.txt', 'outside', 'root', '..', '.', '');
  const relative = fc.oneof(
    fc.array(names, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('/')),
    fc.array(names, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('\\')),
  );

  it('realPathInside and readFileInside never reach outside the root: a real path inside, nothing, or E_UNSAFE_PATH', async () => {
    await fc.assert(
      fc.asyncProperty(relative, async (text) => {
        const real = await realPathInside(root, text).catch((error: unknown) => error);
        if (typeof real === 'string') expect(insideBy(posix, realRoot, real)).toBe(true);
        else if (real !== undefined) expectRegistryError(real, ['E_UNSAFE_PATH']);
        const bytes = await readFileInside(root, text).catch((error: unknown) => error);
        if (Buffer.isBuffer(bytes)) expect(bytes.toString()).toBe('inside');
        else if (bytes !== undefined) expectRegistryError(bytes, ['E_UNSAFE_PATH']);
      }),
      runs(400),
    );
  });
});
