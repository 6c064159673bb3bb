/**
 * The test runner the suite registers its tests with, typed by shape so the kit depends on no runner. Vitest's
 * `describe`, `test`, `expect`, `beforeAll` and `afterAll` fit as they are; so do Jest's.
 */

/** The assertions the suite uses. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toContain(item: unknown): void;
  not: {
    toBe(expected: unknown): void;
    toContain(item: unknown): void;
  };
}

/** `expect(actual, message?)`; the message names what was compared when an assertion fails. */
export type ConformanceExpect = (actual: unknown, message?: string) => ConformanceAssertion;

/** The runner functions the suite needs. `beforeAll`/`afterAll` let it set a harness up once and tear it down. */
export interface ConformanceRunner {
  describe(name: string, body: () => void): unknown;
  test(name: string, body: () => Promise<void>, timeout?: number): unknown;
  expect: ConformanceExpect;
  beforeAll?(body: () => Promise<void>, timeout?: number): unknown;
  afterAll?(body: () => Promise<void>, timeout?: number): unknown;
}
