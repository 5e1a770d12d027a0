/**
 * Baseline comparison: the results of a certification suite (candidate) against those of an earlier one (baseline),
 * scenario by scenario, as rows a person reads side by side (metric, baseline, candidate, change, verdict).
 *
 * Model. A row is a *regression* when, against the baseline:
 * - an anomaly count rose (`lost`, `duplicated`, `unexpected`, `reordered`, `undecodable`): any rise, however small;
 * - a checker that was valid is now invalid (`true` → `false`; the `slo` checker included);
 * - a throughput dropped by more than `throughputPct` percent of the baseline. Throughput here is the rate *while
 *   active*: the records acked (or observed) per second from the first to the last second that had any (see
 *   `activeRate`). Not the result's steady-window mean: under an open-model load a build that keeps up but answers
 *   later stretches that window with empty seconds, and would read as a throughput drop when only latency moved;
 *   a build that cannot keep up stretches the active span itself;
 * - an end-to-end latency percentile (p95, p99) rose by more than `latencyPct` percent of the baseline AND by more
 *   than `latencyFloorMs` (so a 3 ms → 5 ms move does not flap a gate).
 * The same rules read backwards give `improved`. Rows that cannot be judged (a metric missing on one side, a run
 * whose verdict is `unknown`) are `unknown`, never `ok`; rows shown for context only are `info`.
 * Scenarios present on one side only are listed as such, never dropped silently. Pure: no I/O. The comparison as
 * text (Markdown, HTML, regression lines) is the reporters' (reports/compare.ts).
 */
import type { RunResult } from '../runner/result.ts';
import { StreamproofError } from '../util/errors.ts';

export interface Tolerances {
  /** Largest accepted throughput drop, percent of the baseline. Default 10. */
  readonly throughputPct: number;
  /** Largest accepted latency rise, percent of the baseline. Default 20. */
  readonly latencyPct: number;
  /** A latency rise at or below this many ms is never a regression. Default 25. */
  readonly latencyFloorMs: number;
}

export const DEFAULT_TOLERANCES: Tolerances = Object.freeze({ throughputPct: 10, latencyPct: 20, latencyFloorMs: 25 });

const TOLERANCE_KEYS = ['throughputPct', 'latencyPct', 'latencyFloorMs'] as const;

/**
 * Validates a partial tolerances object (from a suite file) and fills in the defaults; errors name `path.key`.
 * `base` is what unset keys fall back to.
 */
