/**
 * Checkers: pure functions of a History returning `{ valid: true | false | 'unknown', anomalyTypes, ... }`.
 * See docs/checkers.md for each model, the anomaly definitions and the costs.
 */

export { writeAnomalyFile } from './anomaly-file.ts';
export {
  type ComposedResult,
  compose,
  EXIT_CODES,
  exitCodeOf,
  runChecker,
  runCheckers,
  VERDICTS,
  type Verdict,
  verdictOf,
} from './compose.ts';
export {
  checkExactlyOnce,
  countMissing,
  type ExactlyOnceCounts,
  type ExactlyOnceEntry,
  type ExactlyOnceLists,
  type ExactlyOnceOptions,
  type ExactlyOnceResult,
  exactlyOnce,
  exactlyOnceEntries,
  listExactlyOnceAnomalies,
  type UnexpectedReason,
} from './exactly-once.ts';
export { type LakeSloResult, lakeSlo } from './lake-slo.ts';
export {
  checkLatency,
  type LatencyOptions,
  type LatencyResult,
  type LatencySummary,
  latency,
  steadyWindow,
  summarize,
  type ThroughputSummary,
  throughputOf,
} from './latency.ts';
export { checkOrder, type OrderOptions, type OrderResult, order } from './order.ts';
export {
  DEFAULT_RECOVERY_OPTIONS,
  type FaultRecovery,
  type RecoveryOptions,
  type RecoveryStatus,
  recoveryTimes,
} from './recovery.ts';
export { checkSchema, type SchemaOptions, type SchemaResult, schema } from './schema.ts';
export { checkSlo, judge, observe, type SloResult, slo, type ThresholdResult } from './slo.ts';
export {
  parseThreshold,
  parseThresholds,
  SLO_METRICS,
  SLO_OPERATORS,
  type SloAggregation,
  type SloMetric,
  type SloOperator,
  type SloSpec,
  type SloUnit,
  type Threshold,
} from './threshold.ts';
export {
  ANOMALIES,
  type AnomalyName,
  type Checker,
  type CheckerResult,
  DEFAULT_MAX_EXAMPLES,
  type Validity,
} from './types.ts';

import { exactlyOnce } from './exactly-once.ts';
import { type LatencyOptions, latency } from './latency.ts';
import { order } from './order.ts';
import { schema } from './schema.ts';
import { slo } from './slo.ts';
import type { SloSpec } from './threshold.ts';
import type { Checker } from './types.ts';

/** The standard set for a `copy`-contract run: exactly-once, order, schema, latency, and the SLOs if any. */
export function standardCheckers(
  options: { slos?: SloSpec; maxExamples?: number; latency?: LatencyOptions } = {},
): Checker[] {
  const ex = options.maxExamples === undefined ? {} : { maxExamples: options.maxExamples };
  return [exactlyOnce(ex), order(ex), schema(ex), latency(options.latency), slo(options.slos ?? {})];
}
export {
  type AccountingCounts,
  type AccountingOptions,
  type AccountingResult,
  accounting,
  checkAccounting,
  type DlqLedger,
} from './accounting.ts';
export {
  checkLineage,
  emptyLineageCounts,
  type LineageCountOf,
  type LineageCounts,
  type LineageEntry,
  type LineageLists,
  type LineageOptions,
  type LineageResult,
  type LineageUnexpectedReason,
  lineage,
  lineageEntries,
  lineageFindings,
  listLineageAnomalies,
} from './lineage.ts';
export { BAD, COMMITTED_PAST, LANDED, LineageTally, type LineageTallyOptions } from './lineage-tally.ts';
export {
  checkModel,
  jsonEquals,
  MODEL_COMPARES,
  type ModelCheckOptions,
  type ModelCompare,
  type ModelCounts,
  type ModelDuplicated,
  type ModelLost,
  type ModelMismatch,
  type ModelOutput,
  type ModelResult,
  type ModelUnexpected,
  model,
} from './model.ts';
