import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runSourceConformance } from '@agentos-registry/source-testkit';
import { fileSource } from '../src/index.js';

// A folder is its own medium: publishing is pointing at it, and an update is editing it.
runSourceConformance(
  { describe, test, expect, beforeAll, afterAll },
  {
    name: 'file',
    adapter: [fileSource()],
    async setup(fixture) {
      return {
        config: { type: 'file', location: fixture.dir },
        update: (mutate) => mutate(fixture.dir),
      };
    },
  },
);
