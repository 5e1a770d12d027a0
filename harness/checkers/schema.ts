/**
 * schema: every output record decodes with the registered schema.
 *
 * Model: the harness's reader decodes each output value (Avro through the schema registry, or JSON for the copy
 * contract); a value it cannot decode is recorded as an observation without an event id. Each such record is an
 * `undecodable` anomaly: a consumer downstream of the pipeline would fail on it the same way.
 * Verdict: false when any record was undecodable, true otherwise (an empty output is exactlyOnce's business).
 * `incompatible-schema` (a registered evolution that breaks compatibility) is judged where schemas are
 * registered, not from the output history.
 */

import type { History, UndecodableExample } from '../history/index.ts';
import { type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

export interface SchemaOptions {
  /** Examples kept. Default 20. */
  readonly maxExamples?: number;
}

export interface SchemaResult extends CheckerResult {
  readonly checker: 'schema';
  readonly counts: { readonly undecodable: number };
  readonly undecodable: readonly UndecodableExample[];
}

export function checkSchema(history: History, options: SchemaOptions = {}): SchemaResult {
  const max = resolveMaxExamples(options.maxExamples, 'schema.maxExamples');
  const n = history.observations.undecodableCount;
  return {
    checker: 'schema',
    valid: n === 0,
    anomalyTypes: n === 0 ? [] : ['undecodable'],
    counts: { undecodable: n },
    undecodable: history.observations.undecodableExamples.slice(0, max),
  };
}

export function schema(options: SchemaOptions = {}): Checker<SchemaResult> {
  resolveMaxExamples(options.maxExamples, 'schema.maxExamples');
  return { name: 'schema', check: (history) => checkSchema(history, options) };
}
