/**
 * The send schedule: the intended send time (`sent_at`, ms epoch) of the event with producer seq `index`. This is the
 * open model's clock: the load driver sends event i at `sentAt(i)` whatever the acks do.
 *
 * Model: the rate is piecewise linear in time. A schedule is a list of stages `{ durationMs, rate, endRate? }`; in a
 * stage the rate (events/s) moves linearly from `rate` to `endRate` (default `rate`, a steady stage). So
 *
 *   ramp   { durationMs: 30_000, rate: 0, endRate: 50_000 }
 *   steady { durationMs: 60_000, rate: 50_000 }
 *   spike  { durationMs: 2_000, rate: 500_000 }
 *
 * With N(t) the events due by time t (the integral of the rate), event i is due at the first t with N(t) = i, floored
 * to the millisecond. In a stage starting at T with n events before it, a rate rho0 (events/ms) and a slope alpha
 * (events/ms^2), event i has k = i - n and
 *
 *   t = T + 2k / (rho0 + sqrt(rho0^2 + 2 alpha k))        (the root of rho0 t + alpha t^2 / 2 = k, stable form)
 *
 * which is k / rho0 for a steady stage. After the last stage, the last stage's end rate continues; if it is 0 the
 * schedule is finite (`events`) and asking for a later index is a RangeError.
 *
 * Why stages and not a `sentAt(index)` callback: stages are plain data (scenarios are JSON, a function is not), are
 * validated once (non-decreasing by construction), and the bulk generator fills a whole chunk's send times in one
 * monomorphic loop: a multiply per event when steady, one sqrt when ramping. A user callback per event is a call V8
 * cannot inline (a different closure per driver) and would need a monotonicity check per event.
 *
 * Without stages the schedule is `startTime + floor(index * 1000 / ratePerSec)`, computed exactly as before stages
 * existed, so seeds replay the same streams.
 */
import { optionError } from './options.ts';

export interface LoadStage {
  /** Length of the stage, ms (> 0). */
  durationMs: number;
  /** Rate at the start of the stage, events/s (>= 0). */
  rate: number;
  /** Rate at the end of the stage, events/s (>= 0); the rate is linear in between. Default `rate` (steady). */
  endRate?: number;
}

export const MAX_STAGES = 10_000;
const MAX_RATE = 1e9;

export class SendSchedule {
  /** Events in the stages (Infinity when the schedule goes on: no stages, or a last stage ending at a rate > 0). */
  readonly events: number;
  /** Length of the stages in ms (0 without stages). */
  readonly durationMs: number;
  // Per segment (the stages, plus a steady tail when the last rate is > 0): start index n, start offset T (ms),
  // rho0 (events/ms), alpha (events/ms^2), length (ms) for clamping.
  private readonly n: Float64Array;
  private readonly t: Float64Array;
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private readonly len: Float64Array;
  private readonly segments: number;
  private readonly msPerEvent: number;

  constructor(
    readonly startTime: number,
    readonly ratePerSec: number,
    readonly stages: readonly Readonly<LoadStage>[] | undefined,
  ) {
    this.msPerEvent = 1000 / ratePerSec;
    const list = stages ?? [];
    const segs: { n: number; t: number; rho: number; alpha: number; len: number }[] = [];
    let n = 0;
    let t = 0;
    for (const s of list) {
      const r0 = s.rate / 1000;
      const r1 = (s.endRate ?? s.rate) / 1000;
      const count = ((r0 + r1) / 2) * s.durationMs;
      if (count > 0) segs.push({ n, t, rho: r0, alpha: (r1 - r0) / s.durationMs, len: s.durationMs });
      n += count;
      t += s.durationMs;
    }
    this.durationMs = t;
    const last = list[list.length - 1];
    const tail = last === undefined ? 0 : (last.endRate ?? last.rate) / 1000;
    if (tail > 0) segs.push({ n, t, rho: tail, alpha: 0, len: Number.POSITIVE_INFINITY });
    this.events = last === undefined || tail > 0 ? Number.POSITIVE_INFINITY : Math.ceil(n);
    this.segments = segs.length;
    this.n = Float64Array.from(segs, (s) => s.n);
    this.t = Float64Array.from(segs, (s) => s.t);
    this.rho = Float64Array.from(segs, (s) => s.rho);
    this.alpha = Float64Array.from(segs, (s) => s.alpha);
    this.len = Float64Array.from(segs, (s) => s.len);
  }

