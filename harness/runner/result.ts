/**
 * The result of a run: plain JSON-serialisable data (reporters only format it). Stable top-level fields:
 * verdict, exitCode, seed, replay, checkers (per-checker valid), counts, latency, faults (with their real times).
 */
import type {
  AccountingCounts,
  AccountingResult,
  ComposedResult,
  ExactlyOnceResult,
  LatencyResult,
  LatencySummary,
  LineageResult,
  ModelResult,
  OrderResult,
  SchemaResult,
  SloResult,
  ThresholdResult,
} from '../checkers/index.ts';
import type { History } from '../history/index.ts';
import { exitStatusOf } from '../util/errors.ts';
import type { DrainReport } from './drain.ts';
import type { LagResult } from './lag.ts';
import type { Scenario } from './scenario.ts';
import type { LakeSummary } from './side-outputs.ts';

export const RESULT_FORMAT = 'streamproof.result/1';

/** Why a run could not be judged: the harness's error, the phase it happened in, and where to look. */
export interface RunError {
  code: string;
  message: string;
  /** The run phase (see RUN_PHASES in run.ts). */
  phase: string;
  logs: { dir: string; sut: { name: string; file: string; tail: string[] }[] };
}

export interface RunResult {
  format: typeof RESULT_FORMAT;
  name: string;
  verdict: 'pass' | 'fail' | 'slo-breach' | 'unknown';
  /** 0 pass, 1 fail, 2 slo-breach, 3 unknown; 64 (verdict unknown) when bad input stopped the run (error.code). */
  exitCode: 0 | 1 | 2 | 3 | 64;
  seed: number;
  replay: string;
  startedAt: string;
  durationSeconds: number;
  environment: Record<string, string>;
  scenario: Scenario;
  counts: {
    offered: number;
    acked: number;
    failed: number;
    unknown: number;
    observed: number;
    lost: number;
    /** Acked, not seen, not committed past when an incomplete drain ended: their fate is unknown (older results lack it). */
    unseen?: number;
    duplicated: number;
    unexpected: number;
    /** Outputs whose value differs from the model's (model and attribution contracts; older results lack it). */
    mismatch?: number;
    reordered: number;
    undecodable: number;
    unknownSeen: number;
    unknownNotSeen: number;
  };
  /** Bad events and the dead-letter queue (`events.bad`, `sut.dlq`); absent when the run had neither. */
  dlq?: {
    readonly topic: string;
    readonly counts: AccountingCounts;
    /** Dead letters by reason (`(none)` for those without one). */
    readonly byReason: Readonly<Record<string, number>>;
  };
  /** The lake output read after the drain (`output.lake`, or the reference pipeline's); absent without one. */
  lake?: LakeSummary;
  checkers: Record<string, { valid: boolean | 'unknown'; anomalyTypes: readonly string[]; reason?: string }>;
  anomalies: {
    /** Event ids (copy), or `{ key, expected }` (model and attribution contracts). */
    lost: readonly unknown[];
    unseen?: readonly string[];
    duplicated: readonly unknown[];
    unexpected: readonly unknown[];
    /** `{ key, expected, observed }` (model and attribution contracts). */
    mismatch?: readonly unknown[];
    reordered: readonly unknown[];
  };
  latency: {
    e2e: LatencySummary | null;
    ack: LatencySummary | null;
    series: readonly unknown[];
    recovery: readonly unknown[];
  };
  throughput: unknown;
  slo: unknown;
  faults: {
    faultId: string;
    fault: string;
    target: string | undefined;
    startedAt: string;
    healedAt: string | null;
    /** The fault's own account (a schema upgrade: versions, schema id, the registry's verdict); older results lack it. */
    detail?: { summary: string } & Record<string, unknown>;
  }[];
  load: unknown;
  faultSchedule: unknown;
  /** What the drain waited for, how long, and the SUT group's lag at its end (older results: complete, waitedMs). */
  drain: DrainReport | null;
  /** SUT consumer lag per second (see lag.ts); null when nothing was sampled or derived (older results lack it). */
  lag?: LagResult | null;
  timeline: Record<string, string>;
  notes: string[];
  error: RunError | null;
  details: ComposedResult | null;
  files: Record<string, string>;
}

