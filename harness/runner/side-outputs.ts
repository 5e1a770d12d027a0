/**
 * What a run judges beside its output topic, after the drain:
 *
 * - **The dead-letter queue** (`sut.dlq`, or the reference pipeline's own when `events.bad` is set): the DLQ topic read
 *   back read_committed, every dead letter traced to its event id and reason (contracts/dlq.ts), judged by the
 *   `accounting` checker against the history's bad bitset.
 * - **A lake** (`output.lake`; the reference pipeline's attributions table with `--sut reference`): once its commits
 *   go quiet, the committed rows read with DuckDB (contracts/lake.ts) and judged by a second instance of the run's
 *   contract over a second history that shares the main one's outcomes; its checkers are named `lake:<name>`, and the
 *   rows' visibility times give lake-visible latency (`lake-slo`). For the reference pipeline, the lake's analytics
 *   must equal the model's (`lake-analytics`).
 */
import { join } from 'node:path';
import type { Event } from '../../generators/event.ts';
import { type Checker, lakeSlo, order } from '../checkers/index.ts';
import { expectedAttributionRecords } from '../contracts/attribution.ts';
import {
  type ContractFinish,
  type ContractRun,
  createDlqCollector,
  type DlqCollector,
  type DlqSpec,
  referenceDlq,
} from '../contracts/index.ts';
import { type LakeOutputSpec, type LakeProblem, lakeRoot, readLake, referenceLakeOutput } from '../contracts/lake.ts';
import { checkLakeAnalytics } from '../contracts/lake-analytics.ts';
import { listLake } from '../contracts/lake-commits.ts';
import { History } from '../history/index.ts';
import { readTopic } from '../kafka/read-topic.ts';
import type { Progress } from '../util/progress.ts';
import { recordObserved } from './observer-decode.ts';
import type { Scenario } from './scenario.ts';

/** The DLQ a run reads: the scenario's, else the reference pipeline's when bad events are mixed in. */
export function dlqOf(sc: Scenario, inputTopic: string, topicSuffix: string): DlqSpec | undefined {
  // The reference pipeline dead-letters to `<input>.dlq` (its env contract), whatever topic the scenario names.
  if (sc.sut.command === 'reference' && (sc.sut.dlq || sc.events.bad !== undefined)) {
    const ref = referenceDlq(inputTopic);
    return sc.sut.dlq ? { ...ref, reasonHeader: sc.sut.dlq.reasonHeader } : ref;
  }
  if (sc.sut.dlq) return { ...sc.sut.dlq, topic: `${sc.sut.dlq.topic}${topicSuffix}` };
  return undefined;
}

/** The lake a run reads: the scenario's `output.lake`, else the reference pipeline's attributions table. */
export function lakeOf(sc: Scenario): LakeOutputSpec | undefined {
  return sc.output.lake ?? (sc.sut.command === 'reference' ? referenceLakeOutput() : undefined);
}

/** Reads the whole DLQ topic (after the drain) into a collector. */
export async function readDlq(bootstrap: string, spec: DlqSpec): Promise<DlqCollector> {
  const collector = createDlqCollector(spec);
  for (const r of await readTopic(bootstrap, spec.topic)) {
    collector.decode({
      key: r.key?.toString('utf8'),
      value: r.value,
      headers: r.headers,
      partition: r.partition,
      offset: Number(r.offset),
      time: Date.now(),
    });
  }
  return collector;
}

/** What the lake phase found, for result.json. */
export interface LakeSummary {
  readonly root: string;
  readonly rows: number;
  readonly files: number;
  readonly commits: number;
  readonly problems: readonly LakeProblem[];
  /** How long the harness waited for the lake's commits to go quiet. */
  readonly waitedMs: number;
  readonly quiet: boolean;
}

