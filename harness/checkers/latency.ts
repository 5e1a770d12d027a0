/**
 * latency: what the run measured, for reports and for the SLO checker. It judges nothing (`valid` is true);
 * thresholds belong to `slo`.
 *
 * Model: from the LatencyStore (HDR histograms recorded in µs, reported here in ms):
 * - end-to-end latency `observedAt - sentAt` of every decodable output record, ack latency `ackTime - sentAt`
 *   of every acked send (both from the intended send time, so driver lag counts: no coordinated omission);
 *   min / mean / p50 / p95 / p99 / p99.9 / max; HDR keeps 3 significant digits (values within 0.1%);
 * - the per-second series (offered / acked / failed / unknown / observed, end-to-end p50 / p95 / p99);
 * - throughput: mean per-second rates over the *steady window*, the series without its first and last seconds
 *   (partial seconds of ramp-up and shutdown) when it has at least 3;
 * - recovery time after each fault heals (see recovery.ts for the exact definition).
 */

import type { Histogram } from 'hdr-histogram-js';
import type { History, SeriesPoint } from '../history/index.ts';
import { percentileMs } from '../history/index.ts';
import { type FaultRecovery, type RecoveryOptions, recoveryTimes, resolveRecoveryOptions } from './recovery.ts';
import type { Checker, CheckerResult } from './types.ts';

export interface LatencySummary {
  readonly count: number;
  readonly minMs: number | null;
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
}

export interface ThroughputSummary {
  /** Seconds in the steady window. */
  readonly seconds: number;
  readonly offeredPerSec: number | null;
  readonly ackedPerSec: number | null;
  readonly observedPerSec: number | null;
}

export interface LatencyOptions {
  readonly recovery?: RecoveryOptions;
  /** Include the per-second series in the result. Default true. */
  readonly series?: boolean;
}

export interface LatencyResult extends CheckerResult {
  readonly checker: 'latency';
  readonly unit: 'ms';
  readonly e2e: LatencySummary;
  readonly ack: LatencySummary;
  readonly throughput: ThroughputSummary;
  readonly series: readonly SeriesPoint[];
  readonly recovery: readonly FaultRecovery[];
  readonly notes: { readonly negativeE2e: number; readonly negativeAck: number; readonly missingSentAt: number };
}

export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  if (n === 0) {
    return { count: 0, minMs: null, meanMs: null, p50Ms: null, p95Ms: null, p99Ms: null, p999Ms: null, maxMs: null };
  }
  return {
    count: n,
    minMs: h.getValueAtPercentile(0) / 1000,
    meanMs: h.mean / 1000,
    p50Ms: percentileMs(h, 50),
    p95Ms: percentileMs(h, 95),
    p99Ms: percentileMs(h, 99),
    p999Ms: percentileMs(h, 99.9),
    // Percentile 100 (highest equivalent value) rather than maxValue: it survives merges and JSON unchanged.
    maxMs: percentileMs(h, 100),
  };
}

/** The series without its first and last (partial) seconds when it has at least 3 seconds. */
export function steadyWindow(series: readonly SeriesPoint[]): readonly SeriesPoint[] {
  return series.length >= 3 ? series.slice(1, -1) : series;
}

export function throughputOf(series: readonly SeriesPoint[]): ThroughputSummary {
  const w = steadyWindow(series);
  const mean = (pick: (p: SeriesPoint) => number): number | null =>
    w.length === 0 ? null : w.reduce((s, p) => s + pick(p), 0) / w.length;
  return {
    seconds: w.length,
    offeredPerSec: mean((p) => p.offered),
    ackedPerSec: mean((p) => p.acked),
    observedPerSec: mean((p) => p.observed),
  };
}

export function checkLatency(history: History, options: LatencyOptions = {}): LatencyResult {
  const series = history.latency.series();
  return {
    checker: 'latency',
    valid: true,
    anomalyTypes: [],
    unit: 'ms',
    e2e: summarize(history.latency.e2e),
    ack: summarize(history.latency.ack),
    throughput: throughputOf(series),
    series: options.series === false ? [] : series,
    recovery: recoveryTimes(history, options.recovery),
    notes: {
      negativeE2e: history.latency.negative.e2e,
      negativeAck: history.latency.negative.ack,
      missingSentAt: history.latency.missingSentAt,
    },
  };
}

export function latency(options: LatencyOptions = {}): Checker<LatencyResult> {
  resolveRecoveryOptions(options.recovery);
  return { name: 'latency', check: (history) => checkLatency(history, options) };
}
