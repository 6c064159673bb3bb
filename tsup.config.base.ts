import { defineConfig, type Options } from 'tsup';

/**
 * The one build config every package shares: ESM only, Node 20, declarations, source maps.
 * A package passes its own entry points (and anything else that differs) as overrides.
 */
export function packageConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    removeNodeProtocol: false,
    ...overrides,
  });
}
