/**
 * Hostile review: "messages never quote bytes of a file that failed to parse" (DESIGN, rules that hold everywhere).
 * Node's JSON.parse puts the first bytes of the text into its message (`Unexpected token 'T', "{"a": TOP-SECRET"... is
 * not valid JSON`), and core copies that message into E_INDEX_INVALID for registry.json and manifest.json (also
 * persona.json, which goes through the same reader), so the bytes a registry sends — control characters included —
 * end up in the error message and whatever prints it.
 *
 * Fixed by json-text.ts (line and column only, never the SyntaxError's message); this pins it from the outside.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRegistryIndex } from '../src/index.js';
import { readEntryManifest } from '../src/manifest.js';
import { writeTree } from './helpers.js';

const BYTES = '{"a": TOP-SECRET-\u001b[2J-bytes}';

async function messageOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => String((error as Error).message),
  );
}

describe('a file that is not JSON: the message names the file, never its bytes', () => {
  it('registry.json', async () => {
    const message = await messageOf((async () => parseRegistryIndex(BYTES, { registry: 'acme' }))());
    expect(message).toContain('registry.json');
    expect(message).not.toContain('TOP-SECRET');
    expect(message).not.toContain('\u001b');
  });

  it('manifest.json', async () => {
    const dir = await writeTree({ 'manifest.json': BYTES });
    const entry = { id: 'x', name: 'X', version: '1.0.0', path: 'curated/x', section: 'extensions', kinds: ['tool'], raw: {} } as never;
    const message = await messageOf(readEntryManifest(join(dir), entry, 'acme'));
    expect(message).toContain('manifest.json');
    expect(message).not.toContain('TOP-SECRET');
  });
});
