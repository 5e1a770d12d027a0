/**
 * Typed views of the parts of a stored result that the result types leave open (`slo`, the per-second series,
 * recovery, lag), plus the number formats every reporter shares. Views only select and join what the result holds;
 * the one derived series, lag from acked - observed for results without sampled lag, is labelled as derived.
 */
import type { FaultRecovery, ThresholdResult } from '../harness/checkers/index.ts';
import type { SeriesPoint } from '../harness/history/index.ts';
import { DERIVED_LAG_LABEL, type LagPoint, lagFromSeries } from '../harness/runner/lag-series.ts';
import { judgedThresholds, type RunResult } from '../harness/runner/result.ts';

/** Examples shown per anomaly kind; the full lists are in `files.anomalies`. */
export const MAX_EXAMPLES = 5;

/** The counts every report shows, in order. */
export const COUNT_KEYS = [
  'offered',
  'acked',
  'failed',
  'unknown',
  'observed',
  'lost',
  'duplicated',
  'unexpected',
  'reordered',
  'undecodable',
] as const satisfies readonly (keyof RunResult['counts'])[];

export const CHECKER_LABEL: Readonly<Record<string, string>> = {
  'exactly-once': 'exactly-once (nothing lost, nothing duplicated, nothing unexpected)',
  attribution: 'attribution (output equals the attribution model)',
  model: 'model (output equals the model over the input that landed)',
  order: 'order (per-user order kept)',
  schema: 'schema (every record decodable, every schema compatible)',
  latency: 'latency (measured; judged by the SLOs)',
  slo: 'slo (every threshold met)',
  'lake:lake-slo': 'lake:lake-slo (every lake_latency threshold met)',
};

/** Every threshold judged, lake-visible ones included. */
export const thresholds = judgedThresholds;

/** What to say when a run has no threshold results: none were set, or none were evaluated. */
export function noThresholdsText(run: RunResult): string {
  const declared = Object.values((run.scenario?.slo ?? {}) as Record<string, unknown>).some(
    (v) => !Array.isArray(v) || v.length > 0,
  );
  return declared
    ? 'The scenario sets SLO thresholds, but they were not evaluated (no checker ran).'
    : 'No SLO thresholds in this scenario.';
}

export function series(run: RunResult): readonly SeriesPoint[] {
  return (run.latency?.series ?? []) as readonly SeriesPoint[];
}

export function recoveries(run: RunResult): readonly FaultRecovery[] {
  return (run.latency?.recovery ?? []) as readonly FaultRecovery[];
}

export interface FaultRow {
  index: number;
  faultId: string;
  fault: string;
  target: string;
  startedAt: string;
  healedAt: string | null;
  /** Seconds from the load start (or the run start) to the fault start / heal. */
  startSec: number;
  healSec: number | null;
  recovery: FaultRecovery | undefined;
  /** The fault's own one-line account (a schema upgrade: `v2 -> v3: schema id 7, compatible`), when it gave one. */
  detail: string | undefined;
}

/** Time zero of a run's charts and fault offsets: the load start when recorded, else the run start. */
export function timeZero(run: RunResult): number {
  return Date.parse(run.timeline?.loadStart ?? run.startedAt);
}

export function faultRows(run: RunResult): FaultRow[] {
  const zero = timeZero(run);
  const rec = recoveries(run);
  return run.faults.map((f, index) => ({
    index,
    faultId: f.faultId,
    fault: f.fault,
    target: f.target ?? '',
    startedAt: f.startedAt,
    healedAt: f.healedAt,
    startSec: (Date.parse(f.startedAt) - zero) / 1000,
    healSec: f.healedAt === null ? null : (Date.parse(f.healedAt) - zero) / 1000,
    recovery: rec.find((r) => r.faultId === f.faultId),
    detail: f.detail?.summary,
  }));
}

export function recoveryText(r: FaultRecovery | undefined): string {
  if (!r) return 'not measured';
  if (r.status === 'recovered') return `recovered in ${fmtMs(r.recoveryMs)}`;
  return r.status;
}

export interface LagView {
  label: string;
  source: 'consumer-group' | 'acked-minus-observed';
  group: string;
  series: readonly LagPoint[];
}

/** The run's lag: sampled or derived by the runner, or (older results) derived here from the series. */
export function lagView(run: RunResult): LagView | null {
  if (run.lag) return { label: run.lag.label, source: run.lag.source, group: run.lag.group, series: run.lag.series };
  const s = series(run);
  if (s.length === 0) return null;
  return { label: DERIVED_LAG_LABEL, source: 'acked-minus-observed', group: '', series: lagFromSeries(s) };
}

export interface AnomalyView {
  kind: string;
  count: number;
  /** Up to MAX_EXAMPLES examples, one line each. */
  examples: string[];
}

