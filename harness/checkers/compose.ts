/**
 * compose / runCheckers: run several checkers on one history and reduce them to one verdict and exit code.
 *
 * Model (Jepsen's checker/compose, plus the crash rule): each checker runs inside try/catch. A checker that throws,
 * or returns something that is not a checker result, yields `{ valid: 'unknown', error }`: a crash is never a pass.
 * The verdict:
 * - `fail` when any checker is false with an invariant anomaly (anything but `slo-breach`, or no anomaly named:
 *   an unexplained false is treated as the worst case);
 * - else `unknown` when any checker is unknown (the invariants were not all established, so a breached SLO
 *   cannot be reported as the *only* problem);
 * - else `slo-breach` when the only false results are SLO breaches;
 * - else `pass`.
 * Exit codes follow the CLI contract: pass 0, fail 1, slo-breach 2, unknown 3.
 */

import type { History } from '../history/index.ts';
import { StreamproofError } from '../util/errors.ts';
import { ANOMALIES, type AnomalyName, type Checker, type CheckerResult } from './types.ts';

export const VERDICTS = ['pass', 'fail', 'slo-breach', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const EXIT_CODES: Readonly<Record<Verdict, 0 | 1 | 2 | 3>> = {
  pass: 0,
  fail: 1,
  'slo-breach': 2,
  unknown: 3,
};

export interface ComposedResult extends CheckerResult {
  readonly verdict: Verdict;
  readonly exitCode: 0 | 1 | 2 | 3;
  /** Each checker's result by checker name, in the order given. */
  readonly results: Readonly<Record<string, CheckerResult>>;
}

/** Runs one checker, turning a throw or a malformed result into `unknown`. */
export function runChecker(checker: Checker, history: History): CheckerResult {
  let result: unknown;
  try {
    result = checker.check(history);
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    const kind = cause instanceof Error ? cause.name : typeof cause;
    const text = cause instanceof Error ? cause.message : String(cause);
    // The thrown error's own stable code (e.g. HISTORY_INVALID_JSON) is kept in the message for triage.
    const message = `checker "${checker.name}" threw ${kind}${typeof code === 'string' ? ` [${code}]` : ''}: ${text}`;
    return {
      valid: 'unknown',
      anomalyTypes: [],
      reason: `checker "${checker.name}" threw`,
      error: StreamproofError.at('CHECKER_THREW', message, { cause }).toJSON(),
    };
  }
  const problem = malformed(result);
  if (problem !== undefined) {
    return {
      valid: 'unknown',
      anomalyTypes: [],
      reason: `checker "${checker.name}" returned an invalid result`,
      error: StreamproofError.at('CHECKER_INVALID_RESULT', `checker "${checker.name}": ${problem}`).toJSON(),
    };
  }
  return result as CheckerResult;
}

function malformed(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return `expected an object, got ${r === null ? 'null' : typeof r}`;
  const { valid, anomalyTypes } = r as Record<string, unknown>;
  if (valid !== true && valid !== false && valid !== 'unknown') {
    return `valid must be true, false or 'unknown', got ${JSON.stringify(valid)}`;
  }
  if (!Array.isArray(anomalyTypes) || anomalyTypes.some((a) => !(ANOMALIES as readonly unknown[]).includes(a))) {
    return `anomalyTypes must list names among ${ANOMALIES.join(', ')}`;
  }
  return undefined;
}

/** Reduces results to a verdict (see the module header). */
export function verdictOf(results: Iterable<CheckerResult>): Verdict {
  let invariantFailed = false;
  let sloBreached = false;
  let unknown = false;
  for (const r of results) {
    if (r.valid === false) {
      const onlySlo = r.anomalyTypes.length > 0 && r.anomalyTypes.every((a) => a === 'slo-breach');
      if (onlySlo) sloBreached = true;
      else invariantFailed = true;
    } else if (r.valid !== true) {
      unknown = true;
    }
  }
  if (invariantFailed) return 'fail';
  if (unknown) return 'unknown';
  if (sloBreached) return 'slo-breach';
  return 'pass';
}

export function exitCodeOf(verdict: Verdict): 0 | 1 | 2 | 3 {
  return EXIT_CODES[verdict];
}

/** One checker made of several; names must be unique (they key the results). */
export function compose(checkers: readonly Checker[]): Checker<ComposedResult> {
  const seen = new Set<string>();
  for (const c of checkers) {
    if (seen.has(c.name)) {
      throw StreamproofError.at(
        'CHECKER_DUPLICATE_NAME',
        `two checkers are named "${c.name}"; give each a unique name`,
      );
    }
    seen.add(c.name);
  }
  return {
    name: 'compose',
    check(history: History): ComposedResult {
      const results: Record<string, CheckerResult> = {};
      for (const c of checkers) results[c.name] = runChecker(c, history);
      const verdict = verdictOf(Object.values(results));
      const anomalyTypes = [...new Set(Object.values(results).flatMap((r) => r.anomalyTypes))].sort(
        (a, b) => ANOMALIES.indexOf(a) - ANOMALIES.indexOf(b),
      ) as AnomalyName[];
      return {
        valid: verdict === 'pass' ? true : verdict === 'unknown' ? 'unknown' : false,
        anomalyTypes,
        verdict,
        exitCode: exitCodeOf(verdict),
        results,
      };
    },
  };
}

/** Runs the checkers on the history: the entry point of the runner and of `streamproof report`. */
export function runCheckers(history: History, checkers: readonly Checker[]): ComposedResult {
  return compose(checkers).check(history);
}
