/**
 * The checker protocol (after Jepsen's `check(test, history) -> {valid? ...}`): a checker is a named pure function
 * of a History returning plain JSON data with a three-valued `valid` and the stable names of the anomalies it found.
 * Checkers never talk to Kafka; they read only the history's stores.
 */

import type { History } from '../history/index.ts';
import { StreamproofError, type StreamproofErrorJson } from '../util/errors.ts';

/** Stable anomaly names (shared with reports and the docs). */
export const ANOMALIES = [
  'lost',
  'duplicated',
  'unexpected',
  'reordered',
  'undecodable',
  'incompatible-schema',
  'slo-breach',
  /** model contract: an output value differs from the model's for its key. */
  'mismatch',
  /** accounting (dead letters): a bad event never dead-lettered (nor refused at ingest). */
  'dlq-missing',
  /** accounting: a bad event dead-lettered more than once. */
  'dlq-duplicated',
  /** accounting: a good event in the dead-letter topic, or a dead letter without a reason. */
  'dlq-unexpected',
] as const;
export type AnomalyName = (typeof ANOMALIES)[number];

/** `unknown`: the checker could not decide (missing data, incomplete drain, a crash). Never counts as a pass. */
export type Validity = true | false | 'unknown';

export interface CheckerResult {
  readonly valid: Validity;
  /** Anomalies that made `valid` false (empty when valid is true or unknown). */
  readonly anomalyTypes: readonly AnomalyName[];
  /** Why `valid` is unknown, for humans. */
  readonly reason?: string;
  /** Set when the checker threw or returned garbage. */
  readonly error?: StreamproofErrorJson;
}

export interface Checker<R extends CheckerResult = CheckerResult> {
  readonly name: string;
  check(history: History): R;
}

/** Default number of examples kept per anomaly in a result; full lists go to a file. */
export const DEFAULT_MAX_EXAMPLES = 20;

export function resolveMaxExamples(maxExamples: number | undefined, path: string): number {
  const n = maxExamples ?? DEFAULT_MAX_EXAMPLES;
  if (!Number.isInteger(n) || n < 0) {
    throw StreamproofError.at('CHECKER_INVALID_OPTION', `expected a non-negative integer, got ${String(maxExamples)}`, {
      path,
    });
  }
  return n;
}
