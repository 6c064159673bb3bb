import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conformanceFixture, indexText } from './fixture.js';

const echo = conformanceFixture.entries[0]!;

/** The `updated` stamp the edit mutation writes into `registry.json`. */
export const EDITED_UPDATED = '2025-01-01T00:00:00.000Z';

/** The echo tool's `src/index.js` after the edit mutation: the original plus one line, so its size changes too. */
export const EDITED_ECHO_CODE = `${echo.files['src/index.js'] as string}// edited by the conformance suite\n`;

/** Id of the entry whose index path leaves the registry. */
export const ESCAPING_ENTRY_ID = 'com.conformance.escaping';

/** The parts of the fixture's `registry.json` the mutations touch; the rest is written back untouched. */
interface EditableIndex {
  updated?: string;
  extensions: { curated: unknown[] };
  [field: string]: unknown;
}

async function readIndex(dir: string): Promise<EditableIndex> {
  return JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8')) as EditableIndex;
}

/** An ordinary publish: new code for the echo tool and a new `updated` stamp in the index. */
export async function editEchoTool(dir: string): Promise<void> {
  await writeFile(join(dir, echo.folder, 'src/index.js'), EDITED_ECHO_CODE);
  const index = await readIndex(dir);
  index.updated = EDITED_UPDATED;
  await writeFile(join(dir, 'registry.json'), indexText(index));
}

/**
 * Lists an entry at `../outside`. The folder it would reach (the repository root's `outside/`, since page-shape
 * paths are relative to `registry/`) is created with a valid manifest, so a source or core that joined the path
 * without checking would find a real entry there and the check would catch it.
 */
export async function addEscapingEntry(dir: string): Promise<void> {
  const index = await readIndex(dir);
  index.extensions.curated.push({ id: ESCAPING_ENTRY_ID, name: 'Escaping Entry', version: '1.0.0', path: '../outside' });
  await writeFile(join(dir, 'registry.json'), indexText(index));
  await mkdir(join(dir, 'outside'), { recursive: true });
  await writeFile(
    join(dir, 'outside', 'manifest.json'),
    `${JSON.stringify({ id: ESCAPING_ENTRY_ID, name: 'Escaping Entry', version: '1.0.0', extensions: [] }, null, 2)}\n`,
  );
}

/** Puts a relative symlink in the echo tool that points at a file of the registry outside the entry folder. */
export async function addEscapingSymlink(dir: string): Promise<void> {
  await writeFile(join(dir, 'outside-entry.txt'), 'This file belongs to no entry.\n');
  // From registry/curated/echo/src, four levels up is the registry root.
  await symlink('../../../../outside-entry.txt', join(dir, echo.folder, 'src', 'leak.js'));
}
