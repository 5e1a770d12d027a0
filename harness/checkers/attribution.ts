/**
 * attribution: the output of an attribution pipeline compared with the model (reference-pipeline/model).
 *
 * Model: `expected` is what the attribution rules give for the events that really are in the input topic (read
 * back read_committed after the drain, so unknown sends are resolved by what landed). Output records are matched by
 * their stable `record_id` (`conversion:model:touch`):
 * - `lost`: an expected record never seen;
 * - `duplicated`: a record seen more than once (exactly-once output is part of the contract);
 * - `unexpected`: a record the model does not produce, or one whose credit differs from the model's by more than
 *   `creditTolerance` (time-decay credits are floating point) or whose revenue share (minor units) differs.
 * Missing records with an incomplete drain make the verdict `unknown`, never `false`: the pipeline may still be
 * catching up.
 */
import type { History } from '../history/index.ts';
import { type AnomalyName, type Checker, type CheckerResult, resolveMaxExamples } from './types.ts';

export interface ExpectedAttribution {
  readonly record_id: string;
  readonly credit: number;
  readonly revenue_credit_minor: number | null;
}

export interface ObservedAttribution {
  readonly recordId: string;
  readonly credit: number;
  readonly revenueMinor: number | null;
}

export interface AttributionOptions {
  readonly maxExamples?: number;
  /** Largest |credit - expected| accepted. Default 1e-9. */
  readonly creditTolerance?: number;
}

export interface AttributionResult extends CheckerResult {
  readonly checker: 'attribution';
  readonly counts: {
    readonly expected: number;
    readonly observedRecords: number;
    readonly matched: number;
    readonly lost: number;
    readonly duplicated: number;
    readonly unexpected: number;
    readonly wrongCredit: number;
  };
  readonly lost: readonly string[];
  readonly duplicated: ReadonlyArray<{ readonly recordId: string; readonly count: number }>;
  readonly unexpected: ReadonlyArray<{ readonly recordId: string; readonly reason: string }>;
}

export function checkAttribution(
  expected: Iterable<ExpectedAttribution>,
  observed: Iterable<ObservedAttribution>,
  drainComplete: boolean | undefined,
  options: AttributionOptions = {},
): AttributionResult {
  const max = resolveMaxExamples(options.maxExamples, 'attribution.maxExamples');
  const tol = options.creditTolerance ?? 1e-9;
  const want = new Map<string, ExpectedAttribution>();
  for (const e of expected) want.set(e.record_id, e);
  const seen = new Map<string, number>();
  const lost: string[] = [];
  const duplicated: { recordId: string; count: number }[] = [];
  const unexpected: { recordId: string; reason: string }[] = [];
  let observedRecords = 0;
  let unexpectedCount = 0;
  let wrongCredit = 0;
  for (const o of observed) {
    observedRecords++;
    const n = (seen.get(o.recordId) ?? 0) + 1;
    seen.set(o.recordId, n);
    if (n > 1) continue; // counted below, once per record
    const e = want.get(o.recordId);
    let reason: string | undefined;
    if (!e) reason = 'not produced by the model for the input';
    else if (!(Math.abs(o.credit - e.credit) <= tol)) reason = `credit ${o.credit}, model ${e.credit}`;
    else if ((o.revenueMinor ?? null) !== (e.revenue_credit_minor ?? null))
      reason = `revenue ${o.revenueMinor}, model ${e.revenue_credit_minor} (minor units)`;
    if (reason) {
      unexpectedCount++;
      if (e) wrongCredit++;
      if (unexpected.length < max) unexpected.push({ recordId: o.recordId, reason });
    }
  }
  let dupCount = 0;
  for (const [id, n] of seen) {
    if (n > 1) {
      dupCount++;
      if (duplicated.length < max) duplicated.push({ recordId: id, count: n });
    }
  }
  let lostCount = 0;
  for (const id of want.keys()) {
    if (!seen.has(id)) {
      lostCount++;
      if (lost.length < max) lost.push(id);
    }
  }
  const anomalyTypes: AnomalyName[] = [];
  if (lostCount && drainComplete !== false) anomalyTypes.push('lost');
  if (dupCount) anomalyTypes.push('duplicated');
  if (unexpectedCount) anomalyTypes.push('unexpected');
  const onlyPendingLoss = lostCount > 0 && drainComplete === false && anomalyTypes.length === 0;
  return {
    checker: 'attribution',
    valid: anomalyTypes.length
      ? false
      : onlyPendingLoss
        ? 'unknown'
        : want.size === 0 && observedRecords === 0
          ? 'unknown'
          : true,
    anomalyTypes,
    ...(onlyPendingLoss ? { reason: `${lostCount} expected record(s) missing but the drain did not complete` } : {}),
    ...(want.size === 0 && observedRecords === 0 ? { reason: 'no conversions in the input: nothing was checked' } : {}),
    counts: {
      expected: want.size,
      observedRecords,
      matched: want.size - lostCount - wrongCredit,
      lost: lostCount,
      duplicated: dupCount,
      unexpected: unexpectedCount,
      wrongCredit,
    },
    lost,
    duplicated,
    unexpected,
  };
}

/** A checker over data gathered by the runner (the model's output and the observed records); `history` gives the drain. */
export function attribution(
  expected: () => Iterable<ExpectedAttribution>,
  observed: () => Iterable<ObservedAttribution>,
  options: AttributionOptions = {},
): Checker<AttributionResult> {
  return {
    name: 'attribution',
    check: (history: History) => checkAttribution(expected(), observed(), history.drain?.complete, options),
  };
}
