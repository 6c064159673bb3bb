import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';

// Issue 13: a source is a thin transport. It writes nothing to disk itself (core's extractor and tree writer do, and
// packRegistry, which authors a site, lives in core), and it words no E_ABORTED of its own (core's abortError does).
test('source-github imports no file-system module and builds no E_ABORTED of its own', async () => {
  const dir = join(import.meta.dirname, '../src');
  for (const name of await readdir(dir)) {
    const text = await readFile(join(dir, name), 'utf8');
    expect(text, name).not.toMatch(/from ['"](node:)?fs(\/promises)?['"]/);
    expect(text, name).not.toMatch(/['"]E_ABORTED['"]/);
  }
});
