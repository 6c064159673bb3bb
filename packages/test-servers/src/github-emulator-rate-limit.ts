/**
 * GitHub's primary rate limit as the emulator keeps it: one bucket per caller (anonymous callers share one, as they
 * share an IP on loopback; every token has its own), a fixed reset time, and the `x-ratelimit-*` headers GitHub sends
 * on every API response. A conditional request answered 304 is free, as GitHub documents; everything else counts.
 */

/** Numbers of one bucket. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Unix time (seconds) at which the bucket refills. */
  reset: number;
  used: number;
}

/** Settings of the primary rate limit. Unset fields keep GitHub's defaults: 60/h anonymous, 5000/h per token. */
export interface RateLimitSettings {
  limit?: number;
  remaining?: number;
  /** When the bucket refills: a Date or Unix seconds. Default: one hour after the bucket is first used. */
  reset?: Date | number;
}

const ANONYMOUS_LIMIT = 60;
const TOKEN_LIMIT = 5000;

export class RateLimiter {
  private readonly buckets = new Map<string, RateLimitState>();
  private settings: RateLimitSettings;

  constructor(settings: RateLimitSettings = {}) {
    this.settings = { ...settings };
  }

  /** The bucket of a caller: `anonymous`, or an opaque id per token. */
  bucket(caller: string): RateLimitState {
    let state = this.buckets.get(caller);
    if (!state) {
      const limit = this.settings.limit ?? (caller === 'anonymous' ? ANONYMOUS_LIMIT : TOKEN_LIMIT);
      const remaining = Math.min(this.settings.remaining ?? limit, limit);
      state = { limit, remaining, used: limit - remaining, reset: this.resetTime() };
      this.buckets.set(caller, state);
    }
    return state;
  }

  /** Changes every bucket, present and future. */
  set(settings: RateLimitSettings): void {
    this.settings = { ...this.settings, ...settings };
    for (const state of this.buckets.values()) {
      if (settings.limit !== undefined) state.limit = settings.limit;
      if (settings.remaining !== undefined) state.remaining = Math.min(settings.remaining, state.limit);
      if (settings.reset !== undefined) state.reset = this.resetTime();
      state.used = state.limit - state.remaining;
    }
  }

  private resetTime(): number {
    const { reset } = this.settings;
    if (reset instanceof Date) return Math.floor(reset.getTime() / 1000);
    if (typeof reset === 'number') return Math.floor(reset);
    return Math.floor(Date.now() / 1000) + 3600;
  }

  /** Counts one request against the caller's bucket. */
  consume(state: RateLimitState): void {
    if (state.remaining > 0) state.remaining -= 1;
    state.used = state.limit - state.remaining;
  }

  /** The headers GitHub sends with every REST response. */
  static headers(state: RateLimitState): Record<string, string> {
    return {
      'x-ratelimit-limit': String(state.limit),
      'x-ratelimit-remaining': String(state.remaining),
      'x-ratelimit-reset': String(state.reset),
      'x-ratelimit-used': String(state.used),
      'x-ratelimit-resource': 'core',
    };
  }
}
