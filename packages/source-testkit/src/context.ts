import type { ConformanceExpect, ConformanceRunner } from './runner.js';
import type { ConformanceSession } from './session.js';

/** What each group of checks gets from `runSourceConformance`. */
export interface CheckContext {
  expect: ConformanceExpect;
  /** Registers a test with the suite's timeout. */
  test(name: string, body: () => Promise<void>): void;
  describe: ConformanceRunner['describe'];
  /** Sets the shared session up in a `beforeAll` of the current group, so setup time is not charged to a test. */
  prepareShared(): void;
  /** The session shared by the checks that change nothing (set up once). */
  shared(): Promise<ConformanceSession>;
  /** Sets the HTTPS session up in a `beforeAll` of the current group (harnesses with an `https` hook only). */
  prepareHttps(): void;
  /** The session published through the harness's `https` hook, shared by the transport checks (set up once). */
  https(): Promise<ConformanceSession>;
  /** Runs `body` against a session of its own, for checks that change the registry; cleans up afterwards. */
  fresh(body: (session: ConformanceSession) => Promise<void>): Promise<void>;
}
