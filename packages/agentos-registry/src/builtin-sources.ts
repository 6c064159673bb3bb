import type { SourceAdapter } from '@agentos-registry/core';
import { fileSource } from '@agentos-registry/source-file';
import { gitSource } from '@agentos-registry/source-git';
import { githubSource } from '@agentos-registry/source-github';
import { npmSource } from '@agentos-registry/source-npm';
import { urlSource } from '@agentos-registry/source-url';

/**
 * A fresh list of the source adapters built into `agentos-registry`: file, git, github, url and npm. It loads them
 * all; `createRegistry` does not need it (it loads each source when a config first uses its type).
 */
export function builtinSources(): SourceAdapter[] {
  return [fileSource(), gitSource(), githubSource(), urlSource(), npmSource()];
}
