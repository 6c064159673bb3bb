import { mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// Every test file first gets a private HOME and npm user config (see the setup file): no test may read the
// developer's ~/.npmrc or reach a registry other than its own Verdaccio.
export default mergeConfig(sharedTestConfig, { test: { setupFiles: ['./test/support/isolated-npm-env.ts'] } });