export function buildResult(x: {
  scenario: Scenario;
  seed: number;
  outDir: string;
  replay: string;
  versions: Record<string, string>;
  timeline: Record<string, number>;
  finished: number;
  history: History;
  composed: ComposedResult | undefined;
  harnessError: RunError | undefined;
  load: unknown;
  faults: unknown;
  drain: DrainReport | undefined;
  notes: string[];
  /** Output records the observer read (duplicates and undecodable ones included). */
  observedRecords: number;
  lag?: LagResult | null;
  lake?: LakeSummary | undefined;
  /** The DLQ topic the run read, when it read one. */
  dlqTopic?: string | undefined;
}): RunResult {
  const c = x.composed;
  const eo = c?.results['exactly-once'] as ExactlyOnceResult | undefined;
  // The model contract's checker (`model`, or `attribution` for the reference model): counts and examples per key.
  const attr = (c?.results.model ?? c?.results.attribution) as ModelResult | undefined;
  const lin = c?.results.lineage as LineageResult | undefined;
  const acc = c?.results.accounting as AccountingResult | undefined;
  // Whichever contract judged the output topic: exactly-once (copy), lineage, or a model.
  const main = eo ?? lin;
  const ord = c?.results.order as OrderResult | undefined;
  const sch = c?.results.schema as SchemaResult | undefined;
  const lat = c?.results.latency as LatencyResult | undefined;
  const outcomes = x.history.outcomes.counts();
  const verdict = x.harnessError ? 'unknown' : (c?.verdict ?? 'unknown');
  // A harness error exits as its code says: 64 for bad input (e.g. LOAD_INVALID_OPTION), 3 for a harness failure.
  const exitCode = x.harnessError ? exitStatusOf(x.harnessError.code) : (c?.exitCode ?? 3);
  const started = x.timeline.started ?? x.finished;
  const checkers: RunResult['checkers'] = {};
  for (const [name, r] of Object.entries(c?.results ?? {})) {
    checkers[name] = { valid: r.valid, anomalyTypes: r.anomalyTypes, ...(r.reason ? { reason: r.reason } : {}) };
  }
  return {
    format: RESULT_FORMAT,
    name: x.scenario.name,
    verdict,
    exitCode,
    seed: x.seed,
    replay: x.replay,
    startedAt: new Date(started).toISOString(),
    durationSeconds: (x.finished - started) / 1000,
    environment: { ...x.versions, platform: `${process.platform}-${process.arch}` },
    scenario: x.scenario,
    counts: {
      offered: outcomes.offered,
      acked: outcomes.acked,
      failed: outcomes.failed,
      unknown: outcomes.unknown + outcomes.unresolved,
      observed: x.observedRecords,
      lost: main?.counts.lost ?? attr?.counts.lost ?? 0,
      unseen: main?.counts.unseen ?? 0,
      duplicated: main?.counts.duplicated ?? attr?.counts.duplicated ?? 0,
      unexpected: main?.counts.unexpected ?? attr?.counts.unexpected ?? 0,
      ...(attr ? { mismatch: attr.counts.mismatch ?? 0 } : {}),
      reordered: ord?.counts.reordered ?? 0,
      undecodable: (sch as { counts?: { undecodable?: number } } | undefined)?.counts?.undecodable ?? 0,
      unknownSeen: eo?.counts.unknownSeen ?? 0,
      unknownNotSeen: eo?.counts.unknownNotSeen ?? 0,
    },
    ...(acc
      ? {
          dlq: {
            topic: x.dlqTopic ?? x.scenario.sut.dlq?.topic ?? `${x.scenario.topics.input}.dlq`,
            counts: acc.counts,
            byReason: acc.byReason,
          },
        }
      : {}),
    ...(x.lake ? { lake: x.lake } : {}),
    checkers,
    anomalies: {
      lost: main?.lost ?? attr?.lost ?? [],
      unseen: eo?.unseen ?? lin?.unseen.map((u) => u.eventId) ?? [],
      duplicated: main?.duplicated ?? attr?.duplicated ?? [],
      unexpected: main?.unexpected ?? attr?.unexpected ?? [],
      ...(attr ? { mismatch: attr.mismatch ?? [] } : {}),
      reordered: [
        ...(ord?.reordered ?? []),
        ...(ord?.usersOnSeveralPartitions ?? []).map((u) => ({ user: u, reason: 'on several partitions' })),
      ],
    },
    latency: { e2e: lat?.e2e ?? null, ack: lat?.ack ?? null, series: lat?.series ?? [], recovery: lat?.recovery ?? [] },
    throughput: lat?.throughput ?? null,
    slo: c?.results.slo ?? null,
    faults: x.history.faults.map((f) => ({
      faultId: f.faultId,
      fault: f.fault,
      target: f.target,
      startedAt: new Date(f.startedAt).toISOString(),
      healedAt: f.healedAt === undefined ? null : new Date(f.healedAt).toISOString(),
      ...(f.detail === undefined ? {} : { detail: { ...f.detail } }),
    })),
    load: x.load ?? null,
    faultSchedule: x.faults ?? null,
    drain: x.drain ?? null,
    lag: x.lag ?? null,
    timeline: Object.fromEntries(Object.entries(x.timeline).map(([k, v]) => [k, new Date(v).toISOString()])),
    notes: x.notes,
    error: x.harnessError ?? null,
    details: c ?? null,
    files: {
      result: `${x.outDir}/result.json`,
      history: `${x.outDir}/history.json`,
      anomalies: `${x.outDir}/anomalies.json`,
      sutLogs: `${x.outDir}/sut`,
      report: `${x.outDir}/report.html`,
      reportMarkdown: `${x.outDir}/report.md`,
    },
  };
}

