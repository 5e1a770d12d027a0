/**
 * Recovery time after each fault heals: how long until the output is back to its pre-fault rate and latency.
 *
 * Definition (all on the per-second series of the LatencyStore, seconds = epoch seconds of the observation time):
 * 1. Baseline: the up to `baselineSeconds` (default 10) whole seconds just before the fault's start second, minus
 *    any second that overlaps any fault window and the run's first second (partial). No such second:
 *    status `no-baseline`.
 *    `R0` = mean observed records per second over the baseline; `L0` = p95 end-to-end latency of all baseline
 *    records merged (ms; null when the baseline carried no latency).
 * 2. A second is *in band* when its observed count `r` satisfies `|r - R0| <= rateBand * R0` (default 0.2; both
 *    sides, because a catch-up burst above baseline means the backlog is still draining; when R0 = 0, r must be 0)
 *    and, when L0 is known, its p95 `l` exists and `l <= L0 * (1 + latencyBand) + latencySlackMs` (defaults 0.5 and
 *    5 ms: latency only has an upper band, and the slack keeps a 2 ms baseline from demanding 3 ms).
 * 3. Recovery point: the first second `t >= ceil(healedAt / 1000)` (the first whole second after the heal) such
 *    that `t .. t + stableSeconds - 1` (default 3) are all in band, all before the run's last (partial) second and
 *    all before the next fault's start. `recoveryMs = t * 1000 - healedAt` (1 s resolution).
 *    Status `recovered`; `interrupted` when the next fault started first; `not-recovered` when the run ended first;
 *    `not-healed` when no heal was recorded.
 */

import type { FaultWindow, History, SeriesPoint } from '../history/index.ts';
import { percentileMs } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';

export interface RecoveryOptions {
  readonly baselineSeconds?: number;
  readonly stableSeconds?: number;
  readonly rateBand?: number;
  readonly latencyBand?: number;
  readonly latencySlackMs?: number;
}

export const DEFAULT_RECOVERY_OPTIONS: Required<RecoveryOptions> = {
  baselineSeconds: 10,
  stableSeconds: 3,
  rateBand: 0.2,
  latencyBand: 0.5,
  latencySlackMs: 5,
};

export type RecoveryStatus = 'recovered' | 'not-recovered' | 'interrupted' | 'not-healed' | 'no-baseline';

export interface FaultRecovery {
  readonly faultId: string;
  readonly fault: string;
  readonly target: string | null;
  readonly startedAt: number;
  readonly healedAt: number | null;
  readonly status: RecoveryStatus;
  /** ms from heal to the recovery point; null unless recovered. */
  readonly recoveryMs: number | null;
  /** Epoch ms of the recovery point; null unless recovered. */
  readonly recoveredAt: number | null;
  readonly baseline: { readonly seconds: number; readonly ratePerSec: number; readonly e2eP95Ms: number | null } | null;
}

export function resolveRecoveryOptions(options: RecoveryOptions = {}): Required<RecoveryOptions> {
  const o = { ...DEFAULT_RECOVERY_OPTIONS, ...stripUndefined(options) };
  for (const key of ['baselineSeconds', 'stableSeconds'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) {
      throw StreamproofError.at('CHECKER_INVALID_OPTION', `expected an integer >= 1, got ${o[key]}`, {
        path: `recovery.${key}`,
      });
    }
  }
  for (const key of ['rateBand', 'latencyBand', 'latencySlackMs'] as const) {
    if (!Number.isFinite(o[key]) || o[key] < 0) {
      throw StreamproofError.at('CHECKER_INVALID_OPTION', `expected a number >= 0, got ${o[key]}`, {
        path: `recovery.${key}`,
      });
    }
  }
  return o;
}

/** Recovery of every fault of the history, by start time. */
export function recoveryTimes(history: History, options: RecoveryOptions = {}): FaultRecovery[] {
  const o = resolveRecoveryOptions(options);
  const series = history.latency.series();
  const faults = history.faults;
  return faults.map((f) => recoveryOf(f, faults, series, history, o));
}

function recoveryOf(
  f: FaultWindow,
  faults: readonly FaultWindow[],
  series: readonly SeriesPoint[],
  history: History,
  o: Required<RecoveryOptions>,
): FaultRecovery {
  const base = {
    faultId: f.faultId,
    fault: f.fault,
    target: f.target ?? null,
    startedAt: f.startedAt,
    healedAt: f.healedAt ?? null,
  };
  const none = { recoveryMs: null, recoveredAt: null };
  if (series.length === 0) return { ...base, ...none, status: 'no-baseline', baseline: null };
  const first = series[0]!.second;
  const last = series[series.length - 1]!.second;
  const at = (s: number): SeriesPoint | undefined => series[s - first];

  const startSecond = Math.floor(f.startedAt / 1000);
  const baselineSeconds: number[] = [];
  for (let s = startSecond - o.baselineSeconds; s < startSecond; s++) {
    if (s <= first || s > last) continue;
    if (faults.some((w) => overlaps(w, s))) continue;
    baselineSeconds.push(s);
  }
  if (baselineSeconds.length === 0) return { ...base, ...none, status: 'no-baseline', baseline: null };
  const r0 = baselineSeconds.reduce((sum, s) => sum + (at(s)?.observed ?? 0), 0) / baselineSeconds.length;
  const l0 = percentileMs(mergedOf(history, baselineSeconds), 95);
  const baseline = { seconds: baselineSeconds.length, ratePerSec: r0, e2eP95Ms: l0 };

  if (f.healedAt === undefined) return { ...base, ...none, status: 'not-healed', baseline };

  const inBand = (s: number): boolean => {
    const p = at(s);
    if (p === undefined) return false;
    const rateOk = r0 === 0 ? p.observed === 0 : Math.abs(p.observed - r0) <= o.rateBand * r0;
    if (!rateOk) return false;
    if (l0 === null) return true;
    return p.e2eP95Ms !== null && p.e2eP95Ms <= l0 * (1 + o.latencyBand) + o.latencySlackMs;
  };

  const next = faults.find((w) => w !== f && w.startedAt > f.healedAt!);
  // The last second is partial (the run stopped inside it), so it cannot count as steady state.
  const lastUsable = last - 1;
  const nextStartSecond = next === undefined ? Infinity : Math.floor(next.startedAt / 1000);
  let run = 0;
  for (let s = Math.ceil(f.healedAt / 1000); ; s++) {
    if (s >= nextStartSecond) return { ...base, ...none, status: 'interrupted', baseline };
    if (s > lastUsable) return { ...base, ...none, status: 'not-recovered', baseline };
    run = inBand(s) ? run + 1 : 0;
    if (run === o.stableSeconds) {
      const t = (s - o.stableSeconds + 1) * 1000;
      return { ...base, status: 'recovered', recoveryMs: Math.max(0, t - f.healedAt), recoveredAt: t, baseline };
    }
  }
}

function overlaps(w: FaultWindow, second: number): boolean {
  const from = second * 1000;
  const to = from + 1000;
  return w.startedAt < to && (w.healedAt ?? Infinity) >= from;
}

/** End-to-end histogram of exactly these seconds (baseline seconds need not be contiguous). */
function mergedOf(history: History, seconds: readonly number[]) {
  const h = history.latency.e2eBetween(1, 0);
  for (const s of seconds) h.add(history.latency.e2eBetween(s, s));
  return h;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