  /** Intended send time of event `index`, ms epoch. Non-decreasing in index. */
  at(index: number): number {
    if (this.stages === undefined) return this.startTime + Math.floor(index * this.msPerEvent);
    if (index >= this.events) throw this.exhausted(index);
    const s = this.segmentOf(index, 0);
    return this.startTime + Math.floor(this.offset(s, index));
  }

  /** Fills out[from .. from + count) with the send times of indices first .. first + count - 1. */
  fill(out: Float64Array, from: number, first: number, count: number): void {
    const start = this.startTime;
    if (this.stages === undefined) {
      const ms = this.msPerEvent;
      for (let i = 0; i < count; i++) out[from + i] = start + Math.floor((first + i) * ms);
      return;
    }
    if (first + count > this.events) throw this.exhausted(first + count - 1);
    let s = this.segmentOf(first, 0);
    let next = s + 1 < this.segments ? this.n[s + 1]! : Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const index = first + i;
      while (index >= next) {
        s++;
        next = s + 1 < this.segments ? this.n[s + 1]! : Number.POSITIVE_INFINITY;
      }
      out[from + i] = start + Math.floor(this.offset(s, index));
    }
  }

  private segmentOf(index: number, from: number): number {
    let s = from;
    while (s + 1 < this.segments && index >= this.n[s + 1]!) s++;
    return s;
  }

  /** ms after startTime at which event `index` (in segment s) is due. */
  private offset(s: number, index: number): number {
    const k = index - this.n[s]!;
    if (k <= 0) return this.t[s]!;
    const rho = this.rho[s]!;
    // max(0, ..): in a ramp down, rounding may take the discriminant a hair below 0 at the stage's last event.
    const dt = (2 * k) / (rho + Math.sqrt(Math.max(0, rho * rho + 2 * this.alpha[s]! * k)));
    // Rounding must never push an event past its stage's end (send times stay non-decreasing across stages).
    return this.t[s]! + Math.min(dt, this.len[s]!);
  }

  private exhausted(index: number): RangeError {
    return new RangeError(
      `the send schedule holds ${this.events} events (its last stage ends at rate 0); event ${index} has no send time`,
    );
  }
}

/** Validates `stages` (undefined = none), naming the path of the bad entry. */
export function stagesOption(path: string, value: unknown): LoadStage[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_STAGES) {
    throw optionError(path, `a list of 1..${MAX_STAGES} stages { durationMs, rate, endRate? }`, value);
  }
  let events = 0;
  const out = value.map((s: unknown, i): LoadStage => {
    const p = `${path}[${i}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) {
      throw optionError(p, 'a stage { durationMs, rate, endRate? }', s);
    }
    for (const key of Object.keys(s)) {
      if (!['durationMs', 'rate', 'endRate'].includes(key)) {
        throw optionError(`${p}.${key}`, 'one of durationMs, rate, endRate', key);
      }
    }
    const { durationMs, rate, endRate } = s as Record<string, unknown>;
    if (typeof durationMs !== 'number' || !(durationMs > 0 && durationMs <= 365 * 86_400_000)) {
      throw optionError(`${p}.durationMs`, 'a duration in ms in (0, 31536000000]', durationMs);
    }
    const checkRate = (name: string, r: unknown) => {
      if (typeof r !== 'number' || !(r >= 0 && r <= MAX_RATE)) {
        throw optionError(`${p}.${name}`, `a rate in events/s in [0, ${MAX_RATE}]`, r);
      }
    };
    checkRate('rate', rate);
    if (endRate !== undefined) checkRate('endRate', endRate);
    events += (((rate as number) + ((endRate as number | undefined) ?? (rate as number))) / 2000) * durationMs;
    return endRate === undefined
      ? { durationMs, rate: rate as number }
      : { durationMs, rate: rate as number, endRate: endRate as number };
  });
  const last = out[out.length - 1]!;
  if (events < 1 && (last.endRate ?? last.rate) === 0) {
    throw optionError(path, 'stages that schedule at least one event', value);
  }
  return out;
}
