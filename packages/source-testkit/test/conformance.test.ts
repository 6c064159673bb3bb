import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runSourceConformance } from '../src/index.js';
import { folderSource } from './support/folder-source.js';

// The kit run the way a source author runs it: vitest's own functions, a harness that publishes a plain folder.
runSourceConformance(
  { describe, test, expect, beforeAll, afterAll },
  {
    name: 'folder-under-test',
    adapter: [folderSource()],
    async setup(fixture) {
      return {
        config: { type: 'folder-under-test', location: fixture.dir },
        update: (mutate) => mutate(fixture.dir),
      };
    },
  },
);
