/**
 * lake-slo: the `lake_latency` thresholds of an SLO spec, judged over the history of a lake output.
 *
 * Model: when a scenario's output lands in a lake, the runner builds a second History for it (sharing the offered
 * and outcome store of the main one) and records every committed row as a sighting whose `time` is the row's
 * visibility time (a column the scenario names, or its commit's time). That history's end-to-end latency is the
 * lake-visible latency; `lake_latency` thresholds read it exactly like `e2e_latency` reads the main one (avg, min,
 * max, med, p(N), count). Thresholds on other metrics are left to `slo` over the main history, which in turn skips
 * `lake_latency`. No data (no row seen) is `unknown`, never a pass.
 */

import type { History } from '../history/index.ts';
import { judge, type SloResult } from './slo.ts';
import { parseThresholds, type SloSpec } from './threshold.ts';
import type { Checker } from './types.ts';

export interface LakeSloResult extends Omit<SloResult, 'checker'> {
  readonly checker: 'lake-slo';
}

/** The lake_latency thresholds of `spec`, parsed eagerly (a bad one throws `SLO_PARSE` here, exit 64). */
export function lakeSlo(spec: SloSpec, options: { path?: string } = {}): Checker<LakeSloResult> {
  const thresholds = parseThresholds(spec, options.path ?? 'slos').filter((t) => t.metric === 'lake_latency');
  return {
    name: 'lake-slo',
    check: (lakeHistory: History) => ({ checker: 'lake-slo', ...judge(lakeHistory, thresholds) }),
  };
}
