/**
 * `@agentos-registry/source-testkit`: the conformance suite every agentos-registry source runs, ours and third
 * parties'. Hand it your test runner and a harness that publishes the fixture registry through your source.
 */
export { runSourceConformance } from './suite.js';
export {
  type ConformanceFixture,
  type ConformanceFixtureData,
  type ConformanceFixtureEntry,
  conformanceFixture,
  writeConformanceFixture,
} from './fixture.js';
export type { ConformanceMutation, ConformanceOptions, ConformanceSkips, PublishedRegistry, SourceHarness } from './harness.js';
export type { ConformanceAssertion, ConformanceExpect, ConformanceRunner } from './runner.js';
export { CONFORMANCE_REGISTRY, CONFORMANCE_TOKEN } from './session.js';
export type { ConformanceTls } from './tls.js';
