/** Anything this package starts: servers, repositories, temp folders. */
export interface Closable {
  close(): Promise<void> | void;
}

/**
 * Collects things to close and closes them in reverse order (last started, first stopped), so a
 * proxy goes down before the server behind it and repos are removed after the servers using them.
 */
export class Cleanup {
  private readonly stack: Closable[] = [];

  /** Registers `item` (or the result of a start promise) and hands it back. */
  async add<T extends Closable>(item: T | Promise<T>): Promise<T> {
    const resolved = await item;
    this.stack.push(resolved);
    return resolved;
  }

  /** Registers a plain function to run at cleanup. */
  defer(fn: () => Promise<void> | void): void {
    this.stack.push({ close: fn });
  }

  /** Closes everything registered so far; every close runs even if one fails, the first error is rethrown. */
  async run(): Promise<void> {
    let firstError: unknown;
    while (this.stack.length > 0) {
      const item = this.stack.pop();
      try {
        await item?.close();
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}

/**
 * Runs `fn` with a {@link Cleanup} and always runs the cleanup afterwards, even when `fn` throws:
 * `await withServers(async (use) => { const s = await use(startStaticServer({ root })); … })`.
 */
export async function withServers<T>(fn: (use: Cleanup['add'], cleanup: Cleanup) => Promise<T>): Promise<T> {
  const cleanup = new Cleanup();
  try {
    return await fn((item) => cleanup.add(item), cleanup);
  } finally {
    await cleanup.run();
  }
}
