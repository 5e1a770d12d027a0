/**
 * streamproof as a library: `import { run, startStack, defineScenario } from 'streamproof'`.
 *
 * - Runs: `run(scenario, options)` (one certification run, as `streamproof run`), `certify(options)` (a suite, as
 *   `streamproof certify`), `report(result, options)` (a stored result rendered, as `streamproof report`).
 * - Scenarios: `defineScenario` (typed authoring), `loadScenario` (a .json/.ts/.js file), `validateScenario`.
 * - The stack: `startStack` (a real Kafka + Toxiproxy + registry; `await using`), `attachStack` (`stack up`'s).
 * - Checkers (pure functions of a History) and reporters (pure functions of stored results), usable on their own.
 * - Matchers for vitest: `import 'streamproof/vitest'`.
 */

export {
  type CertifyApiOptions,
  certify,
  type ProgressOption,
  type ReportApiOptions,
  type RunApiOptions,
  report,
  resolveScenario,
  run,
  type ScenarioLike,
} from './harness/api.ts';
export type { Certification, CertifyOutcome, Tolerances } from './harness/certify/index.ts';
// Checkers.
export {
  type AccountingResult,
  ANOMALIES,
  type AnomalyName,
  accounting,
  type Checker,
  type CheckerResult,
  type ComposedResult,
  checkAccounting,
  checkExactlyOnce,
  checkLatency,
  checkLineage,
  checkModel,
  checkOrder,
  checkSchema,
  checkSlo,
  compose,
  EXIT_CODES,
  type ExactlyOnceResult,
  exactlyOnce,
  exitCodeOf,
  type LatencyResult,
  type LineageResult,
  latency,
  lineage,
  listExactlyOnceAnomalies,
  type ModelResult,
  model,
  type OrderResult,
  order,
  parseThreshold,
  parseThresholds,
  runChecker,
  runCheckers,
  type SchemaResult,
  type SloResult,
  type SloSpec,
  schema,
  slo,
  standardCheckers,
  type Threshold,
  type Validity,
  VERDICTS,
  type Verdict,
  verdictOf,
} from './harness/checkers/index.ts';
export type { OutputRecord } from './harness/contracts/contract.ts';
// Contracts: a model of the pipeline's output (`contract: { model: './my-model.ts' }`).
export {
  defineModel,
  type ModelCompare,
  type ModelOutput,
  type PipelineModel,
} from './harness/contracts/model-api.ts';
// The history checkers read.
export {
  History,
  type HistoryJson,
  type HistoryOptions,
  type HistoryRecord,
  loadHistory,
  saveHistory,
} from './harness/history/index.ts';
export type { RunError, RunResult } from './harness/runner/result.ts';
export { RESULT_FORMAT, summaryText } from './harness/runner/result.ts';
export { RUN_PHASES, type RunHooks, type RunOptions, type RunPhase, runScenario } from './harness/runner/run.ts';
// Scenarios.
export {
  CONTRACTS,
  type Contract,
  type Duration,
  defineScenario,
  loadScenario,
  type Scenario,
  type ScenarioInput,
  validateScenario,
} from './harness/runner/scenario.ts';
export { attachStack } from './harness/stack/attach.ts';
export { localImages, officialImages, type StackImages } from './harness/stack/images.ts';
// The stack.
export {
  type BrokerHandle,
  type StackOptions,
  type StackRuntime,
  type StackStatus,
  type StartedStack,
  startStack,
} from './harness/stack/stack.ts';
export { type ErrorCode, exitCodeFor, StreamproofError } from './harness/util/errors.ts';
export { jsonProgress, type Progress, type ProgressEvent, silent, textProgress } from './harness/util/progress.ts';
// Reporters.
export {
  htmlReport,
  jsonReport,
  junitReport,
  loadResult,
  markdownReport,
  REPORT_FORMATS,
  type ReportFormat,
  type ReportInput,
  renderReport,
  reportInputFor,
} from './reports/index.ts';
