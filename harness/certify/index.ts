/**
 * Certification: suites of scenarios run together, judged together, and compared with a baseline (an earlier
 * certification's output directory). The CLI's `certify` and the library's `certify()` call `certify` here.
 */
export { type Baseline, loadBaseline } from './baseline.ts';
export {
  buildCertification,
  CERTIFICATION_FORMAT,
  type Certification,
  type CertificationRun,
  certificationRun,
} from './certification.ts';
export { type CertifyOptions, type CertifyOutcome, certify } from './certify.ts';
export {
  ANOMALY_METRICS,
  activeRate,
  type ComparableResult,
  type Comparison,
  type ComparisonRow,
  compareRuns,
  compareSuites,
  DEFAULT_TOLERANCES,
  type Regression,
  type RowGroup,
  type RowVerdict,
  resolveTolerances,
  type ScenarioComparison,
  type ScenarioStatus,
  type Tolerances,
  type Value,
} from './compare.ts';
export { loadSuite, SUITE_FILE, type Suite, type SuiteEntry } from './suite.ts';