export function resolveTolerances(
  raw: unknown,
  path = 'tolerances',
  base: Tolerances = DEFAULT_TOLERANCES,
): Tolerances {
  if (raw === undefined) return { ...base };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new StreamproofError('INVALID_SCENARIO', `${path}: expected an object like { "latencyPct": 20 }`);
  }
  const out: Record<string, number> = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    if (!(TOLERANCE_KEYS as readonly string[]).includes(k)) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${path}.${k}: unknown tolerance (expected one of ${TOLERANCE_KEYS.join(', ')})`,
      );
    }
    const max = k === 'throughputPct' ? 100 : Number.MAX_SAFE_INTEGER;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) {
      throw new StreamproofError(
        'INVALID_SCENARIO',
        `${path}.${k}: expected a number >= 0${max === 100 ? ' and <= 100' : ''}, got ${JSON.stringify(v)}`,
      );
    }
    out[k] = v;
  }
  return out as unknown as Tolerances;
}

export const ANOMALY_METRICS = ['lost', 'duplicated', 'unexpected', 'reordered', 'undecodable'] as const;

export type RowVerdict = 'ok' | 'regression' | 'improved' | 'unknown' | 'info';
export type RowGroup = 'run' | 'anomaly' | 'checker' | 'throughput' | 'latency';
export type Value = number | string | boolean | null;

export interface ComparisonRow {
  /** Stable id, e.g. `anomalies.duplicated`, `checker.attribution`, `latency.e2e_p95_ms`. */
  readonly metric: string;
  readonly group: RowGroup;
  readonly baseline: Value;
  readonly candidate: Value;
  /** candidate - baseline, for numbers. */
  readonly change: number | null;
  /** The change in percent of the baseline; null when the baseline is 0 or not a number. */
  readonly changePct: number | null;
  readonly verdict: RowVerdict;
  /** The rule the row was judged by, e.g. `rise > 20% and > 25 ms`. */
  readonly rule: string;
}

export type ScenarioStatus = 'compared' | 'only-in-baseline' | 'only-in-candidate';

export interface ScenarioComparison {
  readonly scenario: string;
  readonly status: ScenarioStatus;
  readonly rows: readonly ComparisonRow[];
  /** Metrics of the rows flagged as regressions. */
  readonly regressions: readonly string[];
  readonly notes: readonly string[];
}

export interface Regression {
  readonly scenario: string;
  readonly metric: string;
  readonly baseline: Value;
  readonly candidate: Value;
  readonly rule: string;
}

export interface Comparison {
  readonly tolerances: Tolerances;
  readonly scenarios: readonly ScenarioComparison[];
  readonly regressions: readonly Regression[];
  readonly onlyInBaseline: readonly string[];
  readonly onlyInCandidate: readonly string[];
}

/** The fields of a result the comparison reads (a RunResult has them all). */
export type ComparableResult = Pick<RunResult, 'name' | 'verdict' | 'seed' | 'counts' | 'checkers' | 'latency'> & {
  readonly throughput: unknown;
};

interface Throughput {
  ackedPerSec?: number | null;
  observedPerSec?: number | null;
}

interface CountsPerSecond {
  readonly acked?: number;
  readonly observed?: number;
}

/**
 * Records per second while active: the sum of `pick` over a per-second series divided by the seconds from the first
 * to the last second with a non-zero value. With `trimEdges` (for a smooth series: the open-model load's acks) those
 * two partial seconds are left out when the span has at least 3, so the rate does not move with how the run fell
 * on second boundaries. Without it (for the pipeline's output, which may come in micro-batches that sit entirely in
 * an edge second) both count. Null when no second had any.
 */
export function activeRate(
  series: readonly CountsPerSecond[],
  pick: (p: CountsPerSecond) => number | undefined,
  trimEdges = false,
): number | null {
  const v = series.map((p) => pick(p) ?? 0);
  let first = v.findIndex((x) => x > 0);
  if (first < 0) return null;
  let last = v.length - 1;
  while (v[last]! <= 0) last--;
  if (trimEdges && last - first + 1 >= 3) {
    first++;
    last--;
  }
  let sum = 0;
  for (let i = first; i <= last; i++) sum += v[i]!;
  return sum / (last - first + 1);
}

/** Acked and observed rates while active, from the result's series; the steady-window means when it has none. */
function rates(r: ComparableResult): { acked: number | null; observed: number | null } {
  const series = (r.latency?.series ?? []) as readonly CountsPerSecond[];
  if (series.length > 0) {
    return { acked: activeRate(series, (p) => p.acked, true), observed: activeRate(series, (p) => p.observed) };
  }
  const t = (r.throughput ?? {}) as Throughput;
  return { acked: num(t.ackedPerSec), observed: num(t.observedPerSec) };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function change(b: Value, c: Value): { change: number | null; changePct: number | null } {
  if (typeof b !== 'number' || typeof c !== 'number') return { change: null, changePct: null };
  return { change: c - b, changePct: b === 0 ? null : ((c - b) / b) * 100 };
}

function row(
  metric: string,
  group: RowGroup,
  baseline: Value,
  candidate: Value,
  verdict: RowVerdict,
  rule: string,
): ComparisonRow {
  return { metric, group, baseline, candidate, ...change(baseline, candidate), verdict, rule };
}

/** Compares one scenario's candidate result with its baseline result. */
export function compareRuns(
  baseline: ComparableResult,
  candidate: ComparableResult,
  tolerances: Tolerances = DEFAULT_TOLERANCES,
): ScenarioComparison {
  const notes: string[] = [];
  // A run whose verdict is unknown established nothing: its counts are not evidence either way.
  const judgeable = baseline.verdict !== 'unknown' && candidate.verdict !== 'unknown';
  if (baseline.verdict === 'unknown') notes.push('the baseline run has verdict unknown: its numbers are not judged');
  if (candidate.verdict === 'unknown') notes.push('the candidate run has verdict unknown: its numbers are not judged');
  if (baseline.seed !== candidate.seed) {
    notes.push(
      `seeds differ (baseline ${baseline.seed}, candidate ${candidate.seed}): the runs offered different events`,
    );
  }
  const judged = (v: RowVerdict): RowVerdict => (judgeable ? v : 'unknown');
  const rows: ComparisonRow[] = [];
  rows.push(
    row(
      'verdict',
      'run',
      baseline.verdict,
      candidate.verdict,
      'info',
      'shown for context; the checker rows are judged',
    ),
  );

  for (const a of ANOMALY_METRICS) {
    const b = num(baseline.counts?.[a]);
    const c = num(candidate.counts?.[a]);
    const v: RowVerdict = b === null || c === null ? 'unknown' : c > b ? 'regression' : c < b ? 'improved' : 'ok';
    rows.push(row(`anomalies.${a}`, 'anomaly', b, c, v === 'unknown' ? v : judged(v), 'any rise'));
  }

  const names = [...new Set([...Object.keys(baseline.checkers ?? {}), ...Object.keys(candidate.checkers ?? {})])];
  for (const name of names) {
    const b = baseline.checkers?.[name]?.valid;
    const c = candidate.checkers?.[name]?.valid;
    const shown = (x: boolean | 'unknown' | undefined): Value => (x === undefined ? null : x);
    let v: RowVerdict;
    if (b === undefined || c === undefined) v = 'info';
    else if (b === true && c === false) v = 'regression';
    else if (b === false && c === true) v = 'improved';
    else if (b === c) v = b === 'unknown' ? 'unknown' : 'ok';
    else v = 'unknown';
    const rule = b === undefined || c === undefined ? 'checker on one side only' : 'valid → invalid';
    rows.push(
      row(
        `checker.${name}`,
        'checker',
        shown(b),
        shown(c),
        v === 'regression' || v === 'improved' ? judged(v) : v,
        rule,
      ),
    );
  }

  const br = rates(baseline);
  const cr = rates(candidate);
  const tp = tolerances.throughputPct;
  for (const [metric, key] of [
    ['throughput.acked_per_s', 'acked'],
    ['throughput.observed_per_s', 'observed'],
  ] as const) {
    const b = br[key];
    const c = cr[key];
    let v: RowVerdict;
    if (b === null || c === null) v = 'unknown';
    else if (c < b * (1 - tp / 100)) v = 'regression';
    else if (c > b * (1 + tp / 100)) v = 'improved';
    else v = 'ok';
    rows.push(row(metric, 'throughput', b, c, v === 'unknown' ? v : judged(v), `drop > ${tp}%`));
  }

  const { latencyPct: lp, latencyFloorMs: floor } = tolerances;
  const be = baseline.latency?.e2e;
  const ce = candidate.latency?.e2e;
  rows.push(row('latency.e2e_p50_ms', 'latency', num(be?.p50Ms), num(ce?.p50Ms), 'info', 'shown for context'));
  for (const [metric, pick] of [
    ['latency.e2e_p95_ms', (s: typeof be) => s?.p95Ms],
    ['latency.e2e_p99_ms', (s: typeof be) => s?.p99Ms],
  ] as const) {
    const b = num(pick(be));
    const c = num(pick(ce));
    let v: RowVerdict;
    if (b === null || c === null) v = 'unknown';
    else {
      const allowed = Math.max((b * lp) / 100, floor);
      v = c - b > allowed ? 'regression' : b - c > allowed ? 'improved' : 'ok';
    }
    rows.push(row(metric, 'latency', b, c, v === 'unknown' ? v : judged(v), `rise > ${lp}% and > ${floor} ms`));
  }

  return {
    scenario: candidate.name,
    status: 'compared',
    rows,
    regressions: rows.filter((r) => r.verdict === 'regression').map((r) => r.metric),
    notes,
  };
}

/**
 * Compares every scenario of a candidate suite with the baseline's, in the candidate's order; scenarios only in the
 * baseline come last.
 */
export function compareSuites(
  baseline: ReadonlyMap<string, ComparableResult>,
  candidate: ReadonlyMap<string, ComparableResult>,
  tolerances: Tolerances = DEFAULT_TOLERANCES,
): Comparison {
  const scenarios: ScenarioComparison[] = [];
  const onlyInCandidate: string[] = [];
  const onlyInBaseline: string[] = [];
  for (const [name, c] of candidate) {
    const b = baseline.get(name);
    if (b) {
      scenarios.push({ ...compareRuns(b, c, tolerances), scenario: name });
    } else {
      onlyInCandidate.push(name);
      scenarios.push({
        scenario: name,
        status: 'only-in-candidate',
        rows: [],
        regressions: [],
        notes: ['not in the baseline: nothing to compare with (new scenario?)'],
      });
    }
  }
  for (const name of baseline.keys()) {
    if (candidate.has(name)) continue;
    onlyInBaseline.push(name);
    scenarios.push({
      scenario: name,
      status: 'only-in-baseline',
      rows: [],
      regressions: [],
      notes: ['in the baseline but not run by the candidate (removed or renamed?)'],
    });
  }
  const regressions: Regression[] = scenarios.flatMap((s) =>
    s.rows
      .filter((r) => r.verdict === 'regression')
      .map((r) => ({
        scenario: s.scenario,
        metric: r.metric,
        baseline: r.baseline,
        candidate: r.candidate,
        rule: r.rule,
      })),
  );
  return { tolerances: { ...tolerances }, scenarios, regressions, onlyInBaseline, onlyInCandidate };
}