/** Anomaly counts with a few examples each (only kinds with a count > 0). */
export function anomalyViews(run: RunResult, max = MAX_EXAMPLES): AnomalyView[] {
  const a = run.anomalies ?? { lost: [], duplicated: [], unexpected: [], reordered: [] };
  const c = run.counts;
  const kinds: [string, number, readonly unknown[]][] = [
    ['lost', c.lost, a.lost ?? []],
    ['unseen (fate unknown)', c.unseen ?? 0, a.unseen ?? []],
    ['duplicated', c.duplicated, a.duplicated ?? []],
    ['unexpected', c.unexpected, a.unexpected ?? []],
    ['mismatch', c.mismatch ?? 0, a.mismatch ?? []],
    ['reordered', c.reordered, a.reordered ?? []],
    ['undecodable', c.undecodable, []],
  ];
  return kinds
    .filter(([, n, list]) => n > 0 || list.length > 0)
    .map(([kind, n, list]) => ({
      kind,
      count: Math.max(n, list.length),
      examples: list.slice(0, max).map(exampleText),
    }));
}

/**
 * The dead-letter queue in one sentence (bad events offered, dead-lettered, refused, missing, duplicated; dead
 * letters by reason); null when the run had no DLQ.
 */
export function dlqText(run: RunResult): string | null {
  const d = run.dlq;
  if (!d) return null;
  const c = d.counts;
  const reasons = Object.entries(d.byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return (
    `${d.topic}: ${c.bad} bad event(s) offered, ${c.deadLettered} dead-lettered once, ${c.refused} refused at ingest, ` +
    `${c.missing} missing, ${c.duplicated} dead-lettered twice or more, ${c.unexpected} unexpected dead letter(s), ` +
    `${c.inOutput} in the output; ${c.dlqRecords} dead letter(s) read${reasons ? ` (by reason: ${reasons})` : ''}`
  );
}

/** The lake output in one sentence (rows, files, commits, problems); null when the run read no lake. */
export function lakeText(run: RunResult): string | null {
  const l = run.lake;
  if (!l) return null;
  const problems =
    l.problems.length === 0 ? 'no problem' : l.problems.map((p) => `${p.kind} ${p.file ?? ''}`.trim()).join(', ');
  return (
    `${l.root}: ${l.rows} committed row(s) in ${l.files} file(s), ${l.commits} commit(s), ${problems}; ` +
    `${l.quiet ? 'commits went quiet' : 'commits were still coming'} after ${(l.waitedMs / 1000).toFixed(1)} s`
  );
}

/**
 * The drain in one sentence: complete or not, how long, what it waited for, the SUT group's lag at its end; null
 * for results without a drain (the run stopped before it, or an older result).
 */
export function drainText(run: RunResult): string | null {
  const d = run.drain;
  if (!d) return null;
  const head = `${d.complete ? 'Complete' : 'Incomplete'} after ${fmtNum(d.waitedMs / 1000, 1)} s`;
  if (!d.waitedFor) return `${head}.`;
  const lag = d.lagAtEnd === null || d.lagAtEnd === undefined ? '' : `; the SUT group's lag at its end: ${d.lagAtEnd}`;
  const limit = d.complete
    ? ''
    : ` (drain.timeout ${fmtNum(d.timeoutMs / 1000)} s: raise it if the pipeline recovers slowly)`;
  return `${head}, waiting for ${d.waitedFor}${lag}${limit}.`;
}

/** The harness error's phase and the SUT log files, for a failed run. */
export function errorWhere(run: RunResult): string {
  const e = run.error;
  if (!e) return '';
  const phase = e.phase ? ` in phase ${e.phase}` : '';
  const logs = (e.logs?.sut ?? []).map((l) => l.file);
  return `${phase}${logs.length ? `; SUT logs: ${logs.join(', ')}` : ''}`;
}

export function exampleText(x: unknown): string {
  return typeof x === 'string' ? x : JSON.stringify(x);
}

export function checkerStatus(valid: boolean | 'unknown'): 'ok' | 'FAILED' | 'unknown' {
  return valid === true ? 'ok' : valid === false ? 'FAILED' : 'unknown';
}

export function thresholdStatus(ok: boolean | 'unknown'): 'ok' | 'BREACHED' | 'unknown' {
  return ok === true ? 'ok' : ok === false ? 'BREACHED' : 'unknown';
}

export function verdictText(v: RunResult['verdict']): string {
  switch (v) {
    case 'pass':
      return 'every invariant held and every SLO was met';
    case 'fail':
      return 'an invariant was violated';
    case 'slo-breach':
      return 'every invariant held, but an SLO was breached';
    default:
      return 'the invariants could not be established (harness, stack or checker problem): not a pass';
  }
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (Math.abs(v) >= 100) return `${Math.round(v)} ms`;
  return `${v.toFixed(1)} ms`;
}

export function fmtNum(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/**
 * A threshold value in its unit. `scale`: another value shown beside it (observed vs limit), so both use the same
 * time unit.
 */
export function fmtValue(v: number | null | undefined, unit: ThresholdResult['unit'], scale?: number | null): string {
  if (v === null || v === undefined) return 'no data';
  switch (unit) {
    case 'ms':
      if (Math.max(Math.abs(v), Math.abs(scale ?? 0)) >= 10_000) return `${(v / 1000).toFixed(1)} s`;
      return Math.max(Math.abs(v), Math.abs(scale ?? 0)) >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`;
    case 'per-second':
      return `${fmtNum(v, 1)}/s`;
    case 'ratio':
      return `${fmtNum(v * 100, 3)}%`;
    default:
      return fmtNum(v);
  }
}

export function operatorOf(expression: string): string {
  return /(<=|>=|==|!=|<|>)/.exec(expression)?.[1] ?? '';
}
