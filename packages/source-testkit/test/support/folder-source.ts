/**
 * A deliberately small source used to test the kit itself: a local folder, copied on `materialize`, with a revision
 * hashed from every path and byte. Options let tests break it in one specific way to prove the kit notices.
 */
import { createHash } from 'node:crypto';
import { cp, lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { copyDirectory, defineSource, RegistryError, type SourceAdapter, safeJoin, throwIfAborted } from '@agentos-registry/core';

export interface FolderSourceFaults {
  /** revision() always answers the same id. */
  constantRevision?: boolean;
  /** materialize() ignores the signal. */
  ignoreAbort?: boolean;
  /** materialize() words E_ABORTED itself instead of using core's throwIfAborted. */
  ownAbortWording?: boolean;
  /** materialize() adds a file of its own. */
  extraFile?: boolean;
  /** displayLocation carries the token. */
  leakToken?: boolean;
}

async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(dir, relative))).sort()) {
      const path = join(relative, name);
      const info = await lstat(join(dir, path));
      hash.update(`${path}\n`);
      if (info.isSymbolicLink()) hash.update(await readlink(join(dir, path)));
      else if (info.isDirectory()) await walk(path);
      else hash.update(await readFile(join(dir, path)));
    }
  };
  await walk('');
  return hash.digest('hex');
}

export function folderSource(faults: FolderSourceFaults = {}): SourceAdapter {
  return defineSource({
    type: 'folder-under-test',
    create(config) {
      const root = config.location;
      return {
        displayLocation: faults.leakToken ? `${root}#${String(config.token)}` : root,
        async revision(ctx) {
          ctx.signal.throwIfAborted();
          return { id: faults.constantRevision ? 'constant' : await treeHash(root) };
        },
        async readIndex(_revision, ctx) {
          ctx.signal.throwIfAborted();
          return readFile(join(root, 'registry.json'));
        },
        async materialize(request, ctx) {
          const from = safeJoin(root, request.path);
          if (faults.ignoreAbort) await cp(from, request.destination, { recursive: true, verbatimSymlinks: true });
          else {
            if (faults.ownAbortWording && ctx.signal.aborted) throw new RegistryError('E_ABORTED', 'aborted', { cause: ctx.signal.reason });
            throwIfAborted(ctx.signal, `Copying '${request.path}'`, ctx.registry);
            await copyDirectory(from, request.destination, { signal: ctx.signal });
          }
          if (faults.extraFile) await cp(join(root, 'registry.json'), join(request.destination, 'stamp.json'));
        },
      };
    },
  });
}