/** Waits until the lake's committed file list stops changing for `quietMs` (or `timeoutMs`). */
async function lakeQuiet(spec: LakeOutputSpec, root: string, quietMs: number, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  let last = '';
  let changedAt = started;
  for (;;) {
    const l = listLake(spec, root);
    const now = `${l.refs.length}/${l.commits.length}`;
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    }
    if (Date.now() - changedAt >= quietMs) return true;
    if (Date.now() - started >= timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface LakeJudgement {
  readonly summary: LakeSummary;
  /** Checkers over the lake's history (named `lake:<name>`), run beside the run's own. */
  readonly checkers: Checker[];
  readonly history: History;
  readonly contract: ContractRun;
}

/** Reads the lake once quiet and prepares its checkers (`contract` is a fresh instance of the run's contract). */
export async function judgeLake(x: {
  sc: Scenario;
  spec: LakeOutputSpec;
  lakeDir: string;
  history: History;
  contract: ContractRun;
  finish: Omit<ContractFinish, 'history'>;
  progress: Progress;
}): Promise<LakeJudgement> {
  const { sc, spec, contract } = x;
  const root = lakeRoot(spec, x.lakeDir);
  const quietMs = Math.max(3000, Math.min(sc.drain.quietMs, 10_000));
  x.progress({ phase: 'run', message: `lake: waiting for ${root}'s commits to be quiet for ${quietMs} ms` });
  const waitStart = Date.now();
  const quiet = await lakeQuiet(spec, root, quietMs, x.finish.drainComplete ? sc.drain.timeoutMs : quietMs);
  const waitedMs = Date.now() - waitStart;
  const lakeHistory = new History();
  lakeHistory.outcomes.merge(x.history.outcomes);
  x.progress({
    phase: 'run',
    message: `lake: ${quiet ? 'quiet' : 'still committing'} after ${(waitedMs / 1000).toFixed(1)} s; reading its committed rows`,
  });
  let rowsRead = 0;
  let told = Date.now();
  const read = await readLake(spec, x.lakeDir, {
    onRows: (rows) => {
      for (const r of rows) recordObserved(lakeHistory, (o) => contract.decode(o), undefined, r);
      rowsRead += rows.length;
      if (Date.now() - told >= 10_000) {
        told = Date.now();
        x.progress({ phase: 'run', message: `lake: ${rowsRead} committed row(s) read` });
      }
    },
  });
  x.progress({
    phase: 'run',
    message: `lake: judging ${read.rowCount} row(s) of ${read.files.length} file(s) under the ${contract.name} contract`,
  });
  // The pipeline's committed input offsets say nothing about what its lake sink committed: after an incomplete drain
  // (or a lake still committing), a missing row is unseen, never lost.
  await contract.finish({
    ...x.finish,
    history: lakeHistory,
    drainComplete: x.finish.drainComplete && quiet,
    committed: {},
  });
  lakeHistory.record({
    kind: 'drain',
    time: Date.now(),
    complete: x.finish.drainComplete && quiet,
    consumed: [...(contract.consumedPast?.() ?? [])],
  });
  const onLake = (c: Checker): Checker => ({ name: `lake:${c.name}`, check: () => c.check(lakeHistory) });
  const checkers = [
    ...contract.checkers().map(onLake),
    ...(spec.keyColumn ? [onLake(order())] : []),
    ...(sc.slo.lake_latency ? [onLake(lakeSlo(sc.slo, { path: 'slo' }))] : []),
  ];
  if (sc.sut.command === 'reference' && sc.sut.contract === 'attribution') {
    x.progress({ phase: 'run', message: "lake: the analytics' aggregates in DuckDB against the model's" });
    const events = (await x.finish.input()).flatMap((r) => (r.event ? [r.event as Event] : []));
    const analytics = await checkLakeAnalytics(x.lakeDir, expectedAttributionRecords(events), {
      drainComplete: x.finish.drainComplete && quiet,
    });
    checkers.push({ name: 'lake-analytics', check: () => analytics });
  }
  return {
    summary: {
      root: read.root,
      rows: read.rowCount,
      files: read.files.length,
      commits: read.commits.length,
      problems: read.problems,
      waitedMs,
      quiet,
    },
    checkers,
    history: lakeHistory,
    contract,
  };
}

/** The lake directory the SUT writes (STREAMPROOF_LAKE_DIR). */
export function lakeDirOf(outDir: string): string {
  return join(outDir, 'lake');
}
