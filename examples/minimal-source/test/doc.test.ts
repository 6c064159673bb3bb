import { readFile } from 'node:fs/promises';
import { expect, test } from 'vitest';

// docs/writing-a-source.md embeds src/index.ts; this keeps the two from drifting apart.
test('the code block in docs/writing-a-source.md is src/index.ts, byte for byte', async () => {
  const doc = await readFile(new URL('../../../docs/writing-a-source.md', import.meta.url), 'utf8');
  const source = await readFile(new URL('../src/index.ts', import.meta.url), 'utf8');
  const marker = '<!-- examples/minimal-source/src/index.ts -->\n```ts\n';
  const start = doc.indexOf(marker);
  expect(start, `the doc has the marker ${JSON.stringify(marker)}`).toBeGreaterThan(-1);
  const end = doc.indexOf('\n```\n', start + marker.length);
  expect(doc.slice(start + marker.length, end + 1)).toBe(source);
});
