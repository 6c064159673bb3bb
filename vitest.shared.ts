import { defineConfig } from 'vitest/config';

/**
 * Shared by every package. Tests run against `src/` through the `dev-source` export condition, so no build is
 * needed first; a JSON report per package lets `scripts/test.mjs` print one total for the whole repository.
 */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'], externalConditions: ['dev-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A request reaching a server, or a child's log line, can take more than the default second on a loaded machine.
    expect: { poll: { timeout: 10_000 } },
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
