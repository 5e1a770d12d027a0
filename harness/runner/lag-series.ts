/**
 * The lag in a run's result, as data: its points and labels, and the fallback derived from the per-second series.
 * Pure (no client, no I/O), so the reporters may use it; the sampling itself is lag.ts.
 */
export interface LagPoint {
  /** Epoch second of the sample. */
  readonly second: number;
  readonly lag: number;
}

export interface LagResult {
  readonly group: string;
  readonly topic: string;
  /** `consumer-group`: sampled offsets; `acked-minus-observed`: derived from the per-second series. */
  readonly source: 'consumer-group' | 'acked-minus-observed';
  /** What the number means, for a chart label. */
  readonly label: string;
  readonly series: readonly LagPoint[];
  /** Samples skipped (errors, timeouts, overlaps). */
  readonly skippedSamples: number;
}

export const GROUP_LAG_LABEL = 'consumer-group lag: input records not yet committed by the SUT';
export const DERIVED_LAG_LABEL = 'records acked but not yet seen in output (cumulative acked - observed)';

/** Fallback lag from the per-second series: cumulative acked minus cumulative observed, never below 0. */
export function lagFromSeries(series: readonly { second: number; acked: number; observed: number }[]): LagPoint[] {
  let acked = 0;
  let observed = 0;
  return series.map((p) => {
    acked += p.acked;
    observed += p.observed;
    return { second: p.second, lag: Math.max(0, acked - observed) };
  });
}
