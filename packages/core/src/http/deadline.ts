/**
 * The total deadline of one request. Idle timeouts (connect, headers, body) restart with every byte, so a server
 * that trickles one byte a second never trips them; this timer runs from the first send to the last byte of the
 * body, through retries and redirects, and cancels the request when it fires.
 *
 * undici has no such deadline (its timeouts are idle ones), and `AbortSignal.timeout` cannot be cleared: a
 * long-running host that makes thousands of requests would keep a ten-minute timer for each. Hence this small class.
 */

/** A deadline and the signal that aborts the request: the caller's signal or the deadline, whichever fires first. */
export class Deadline {
  /** Aborts when the caller aborts or the deadline passes. */
  readonly signal: AbortSignal;
  readonly ms: number;
  readonly #timer: NodeJS.Timeout;
  #expired = false;

  constructor(ms: number, caller: AbortSignal | undefined) {
    this.ms = ms;
    const controller = new AbortController();
    this.#timer = setTimeout(() => {
      this.#expired = true;
      controller.abort(new DOMException(`The request took longer than its ${ms} ms deadline.`, 'TimeoutError'));
    }, ms);
    // The request's own sockets keep the process alive while it runs; the timer must not once it is over.
    this.#timer.unref();
    this.signal = caller ? AbortSignal.any([caller, controller.signal]) : controller.signal;
  }

  /** True once the deadline (not the caller) stopped the request. */
  get expired(): boolean {
    return this.#expired;
  }

  /** Stops the timer: the request is over (body read, discarded, or failed). */
  clear(): void {
    clearTimeout(this.#timer);
  }
}
