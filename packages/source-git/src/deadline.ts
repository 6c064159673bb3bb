import type { TransferPurpose } from '@agentos-registry/core';

/**
 * The total deadline of one step that talks to the server, and the option that sets it (`timeouts.index` or
 * `timeouts.entry`, named after what the step downloads, as for every HTTP source).
 */
export interface StepDeadline {
  purpose: TransferPurpose;
  ms: number;
}

/**
 * A running deadline: a signal that fires when the caller aborts or `ms` pass, whichever is first, and which of the
 * two it was. Idle timeouts (git's `http.lowSpeedTime`, undici's body timeout) restart with every byte, so a server
 * that trickles one byte a second never trips them; this timer cannot be reset by the server.
 *
 * Core's HTTP client has the same class for its requests but does not export it; this one also serves the native
 * engine, whose git processes no HTTP client of ours sees. A timer rather than `AbortSignal.timeout`, because it
 * must be cleared when the step ends (a host making thousands of calls would otherwise hold a timer for each).
 */
export class RunningDeadline {
  readonly signal: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  #expired = false;

  constructor(
    readonly step: StepDeadline,
    caller: AbortSignal,
  ) {
    const controller = new AbortController();
    this.#timer = setTimeout(() => {
      this.#expired = true;
      controller.abort(new DOMException(`The step took longer than its ${step.ms} ms deadline (timeouts.${step.purpose}).`, 'TimeoutError'));
    }, step.ms);
    // The git process or socket keeps the host alive while the step runs; the timer must not once it is over.
    this.#timer.unref();
    this.signal = AbortSignal.any([caller, controller.signal]);
  }

  /** True once the deadline, not the caller, stopped the step. */
  get expired(): boolean {
    return this.#expired;
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