/**
 * Every threshold judged: the main SLO checker's, then the lake-visible ones (`lake_latency`, judged over the lake's
 * history by the `lake:lake-slo` checker, whose result is in the details).
 */
export function judgedThresholds(r: Pick<RunResult, 'slo' | 'details'>): ThresholdResult[] {
  const lake = r.details?.results['lake:lake-slo'] as SloResult | undefined;
  return [...((r.slo as SloResult | null)?.thresholds ?? []), ...(lake?.thresholds ?? [])];
}

/** A few lines for a terminal. */
export function summaryText(r: RunResult): string {
  const n = r.counts;
  const l = r.latency.e2e;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)}ms`);
  const lines = [
    `${r.name}: ${r.verdict.toUpperCase()} (exit ${r.exitCode})`,
    `  offered ${n.offered}  acked ${n.acked}  failed ${n.failed}  unknown ${n.unknown}  observed ${n.observed}`,
    `  lost ${n.lost}${n.unseen ? `  unseen ${n.unseen}` : ''}  duplicated ${n.duplicated}  unexpected ${n.unexpected}  reordered ${n.reordered}  undecodable ${n.undecodable}`,
    `  e2e latency p50 ${fmt(l?.p50Ms)}  p95 ${fmt(l?.p95Ms)}  p99 ${fmt(l?.p99Ms)}  max ${fmt(l?.maxMs)}`,
    ...Object.entries(r.checkers).map(
      ([k, v]) =>
        `  ${k}: ${v.valid === true ? 'ok' : v.valid === false ? `FAILED ${v.anomalyTypes.join(', ')}` : 'unknown'}${v.reason ? ` (${v.reason})` : ''}`,
    ),
    ...judgedThresholds(r)
      .filter((t) => t.ok === false)
      .map(
        (t) =>
          `  breached ${t.metric} ${t.expression}: observed ${t.observed === null ? '-' : `${Math.round(t.observed)} ${t.unit}`}, limit ${t.limit} ${t.unit}`,
      ),
    ...r.faults.map(
      (f) =>
        `  fault ${f.fault}${f.target ? ` on ${f.target}` : ''}: ${f.startedAt} .. ${f.healedAt ?? 'not healed'}${f.detail ? ` (${f.detail.summary})` : ''}`,
    ),
    ...(r.drain?.waitedFor
      ? [
          `  drain: ${r.drain.complete ? 'complete' : 'INCOMPLETE'} after ${(r.drain.waitedMs / 1000).toFixed(1)} s, waited for ${r.drain.waitedFor}${r.drain.lagAtEnd === null ? '' : `; lag at its end ${r.drain.lagAtEnd}`}`,
        ]
      : []),
    ...r.notes.map((x) => `  note: ${x}`),
    ...(r.error
      ? [
          `  harness error in phase ${r.error.phase ?? '?'} [${r.error.code}]: ${r.error.message}`,
          ...(r.error.logs?.sut ?? []).map((l) => `  log ${l.file}`),
        ]
      : []),
    `  seed ${r.seed}; result ${r.files.result}`,
  ];
  if (r.exitCode !== 0) lines.push(`  replay: ${r.replay}`);
  return lines.join('\n');
}
