/**
 * slo: evaluates k6-style thresholds (see threshold.ts) against the measured metrics of the history.
 *
 * Model: each threshold reads one number from the history:
 * - `e2e_latency` / `ack_latency`: from the run-total HDR histograms (ms): avg, min, max, med (= p(50)), p(N),
 *   count;
 * - `throughput`: from the per-second output counts of the steady window (first and last partial seconds
 *   dropped when there are 3 or more): avg, min, max, med, p(N) (nearest rank), count = all output records;
 * - `error_rate`: `(offered - acked) / offered` over the good offers, i.e. failed, unknown and unresolved sends over
 *   all sends; bad events (`events.bad`) are left out: refusing one at ingest is what the pipeline must do.
 * `lake_latency` thresholds are not judged here: `lakeSlo` (lake-slo.ts) judges them over the lake's history.
 * A threshold whose metric has no data (no latency recorded, nothing offered) is `unknown`, never a pass.
 * Verdict: false with anomaly `slo-breach` when any threshold fails; `unknown` when none fails and one is unknown;
 * true otherwise (also when there are no thresholds).
 */

import type { History } from '../history/index.ts';
import { percentileMs } from '../history/index.ts';
import { steadyWindow } from './latency.ts';
import { compare, parseThresholds, type SloSpec, type SloUnit, type Threshold } from './threshold.ts';
import type { AnomalyName, Checker, CheckerResult, Validity } from './types.ts';

export interface ThresholdResult {
  readonly metric: string;
  readonly expression: string;
  readonly path: string;
  readonly ok: Validity;
  /** The measured value in `unit`; null when the metric has no data. */
  readonly observed: number | null;
  readonly limit: number;
  readonly unit: SloUnit;
}

export interface SloResult extends CheckerResult {
  readonly checker: 'slo';
  readonly thresholds: readonly ThresholdResult[];
  readonly breaches: readonly ThresholdResult[];
}

export function observe(history: History, t: Threshold): number | null {
  switch (t.metric) {
    case 'e2e_latency':
    case 'lake_latency':
    case 'ack_latency': {
      // A lake history's end-to-end latency is its lake latency (the runner records lake rows as its sightings).
      const h = t.metric === 'ack_latency' ? history.latency.ack : history.latency.e2e;
      if (t.aggregation === 'count') return h.totalCount;
      if (h.totalCount === 0) return null;
      switch (t.aggregation) {
        case 'avg':
          return h.mean / 1000;
        case 'min':
          return percentileMs(h, 0);
        case 'max':
          return percentileMs(h, 100);
        case 'med':
          return percentileMs(h, 50);
        default:
          return percentileMs(h, t.percentile ?? 50);
      }
    }
    case 'throughput': {
      const series = history.latency.series();
      if (t.aggregation === 'count') return series.reduce((s, p) => s + p.observed, 0);
      const values = steadyWindow(series)
        .map((p) => p.observed)
        .sort((a, b) => a - b);
      if (values.length === 0) return null;
      switch (t.aggregation) {
        case 'avg':
          return values.reduce((s, v) => s + v, 0) / values.length;
        case 'min':
          return values[0]!;
        case 'max':
          return values[values.length - 1]!;
        case 'med':
          return nearestRank(values, 50);
        default:
          return nearestRank(values, t.percentile ?? 50);
      }
    }
    case 'error_rate': {
      const c = history.outcomes.counts();
      const offered = c.offered - history.outcomes.badCount();
      const acked = c.acked - history.outcomes.badAckedCount();
      return offered === 0 ? null : (offered - acked) / offered;
    }
  }
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function checkSlo(history: History, thresholds: readonly Threshold[]): SloResult {
  return {
    checker: 'slo',
    ...judge(
      history,
      thresholds.filter((t) => t.metric !== 'lake_latency'),
    ),
  };
}

/** Evaluates thresholds against one history: the verdict part of an SLO result. */
export function judge(history: History, thresholds: readonly Threshold[]): Omit<SloResult, 'checker'> {
  const results: ThresholdResult[] = thresholds.map((t) => {
    const observed = observe(history, t);
    return {
      metric: t.metric,
      expression: t.expression,
      path: t.path,
      ok: observed === null ? 'unknown' : compare(observed, t.operator, t.limit),
      observed,
      limit: t.limit,
      unit: t.unit,
    };
  });
  const breaches = results.filter((r) => r.ok === false);
  const unknown = results.filter((r) => r.ok === 'unknown');
  const anomalyTypes: AnomalyName[] = breaches.length > 0 ? ['slo-breach'] : [];
  const valid: Validity = breaches.length > 0 ? false : unknown.length > 0 ? 'unknown' : true;
  return {
    valid,
    anomalyTypes,
    ...(valid === 'unknown'
      ? { reason: `no data for ${unknown.map((r) => `${r.metric} "${r.expression}"`).join(', ')}` }
      : {}),
    thresholds: results,
    breaches,
  };
}

/** The SLO checker. Parses eagerly: a bad expression throws StreamproofError `SLO_PARSE` here, not at check time. */
export function slo(spec: SloSpec, options: { path?: string } = {}): Checker<SloResult> {
  const thresholds = parseThresholds(spec, options.path ?? 'slos');
  return { name: 'slo', check: (history) => checkSlo(history, thresholds) };
}
