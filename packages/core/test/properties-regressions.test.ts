/**
 * The counterexamples the property tests (`properties-*.test.ts`) shrank to, kept as plain examples so that each bug
 * stays fixed even if a generator changes and stops finding it.
 */
import { win32 } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRegistryIndex } from '../src/index-format.js';
import { normalizeRelativePath } from '../src/paths.js';
import { expectRegistryError, thrown } from './support/properties.js';

describe('a path that normalizes to a Windows drive is refused (properties-paths: "\\u202e/../C:/..a")', () => {
  // The drive check ran on the text only; `x/..` before it normalized away, leaving `C:/…`, which Windows resolves
  // to the root of the drive (or, for `D:x`, to the current folder of another drive).
  it.each(['\u202e/../C:/..a', 'x/../C:/Windows/win.ini', 'x/..\\C:\\Windows', 'x/../D:secret', 'a/b/../../c:'])('%j', (text) => {
    const error = thrown(() => normalizeRelativePath(text));
    expectRegistryError(error, ['E_UNSAFE_PATH']);
    expect(error.message).toContain('is absolute');
  });
  it('a drive-like name deeper in a path stays allowed: it resolves inside the root on Windows too', () => {
    expect(normalizeRelativePath('x/C:/y')).toBe('x/C:/y');
    expect(win32.resolve('C:\\root', 'x/C:/y')).toBe('C:\\root\\x\\C:\\y');
  });
  it('registry.json with such an entry path is E_UNSAFE_PATH', () => {
    const index = { pathBase: 'root', extensions: { curated: [{ id: 'a', name: 'a', version: '1.0.0', path: 'registry/../C:/Windows' }] } };
    expectRegistryError(
      thrown(() => parseRegistryIndex(JSON.stringify(index), { registry: 'r' })),
      ['E_UNSAFE_PATH'],
    );
  });
});

describe('the base of entry paths is inferred from their normal form (properties-index: ".registry/0")', () => {
  // The inference read the text with /^\.?\/?registry\//, whose optional dot also matched `.registry/`: one entry in a
  // folder named `.registry` made every other page-style path root-relative (`curated/a` lost its `registry/`).
  const index = (paths: string[]) => JSON.stringify({ extensions: { curated: paths.map((path, i) => ({ id: `a${i}`, name: 'a', version: '1.0.0', path })) } });
  const pathsOf = (paths: string[]) => parseRegistryIndex(index(paths), { registry: 'r' }).entries.map((e) => e.path);
  it('a folder named .registry is an ordinary page-style folder', () => {
    expect(pathsOf(['curated/a', '.registry/0'])).toEqual(['registry/curated/a', 'registry/.registry/0']);
  });
  it.each([['./registry/x'], ['.\\registry\\x'], ['registry\\x'], ['.//registry/x'], ['registry//x/']])('%j is root-relative, as registry/x is', (path) => {
    expect(pathsOf([path, 'templates/t'])).toEqual(['registry/x', 'templates/t']);
  });
});

describe('E_UNSAFE_PATH from registry.json names the file and the json path apart (properties-index: "../")', () => {
  // details.field was "registry.json extensions.curated[0].path" — file and field run together — where every other
  // index error gives details.file and a json path in details.field.
  it('details: { file, field, path }; the message is unchanged', () => {
    const index = { extensions: { curated: [{ id: 'a', name: 'a', version: '1.0.0', path: '../' }] } };
    const error = thrown(() => parseRegistryIndex(JSON.stringify(index), { registry: 'r' }));
    expectRegistryError(error, ['E_UNSAFE_PATH']);
    expect(error.details).toEqual({ file: 'registry.json', field: 'extensions.curated[0].path', path: '../' });
    expect(error.message).toContain('registry.json extensions.curated[0].path "../" escapes the registry root');
  });
});
