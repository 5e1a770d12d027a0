/**
 * The driver's time source: wall-clock milliseconds with sub-millisecond fractions, and timers. Injected so the
 * pacing and outcome logic run under a fake clock in unit tests (no sleeps, exact times).
 */
export interface Clock {
  /** Milliseconds since the epoch, fractions allowed (same scale as `Date.now()`). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * `performance.timeOrigin + performance.now()`: epoch-scaled like Date.now() (so `sentAt` and history times compare
 * with other components' times) but monotonic and sub-millisecond within the run.
 */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** A manual clock: `advance(ms)` moves time and runs the timers due, in time order. For tests. */
export class FakeClock implements Clock {
  #now: number;
  #timers: FakeTimer[] = [];
  #seq = 0;

  constructor(start = 1_800_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const t = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(t);
    return t;
  }

  clearTimer(handle: unknown): void {
    const i = this.#timers.indexOf(handle as never);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (timers set by timers included). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers)
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
  }
}
