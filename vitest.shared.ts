import { defineConfig } from 'vitest/config';

/** Tests run against `src/` through the `dev-source` export condition, so no build is needed first. */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['dev-source'] },
  ssr: { resolve: { conditions: ['dev-source'], externalConditions: ['dev-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
